package io.scalestack.app.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scalestack.app.internal.PhotoRepository.Photo;
import io.scalestack.blob.BlobStore;
import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.SnowflakeIds;
import io.scalestack.imaging.ImageCodec;
import io.scalestack.imaging.ImageException;
import io.scalestack.queue.JobQueue;
import io.scalestack.queue.JobStatus;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The photo endpoints. An upload is checked here — its size before it is read, its format from
 * its bytes (never from its {@code Content-Type}), its pixel count from its header before any
 * pixel is decoded, then a whole decode so that a truncated or corrupt file is refused now rather
 * than by a worker later — and stored as it came in the blob store, its row on the owner's shard.
 * An edit is checked against the photo's size, given the id of its result, written as a pending
 * row and put on the queue; a worker does the rest. This server keeps no photo: the bytes are in
 * the blob store, the rows in PostgreSQL, the jobs in the queue.
 *
 * <ul>
 *   <li>{@code POST /api/photos} (the image bytes): 201 {@code {"id","mediaType","width","height","bytes"}}
 *   <li>{@code GET /api/photos}: the caller's uploads, newest first
 *   <li>{@code GET /api/photos/{id}}: the bytes, to anyone (a photo's URL is public and never
 *       changes: an edit makes a new photo)
 *   <li>{@code GET /api/photos/{id}/versions}: the caller's edited versions of the photo, with their jobs
 *   <li>{@code POST /api/photos/{id}/edits {"ops":[…]}}: 202 {@code {"jobId","resultPhotoId"}}
 *   <li>{@code GET /api/jobs/{id}}: the caller's job: {@code {"state","attempts","error","resultPhotoId"}}
 * </ul>
 *
 * <p>Photo ids are sent as JSON strings: they are 64-bit Snowflake ids, beyond the 2^53 that a
 * JavaScript number holds exactly. Decoding a large image takes memory (about 3 to 4 bytes per
 * pixel), so at most {@code decodePermits} uploads are decoded at once; others wait up to 30 s,
 * then get 503. Thread-safe.
 */
final class PhotoApi {

  /** Limits of the photo endpoints. */
  record Limits(int maxPhotoBytes, long maxPixels, int decodePermits) {}

  private static final int LIST_LIMIT = 100;
  private static final long MAX_DISCARD_BYTES = 64L * 1024 * 1024;

  private final PhotoRepository photos;
  private final BlobStore blobs;
  private final JobQueue queue;
  private final SnowflakeIds ids;
  private final UserApi users;
  private final ImageCodec codec;
  private final Limits limits;
  private final Semaphore decoding;
  private final int maxRequestBodyBytes;
  private final String assetBase;
  private final io.scalestack.cache.TieredCache<Photo> photoCache; // null: no cache tier

  PhotoApi(PhotoRepository photos, BlobStore blobs, JobQueue queue, SnowflakeIds ids, UserApi users, Limits limits,
      int maxRequestBodyBytes, String assetBase, io.scalestack.cache.TieredCache<Photo> photoCache) {
    this.assetBase = assetBase;
    this.photoCache = photoCache;
    this.photos = photos;
    this.blobs = blobs;
    this.queue = queue;
    this.ids = ids;
    this.users = users;
    this.limits = limits;
    this.codec = ImageCodec.builder().maxInputBytes(limits.maxPhotoBytes()).maxPixels(limits.maxPixels()).build();
    this.decoding = new Semaphore(limits.decodePermits(), true);
    this.maxRequestBodyBytes = maxRequestBodyBytes;
  }

