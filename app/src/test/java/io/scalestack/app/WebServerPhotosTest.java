package io.scalestack.app;

import static io.scalestack.app.HttpTestClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import io.scalestack.imaging.ImageCodec;
import io.scalestack.imaging.RgbImage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The photo service end to end on real engines: a web server and a worker process's {@link
 * PhotoWorker} (in this JVM) sharing a blob directory and a Redis Streams queue. Uploads are
 * checked (size, kind, pixel count, completeness) before anything is stored; an edit is a job the
 * worker runs; a job that cannot succeed ends in the dead letters, visible through the API.
 */
class WebServerPhotosTest {

  private static final String PASSWORD = "correct horse battery";
  private static final int MAX_PHOTO_BYTES = 1024 * 1024;
  private static final HttpTestClient http = new HttpTestClient();
  private static final ImageCodec codec = ImageCodec.defaults();

  @TempDir Path blobs;

  private final PostgresServer postgres = TestEngines.postgres();
  private final RedisServer redis = TestEngines.redis();
  private final String queue = "photos-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
  private WebServer web;
  private PhotoWorker worker;

  /** The RabbitMQ broker of the queue, or null for Redis Streams. */
  String broker() {
    return null;
  }

  @BeforeEach
  void start() {
    String broker = broker();
    WebServer.Builder webBuilder = WebServer.builder().memberName("web-1").jdbcUrl(postgres.jdbcUrl())
        .dbUser(postgres.user()).dbPassword(postgres.password()).redisUri(redis.uri()).poolSize(4).bcryptCost(4)
        .blobDirectory(blobs).photoQueue(queue).photoLimits(MAX_PHOTO_BYTES, 4_000_000);
    PhotoWorker.Builder workerBuilder = PhotoWorker.builder().memberName("worker-1").redisUri(redis.uri()).queue(queue)
        .blobDirectory(blobs).maxPixels(4_000_000).leaseTimeout(Duration.ofSeconds(2)).retries(3, Duration.ofMillis(50));
    if (broker != null) {
      webBuilder.photoQueueBroker(broker);
      workerBuilder.broker(broker);
    }
    web = webBuilder.build().start();
    worker = workerBuilder.build().start();
  }

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.close();
    }
    if (web != null) {
      web.close();
    }
  }

  private String logIn() {
    String username = "p" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    assertThat(http.post(web, "/api/signup", json("username", username, "password", PASSWORD, "displayName", "P"))
        .status()).isEqualTo(201);
    return http.post(web, "/api/login", json("username", username, "password", PASSWORD)).sessionCookie();
  }

  private static RgbImage gradient(int w, int h) {
    byte[] rgb = new byte[3 * w * h];
    for (int i = 0; i < w * h; i++) {
      rgb[3 * i] = (byte) (i % w * 255 / w);
      rgb[3 * i + 1] = (byte) (i / w * 255 / h);
      rgb[3 * i + 2] = (byte) (i * 7);
    }
    return RgbImage.ofInterleaved(w, h, rgb);
  }

  private Reply upload(byte[] bytes, String contentType, String cookie) {
    return http.send(HttpRequest.newBuilder(HttpTestClient.uri(web, "/api/photos")).timeout(Duration.ofSeconds(20))
        .header("Content-Type", contentType).header("Cookie", cookie)
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build());
  }

  private byte[] photoBytes(String id) throws Exception {
    HttpResponse<byte[]> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(HttpTestClient.uri(web, "/api/photos/" + id)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  private JsonNode awaitJob(String jobId, String state, String cookie) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      last[0] = http.get(web, "/api/jobs/" + jobId, cookie).json();
      return last[0].path("state").asText().equals(state);
    });
    return last[0];
  }

  @Test
  void anUploadIsStoredAsItCameAndAnEditIsAJobWhoseResultIsTheEditedPhoto() throws Exception {
    String cookie = logIn();
    RgbImage original = gradient(64, 48);
    byte[] png = codec.encodePng(original);

    Reply uploaded = upload(png, "image/png", cookie);
    assertThat(uploaded.status()).as(uploaded.body()).isEqualTo(201);
    String id = uploaded.json().get("id").asText();
    assertThat(uploaded.json().get("width").asInt()).isEqualTo(64);
    assertThat(uploaded.json().get("mediaType").asText()).isEqualTo("image/png");
    assertThat(photoBytes(id)).isEqualTo(png);
    Reply fetched = http.get(web, "/api/photos/" + id);
    assertThat(fetched.header("Content-Type")).isEqualTo("image/png");
    assertThat(fetched.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");

    Reply edit = http.post(web, "/api/photos/" + id + "/edits", """
        {"ops":[{"op":"crop","x":4,"y":2,"w":40,"h":30},{"op":"blur","sigma":1.5},{"op":"sharpen","sigma":1,"amount":0.5},{"op":"resize","w":20,"h":15}]}""",
        cookie);
    assertThat(edit.status()).as(edit.body()).isEqualTo(202);
    String jobId = edit.json().get("jobId").asText();
    String resultId = edit.json().get("resultPhotoId").asText();
    JsonNode done = awaitJob(jobId, "done", cookie);

    assertThat(done.get("attempts").asInt()).isEqualTo(1);
    assertThat(done.get("resultPhotoId").asText()).isEqualTo(resultId);
    RgbImage expected = original.crop(4, 2, 40, 30).gaussianBlur(1.5).sharpen(1, 0.5).resize(20, 15);
    assertThat(codec.decode(photoBytes(resultId)).toInterleaved()).isEqualTo(expected.toInterleaved());
    JsonNode versions = http.get(web, "/api/photos/" + id + "/versions", cookie).json().get("versions");
    assertThat(versions).hasSize(1);
    assertThat(versions.get(0).get("id").asText()).isEqualTo(resultId);
    assertThat(versions.get(0).get("width").asInt()).isEqualTo(20);
    assertThat(versions.get(0).get("job").get("state").asText()).isEqualTo("done");
    assertThat(http.get(web, "/api/photos", cookie).json().get("photos").get(0).get("id").asText()).isEqualTo(id);
  }

  @Test
  void badUploadsGetOneClearClientErrorAndNothingIsStored() throws Exception {
    String cookie = logIn();
    byte[] png = codec.encodePng(gradient(64, 64));

    Reply text = upload("hello, world\n".getBytes(StandardCharsets.US_ASCII), "image/png", cookie);
    assertThat(text.status()).isEqualTo(415);
    assertThat(text.json().get("error").asText()).startsWith("image: not an image, starts with 68 65 6c 6c");

    Reply truncated = upload(Arrays.copyOf(png, png.length / 2), "image/png", cookie);
    assertThat(truncated.status()).isEqualTo(422);
    assertThat(truncated.json().get("error").asText()).isEqualTo(
        "image: truncated PNG (expected: a complete PNG, JPEG, GIF or BMP file)");

    Reply bomb = upload(pngClaiming(50_000, 50_000), "image/png", cookie);
    assertThat(bomb.status()).isEqualTo(422);
    assertThat(bomb.json().get("error").asText()).isEqualTo(
        "image: PNG of 50000x50000 = 2500000000 pixels (expected: at most 4000000 pixels)");

    Reply json = upload(png, "application/json", cookie);
    assertThat(json.status()).isEqualTo(415);
    assertThat(json.json().get("error").asText()).startsWith("Content-Type: 'application/json' (expected: image/png");

    Reply anonymous = http.send(HttpRequest.newBuilder(HttpTestClient.uri(web, "/api/photos"))
        .header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(png)).build());
    assertThat(anonymous.status()).isEqualTo(401);

    // a body without a length, over the limit: read up to the limit and no further
    Reply chunked = http.send(HttpRequest.newBuilder(HttpTestClient.uri(web, "/api/photos"))
        .header("Content-Type", "image/png").header("Cookie", cookie)
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ZeroStream(3L * MAX_PHOTO_BYTES))).build());
    assertThat(chunked.status()).isEqualTo(413);
    assertThat(chunked.json().get("error").asText()).isEqualTo("The photo is larger than " + MAX_PHOTO_BYTES + " bytes.");

    assertThat(http.get(web, "/api/photos", cookie).json().get("photos")).isEmpty();
    try (var stored = Files.walk(blobs)) {
      assertThat(stored.filter(Files::isRegularFile)).isEmpty();
    }
    // and the service goes on: a good upload, and an edit the worker runs
    Reply good = upload(png, "image/png", cookie);
    assertThat(good.status()).isEqualTo(201);
    Reply edit = http.post(web, "/api/photos/" + good.json().get("id").asText() + "/edits",
        "{\"ops\":[{\"op\":\"blur\",\"sigma\":2}]}", cookie);
    awaitJob(edit.json().get("jobId").asText(), "done", cookie);
  }

  @Test
  void aOneGigabyteUploadIsRefusedFromItsLengthBeforeItsBodyIsRead() throws Exception {
    String cookie = logIn();
    try (Socket socket = new Socket(web.address().getAddress(), web.address().getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/photos HTTP/1.1\r\nHost: test\r\nContent-Type: image/jpeg\r\nCookie: " + cookie
          + "\r\nContent-Length: 1073741824\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[64 * 1024]); // the first of the gigabyte; the answer comes before the rest
      out.flush();
      String head = readHead(socket.getInputStream());
      assertThat(head).startsWith("HTTP/1.1 413 ");
      assertThat(head.toLowerCase()).contains("connection: close");
    }
    assertThat(http.get(web, "/health").status()).isEqualTo(200);
  }

  @Test
  void editsThatCannotSucceedAreRefusedBeforeTheyAreQueued() {
    String cookie = logIn();
    String id = upload(codec.encodePng(gradient(64, 48)), "image/png", cookie).json().get("id").asText();

    Reply sigma = http.post(web, "/api/photos/" + id + "/edits", "{\"ops\":[{\"op\":\"blur\",\"sigma\":-1}]}", cookie);
    assertThat(sigma.status()).isEqualTo(400);
    assertThat(sigma.json().get("field").asText()).isEqualTo("ops[0].sigma");
    assertThat(sigma.json().get("error").asText()).isEqualTo("ops[0].sigma: -1 (expected: a number in (0, 50])");

    Reply crop = http.post(web, "/api/photos/" + id + "/edits",
        "{\"ops\":[{\"op\":\"resize\",\"w\":32,\"h\":24},{\"op\":\"crop\",\"x\":0,\"y\":0,\"w\":40,\"h\":10}]}", cookie);
    assertThat(crop.status()).isEqualTo(400);
    assertThat(crop.json().get("error").asText()).isEqualTo("ops[1].w: 40 (expected: an integer in 1..32, so that x + w <= 32)");

    Reply unknown = http.post(web, "/api/photos/" + id + "/edits", "{\"ops\":[{\"op\":\"sepia\"}]}", cookie);
    assertThat(unknown.json().get("error").asText()).isEqualTo("ops[0].op: 'sepia' (expected: one of crop, resize, sharpen, blur)");
    assertThat(http.post(web, "/api/photos/" + id + "/edits", "{\"ops\":[]}", cookie).status()).isEqualTo(400);

    // someone else's photo and jobs are not theirs to edit or see
    String other = logIn();
    assertThat(http.post(web, "/api/photos/" + id + "/edits", "{\"ops\":[{\"op\":\"blur\",\"sigma\":1}]}", other)
        .status()).isEqualTo(404);
    String jobId = http.post(web, "/api/photos/" + id + "/edits", "{\"ops\":[{\"op\":\"blur\",\"sigma\":1}]}", cookie)
        .json().get("jobId").asText();
    assertThat(http.get(web, "/api/jobs/" + jobId, other).status()).isEqualTo(404);
    assertThat(http.get(web, "/api/photos/" + id + "/versions", other).status()).isEqualTo(404);
  }

  @Test
  void aJobThatCannotSucceedEndsDeadWithItsErrorAndOthersAreDone() throws Exception {
    String cookie = logIn();
    String broken = upload(codec.encodePng(gradient(32, 32)), "image/png", cookie).json().get("id").asText();
    String fine = upload(codec.encodePng(gradient(32, 32)), "image/png", cookie).json().get("id").asText();
    // the stored bytes of one photo go bad after the upload was checked (a disk, an operator)
    Files.writeString(blobs.resolve("photos").resolve(broken), "not a png any more");

    String poison = http.post(web, "/api/photos/" + broken + "/edits", "{\"ops\":[{\"op\":\"blur\",\"sigma\":1}]}", cookie)
        .json().get("jobId").asText();
    String good = http.post(web, "/api/photos/" + fine + "/edits", "{\"ops\":[{\"op\":\"blur\",\"sigma\":1}]}", cookie)
        .json().get("jobId").asText();

    JsonNode dead = awaitJob(poison, "dead", cookie);
    assertThat(dead.get("attempts").asInt()).isEqualTo(3);
    assertThat(dead.get("error").asText()).contains("image: not an image, starts with 6e 6f 74");
    assertThat(awaitJob(good, "done", cookie).get("attempts").asInt()).isEqualTo(1);
    assertThat(http.get(web, "/api/photos/" + dead.get("resultPhotoId").asText()).status()).isEqualTo(404);
  }

  private static String readHead(InputStream in) throws Exception {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** A PNG whose header claims width × height, valid CRCs and a tiny IDAT: a decompression bomb's shape. */
  private static byte[] pngClaiming(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    out.writeBytes(chunk("IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2).array()));
    Deflater deflater = new Deflater();
    deflater.setInput(new byte[64]);
    deflater.finish();
    byte[] idat = new byte[128];
    int n = deflater.deflate(idat);
    out.writeBytes(chunk("IDAT", Arrays.copyOf(idat, n)));
    out.writeBytes(chunk("IEND", new byte[0]));
    return out.toByteArray();
  }

  private static byte[] chunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length);
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    b.put(typeBytes).put(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** {@code length} zero bytes, made as they are read. */
  private static final class ZeroStream extends InputStream {
    private long left;

    ZeroStream(long length) {
      this.left = length;
    }

    @Override
    public int read() {
      return left-- > 0 ? 0 : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (left <= 0) {
        return -1;
      }
      int n = (int) Math.min(len, left);
      Arrays.fill(b, off, off + n, (byte) 0);
      left -= n;
      return n;
    }
  }
}
