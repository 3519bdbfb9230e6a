package io.scalestack.app.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scalestack.blob.BlobStore;
import io.scalestack.imaging.ImageCodec;
import io.scalestack.imaging.RgbImage;
import io.scalestack.queue.Job;

/**
 * A photo edit as a job: the payload the web server enqueues ({@code {"userId","sourceId",
 * "resultId","mediaType","ops"}}) and what a worker does with it — read the source's bytes from
 * the blob store, decode, run the operations, encode, store the result under the result's id.
 *
 * <p>Idempotent, so that at-least-once delivery is harmless: the result's id is chosen by the web
 * server before the job exists, and the same source and operations give the same bytes under the
 * same key, however many deliveries run. A job that cannot succeed (its source is gone or not an
 * image, its operations are invalid) fails each attempt with the same message and ends in the
 * dead letters. Stateless and thread-safe.
 */
public final class PhotoEditJob {

  /** The job type. */
  public static final String TYPE = "photo.edit";

  private static final float JPEG_QUALITY = 0.9f;

  private PhotoEditJob() {}

  /** The blob key of a photo's bytes. */
  static String blobKey(long photoId) {
    return "photos/" + photoId;
  }

  /** The payload of an edit making {@code resultId} from {@code sourceId}. */
  static String payload(long userId, long sourceId, long resultId, String mediaType, EditOps ops) {
    ObjectNode payload = Json.MAPPER.createObjectNode()
        .put("userId", userId)
        .put("sourceId", sourceId)
        .put("resultId", resultId)
        .put("mediaType", mediaType);
    payload.set("ops", ops.json());
    return payload.toString();
  }

  /**
   * Runs the edit {@code job} describes; returns the result as JSON ({@code {"resultPhotoId",
   * "width","height","bytes"}}).
   *
   * @throws IllegalArgumentException if the payload or its operations are invalid
   * @throws IllegalStateException if the source photo is not in the blob store
   * @throws io.scalestack.imaging.ImageException if the source is not a readable image
   */
  public static String run(Job job, BlobStore blobs, ImageCodec codec) {
    if (!TYPE.equals(job.type())) {
      throw new IllegalArgumentException("type: " + JsonRequest.quote(job.type()) + " (expected: " + TYPE + ")");
    }
    JsonNode payload;
    try {
      payload = Json.MAPPER.readTree(job.payload());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("payload: not JSON (" + e.getOriginalMessage() + ")", e);
    }
    long sourceId = id(payload, "sourceId");
    long resultId = id(payload, "resultId");
    String mediaType = payload.path("mediaType").asText("");
    if (!mediaType.equals("image/jpeg") && !mediaType.equals("image/png")) {
      throw new IllegalArgumentException("payload.mediaType: " + JsonRequest.quote(mediaType)
          + " (expected: image/jpeg or image/png)");
    }
    byte[] source = blobs.get(blobKey(sourceId))
        .orElseThrow(() -> new IllegalStateException("photo " + sourceId + ": not in the blob store"));
    RgbImage image = codec.decode(source);
    EditOps ops = EditOps.parse(payload.get("ops"), image.width(), image.height(), codec.maxPixels());
    RgbImage edited = ops.apply(image);
    byte[] bytes = mediaType.equals("image/jpeg") ? codec.encodeJpeg(edited, JPEG_QUALITY) : codec.encodePng(edited);
    blobs.put(blobKey(resultId), bytes);
    return Json.MAPPER.createObjectNode()
        .put("resultPhotoId", Long.toString(resultId))
        .put("width", edited.width())
        .put("height", edited.height())
        .put("bytes", bytes.length)
        .toString();
  }

  private static long id(JsonNode payload, String name) {
    JsonNode value = payload.get(name);
    if (value == null || !value.canConvertToLong() || !value.isIntegralNumber() || value.longValue() <= 0) {
      throw new IllegalArgumentException("payload." + name + ": " + (value == null ? "missing" : value.toString())
          + " (expected: a photo id, a positive integer)");
    }
    return value.longValue();
  }
}