  /** {@code /api/photos}: POST uploads, GET lists the caller's uploads. */
  void upload(HttpServletRequest request, HttpServletResponse response) throws Exception {
    long userId = UserApi.loggedInUser(request);
    requireImageMediaType(request.getContentType());
    long declared = request.getContentLengthLong();
    if (declared > limits.maxPhotoBytes()) {
      throw tooLarge();
    }
    byte[] bytes = request.getInputStream().readNBytes(limits.maxPhotoBytes() + 1);
    if (bytes.length > limits.maxPhotoBytes()) {
      // A body of unknown length, too large: read and drop what follows (bounded) before
      // answering. Closing with unread bytes makes the kernel answer them with a reset, which can
      // destroy the 413 before the client reads it (nginx's lingering close, for the same reason).
      discard(request.getInputStream(), Math.min(4L * limits.maxPhotoBytes(), MAX_DISCARD_BYTES));
      throw tooLarge();
    }
    if (bytes.length == 0) {
      throw ApiException.badRequest(null, "The request body is empty (expected: the bytes of a PNG, JPEG, GIF or BMP image).");
    }
    String mediaType = ImageCodec.mediaType(bytes);
    if (mediaType.equals("application/octet-stream") || mediaType.equals("image/webp")) {
      // the same sentence the codec gives, with the status that says "not a kind we take"
      throw new ApiException(HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, inspectMessage(bytes), null);
    }
    ImageCodec.ImageInfo info = inspect(bytes);
    long id = ids.next();
    // the bytes first: a row never names bytes that are not there (a crash in between leaves
    // bytes no row names, which cost space and nothing else)
    blobs.put(PhotoEditJob.blobKey(id), bytes);
    ConsistencyToken token = users.token(request);
    Photo photo = photos.insert(token, new Photo(id, userId, null, null, null, info.mediaType(), info.width(),
        info.height(), (long) bytes.length, null));
    users.remember(request, token);
    response.setHeader("Location", "/api/photos/" + id);
    Json.write(response, HttpServletResponse.SC_CREATED, view(photo));
  }

  void list(HttpServletRequest request, HttpServletResponse response) throws Exception {
    long userId = UserApi.loggedInUser(request);
    List<Map<String, Object>> found = new ArrayList<>();
    for (Photo photo : photos.uploads(users.token(request), userId, LIST_LIMIT)) {
      found.add(view(photo));
    }
    Json.write(response, HttpServletResponse.SC_OK, Map.of("photos", found));
  }

  /** {@code /api/photos/{id}}, {@code /api/photos/{id}/versions}: GET. */
  void get(HttpServletRequest request, HttpServletResponse response) throws Exception {
    String[] path = path(request);
    long id = photoId(path[0]);
    if (path.length == 1) {
      bytes(id, request, response);
    } else if (path.length == 2 && path[1].equals("versions")) {
      versions(id, request, response);
    } else {
      throw notFound(request);
    }
  }

  /** {@code POST /api/photos/{id}/edits {"ops":[…]}}. */
  void post(HttpServletRequest request, HttpServletResponse response) throws Exception {
    String[] path = path(request);
    if (path.length != 2 || !path[1].equals("edits")) {
      throw notFound(request);
    }
    long sourceId = photoId(path[0]);
    long userId = UserApi.loggedInUser(request);
    ObjectNode body = JsonRequest.object(request, maxRequestBodyBytes, List.of("ops"));
    ConsistencyToken token = users.token(request);
    Photo source = find(token, userId, sourceId).orElseThrow(() -> noSuchPhoto(sourceId));
    EditOps ops;
    try {
      ops = EditOps.parse(body.get("ops"), source.width(), source.height(), limits.maxPixels());
    } catch (EditOps.Invalid e) {
      throw ApiException.badRequest(e.field(), e.getMessage());
    }
    // a JPEG stays a JPEG; anything else becomes a PNG (lossless, and every browser shows it)
    String mediaType = source.mediaType().equals("image/jpeg") ? "image/jpeg" : "image/png";
    long resultId = ids.next();
    String jobId = queue.enqueue(PhotoEditJob.TYPE, PhotoEditJob.payload(userId, sourceId, resultId, mediaType, ops));
    // the job first, then the row that names it: a worker may finish before the row is written,
    // which only means the version is done when it is first listed
    photos.insert(token, new Photo(resultId, userId, sourceId, jobId, ops.json().toString(), mediaType, ops.width(),
        ops.height(), null, null));
    users.remember(request, token);
    Map<String, Object> accepted = new LinkedHashMap<>();
    accepted.put("jobId", jobId);
    accepted.put("resultPhotoId", Long.toString(resultId));
    response.setHeader("Location", "/api/jobs/" + jobId);
    Json.write(response, HttpServletResponse.SC_ACCEPTED, accepted);
  }

  /** {@code GET /api/jobs/{id}}: the caller's own jobs only; anyone else's is a 404. */
  void job(HttpServletRequest request, HttpServletResponse response) throws Exception {
    long userId = UserApi.loggedInUser(request);
    String[] path = path(request);
    if (path.length != 1 || !path[0].matches("[A-Za-z0-9_-]{1,64}")) {
      throw ApiException.badRequest("id", "id: " + JsonRequest.quote(String.join("/", path)) + " (expected: a job id)");
    }
    String jobId = path[0];
    Optional<Photo> version = photos.byJob(users.token(request), userId, jobId);
    Optional<JobStatus> status = version.isEmpty() ? Optional.empty() : queue.status(jobId);
    if (status.isEmpty()) {
      throw new ApiException(HttpServletResponse.SC_NOT_FOUND, "id: " + JsonRequest.quote(jobId)
          + " (expected: a job of yours)", "id");
    }
    Json.write(response, HttpServletResponse.SC_OK, jobView(status.get(), version.get()));
  }

  private void bytes(long id, HttpServletRequest request, HttpServletResponse response) throws IOException {
    Optional<byte[]> found = blobs.get(PhotoEditJob.blobKey(id));
    if (found.isEmpty()) {
      throw new ApiException(HttpServletResponse.SC_NOT_FOUND, "photo " + id
          + ": not found (an edited version appears when its job is done)", "id");
    }
    byte[] bytes = found.get();
    String etag = "\"" + id + "\"";
    // immutable: a photo's bytes never change under its id (an edit makes a new id), so caches
    // and the CDN edge may keep it as long as they like, and never need to revalidate
    response.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    response.setHeader("ETag", etag);
    if (etag.equals(request.getHeader("If-None-Match"))) {
      response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
      return;
    }
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType(ImageCodec.mediaType(bytes));
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
  }

  private void versions(long id, HttpServletRequest request, HttpServletResponse response) throws Exception {
    long userId = UserApi.loggedInUser(request);
    ConsistencyToken token = users.token(request);
    find(token, userId, id).orElseThrow(() -> noSuchPhoto(id));
    List<Map<String, Object>> found = new ArrayList<>();
    for (Photo version : photos.versions(token, userId, id)) {
      Map<String, Object> view = view(version);
      queue.status(version.jobId()).ifPresent(status -> view.put("job", jobView(status, version)));
      found.add(view);
    }
    Json.write(response, HttpServletResponse.SC_OK, Map.of("versions", found));
  }

  /**
   * The owner's photo, through the cache tier when there is one: a row never changes once written,
   * so a cached one is never stale; a photo not found is not cached (a replica may not have it yet).
   */
  private Optional<Photo> find(ConsistencyToken token, long userId, long id) throws java.sql.SQLException {
    if (photoCache == null) {
      return photos.find(token, userId, id);
    }
    try {
      return Optional.ofNullable(photoCache.get(userId + ":" + id, key -> photos.find(token, userId, id).orElse(null)));
    } catch (io.scalestack.cache.CacheLoadException e) {
      if (e.getCause() instanceof java.sql.SQLException sql) {
        throw sql;
      }
      throw e;
    }
  }

  private ImageCodec.ImageInfo inspect(byte[] bytes) throws InterruptedException {
    if (!decoding.tryAcquire(30, TimeUnit.SECONDS)) {
      throw new ApiException(HttpServletResponse.SC_SERVICE_UNAVAILABLE,
          "Too many uploads are being checked on this server; try again shortly.", null);
    }
    try {
      return codec.inspect(bytes);
    } catch (ImageException e) {
      // truncated, corrupt, or more pixels than allowed: the bytes are the problem, not their kind
      throw new ApiException(422, e.getMessage(), null);
    } finally {
      decoding.release();
    }
  }

  private String inspectMessage(byte[] bytes) {
    try {
      codec.inspect(bytes);
      return "image: not a supported image";
    } catch (ImageException e) {
      return e.getMessage();
    }
  }

  private Map<String, Object> view(Photo photo) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("id", Long.toString(photo.id()));
    // the photo's public URL: at the CDN edge when there is one (immutable, so it caches it for good)
    view.put("url", assetBase + "/api/photos/" + photo.id());
    view.put("mediaType", photo.mediaType());
    view.put("width", photo.width());
    view.put("height", photo.height());
    if (photo.bytes() != null) {
      view.put("bytes", photo.bytes());
    }
    if (photo.sourceId() != null) {
      view.put("sourceId", Long.toString(photo.sourceId()));
      view.put("jobId", photo.jobId());
      try {
        view.put("ops", Json.MAPPER.readTree(photo.ops()));
      } catch (IOException e) {
        view.put("ops", photo.ops()); // written by this class as JSON; shown as text if it is not
      }
    }
    view.put("createdAt", photo.createdAt());
    return view;
  }

  /**
   * A job as the API shows it: {@code queued}, {@code running}, {@code failed} (an attempt failed;
   * it runs again after a back-off), {@code done} or {@code dead} (given up: in the dead letters).
   */
  private static Map<String, Object> jobView(JobStatus status, Photo version) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("id", status.id());
    view.put("state", status.state().equals("retrying") ? "failed" : status.state());
    view.put("attempts", status.attempts());
    view.put("error", status.error());
    view.put("resultPhotoId", Long.toString(version.id()));
    if (status.result() != null) {
      try {
        JsonNode result = Json.MAPPER.readTree(status.result());
        view.put("result", result);
      } catch (IOException e) {
        view.put("result", status.result());
      }
    }
    return view;
  }

  private static void requireImageMediaType(String contentType) {
    String type = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    // the declared type is not trusted (the bytes are sniffed), but it must not be one an HTML form
    // can send, so that another site cannot make a logged-in browser upload
    if (!type.startsWith("image/") && !type.equals("application/octet-stream")) {
      throw new ApiException(HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, "Content-Type: "
          + (contentType == null ? "missing" : JsonRequest.quote(contentType))
          + " (expected: image/png, image/jpeg, image/gif, image/bmp or application/octet-stream)", null);
    }
  }

  private static void discard(java.io.InputStream in, long bound) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    for (long left = bound; left > 0; ) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        return;
      }
      left -= n;
    }
  }

  private ApiException tooLarge() {
    return new ApiException(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
        "The photo is larger than " + limits.maxPhotoBytes() + " bytes.", null);
  }

  private static String[] path(HttpServletRequest request) {
    String info = request.getPathInfo() == null ? "" : request.getPathInfo();
    String trimmed = info.startsWith("/") ? info.substring(1) : info;
    return trimmed.split("/", -1);
  }

  private static long photoId(String text) {
    long id;
    try {
      id = Long.parseLong(text);
    } catch (NumberFormatException e) {
      id = -1;
    }
    if (id <= 0) {
      throw ApiException.badRequest("id", "id: " + JsonRequest.quote(text) + " (expected: a photo id, a positive integer)");
    }
    return id;
  }

  private static ApiException noSuchPhoto(long id) {
    return new ApiException(HttpServletResponse.SC_NOT_FOUND, "photo " + id + ": not found among your photos", "id");
  }

  private static ApiException notFound(HttpServletRequest request) {
    return new ApiException(HttpServletResponse.SC_NOT_FOUND, "path: " + JsonRequest.quote(request.getRequestURI())
        + " (expected: /api/photos/{id}, /api/photos/{id}/versions or POST /api/photos/{id}/edits)", null);
  }
}
