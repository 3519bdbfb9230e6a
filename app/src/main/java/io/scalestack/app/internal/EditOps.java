package io.scalestack.app.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.scalestack.imaging.RgbImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The operations of a photo edit ({@code POST /api/photos/{id}/edits {"ops":[…]}}): parsed and
 * checked against the photo's size by the web server, so that a request that cannot succeed is a
 * 400 and never becomes a job; parsed again by the worker from the job's payload, which it trusts
 * no more than a request (a job written by an older server, or by hand, fails with the same
 * message and ends in the dead letters).
 *
 * <ul>
 *   <li>{@code {"op":"crop","x","y","w","h"}}: a rectangle inside the image as it is at that step;
 *   <li>{@code {"op":"resize","w","h"}}: bilinear, at most {@link #MAX_SIDE} per side;
 *   <li>{@code {"op":"sharpen","sigma","amount"}}: unsharp mask, {@code amount} 1 unless given;
 *   <li>{@code {"op":"blur","sigma"}}: Gaussian.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
final class EditOps {

  /** Most operations in one edit. */
  static final int MAX_OPS = 8;
  /** Largest side a resize may produce. */
  static final int MAX_SIDE = 8192;
  /** Largest sigma accepted: beyond it a blur of a large photo runs for minutes. */
  static final double MAX_SIGMA = 50;
  static final double MAX_AMOUNT = 10;

  /** One operation, and the size it turns {@code width × height} into (the same, unless it says otherwise). */
  sealed interface Op {
    default int width(int width) {
      return width;
    }

    default int height(int height) {
      return height;
    }

    RgbImage apply(RgbImage image);

    ObjectNode json();
  }

  record Crop(int x, int y, int w, int h) implements Op {
    @Override
    public int width(int width) {
      return w;
    }

    @Override
    public int height(int height) {
      return h;
    }

    @Override
    public RgbImage apply(RgbImage image) {
      return image.crop(x, y, w, h);
    }

    @Override
    public ObjectNode json() {
      return Json.MAPPER.createObjectNode().put("op", "crop").put("x", x).put("y", y).put("w", w).put("h", h);
    }
  }

  record Resize(int w, int h) implements Op {
    @Override
    public int width(int width) {
      return w;
    }

    @Override
    public int height(int height) {
      return h;
    }

    @Override
    public RgbImage apply(RgbImage image) {
      return image.resize(w, h);
    }

    @Override
    public ObjectNode json() {
      return Json.MAPPER.createObjectNode().put("op", "resize").put("w", w).put("h", h);
    }
  }

  record Sharpen(double sigma, double amount) implements Op {
    @Override
    public RgbImage apply(RgbImage image) {
      return image.sharpen(sigma, amount);
    }

    @Override
    public ObjectNode json() {
      return Json.MAPPER.createObjectNode().put("op", "sharpen").put("sigma", sigma).put("amount", amount);
    }
  }

  record Blur(double sigma) implements Op {
    @Override
    public RgbImage apply(RgbImage image) {
      return image.gaussianBlur(sigma);
    }

    @Override
    public ObjectNode json() {
      return Json.MAPPER.createObjectNode().put("op", "blur").put("sigma", sigma);
    }
  }

  /** A refused list of operations: the field at fault ({@code ops[1].sigma}) and the sentence. */
  static final class Invalid extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String field;

    Invalid(String field, String message) {
      super(message);
      this.field = field;
    }

    String field() {
      return field;
    }
  }

  private final List<Op> ops;
  private final int width;
  private final int height;

  private EditOps(List<Op> ops, int width, int height) {
    this.ops = List.copyOf(ops);
    this.width = width;
    this.height = height;
  }

  /**
   * Parses {@code ops} (the JSON array) for an image of {@code width × height}, checking each
   * operation against the size the previous ones leave and the result against {@code maxPixels}.
   *
   * @throws Invalid naming the first field at fault, its value and what was expected
   */
  static EditOps parse(JsonNode ops, int width, int height, long maxPixels) {
    if (ops == null) {
      throw new Invalid("ops", "ops: missing (expected: an array of 1.." + MAX_OPS + " operations)");
    }
    if (!(ops instanceof ArrayNode array) || array.isEmpty() || array.size() > MAX_OPS) {
      throw new Invalid("ops", "ops: " + shown(ops) + " (expected: an array of 1.." + MAX_OPS + " operations)");
    }
    List<Op> parsed = new ArrayList<>();
    int w = width;
    int h = height;
    for (int i = 0; i < array.size(); i++) {
      String at = "ops[" + i + "]";
      JsonNode node = array.get(i);
      if (!(node instanceof ObjectNode object)) {
        throw new Invalid(at, at + ": " + shown(node) + " (expected: an object such as {\"op\":\"blur\",\"sigma\":2})");
      }
      JsonNode name = object.get("op");
      if (name == null || !name.isTextual()) {
        throw new Invalid(at + ".op", at + ".op: " + (name == null ? "missing" : shown(name))
            + " (expected: one of crop, resize, sharpen, blur)");
      }
      Op op = switch (name.textValue()) {
        case "crop" -> {
          only(object, at, Set.of("op", "x", "y", "w", "h"));
          int x = integer(object, at, "x", 0, w - 1, "inside the image's width " + w);
          int y = integer(object, at, "y", 0, h - 1, "inside the image's height " + h);
          yield new Crop(x, y, integer(object, at, "w", 1, w - x, "so that x + w <= " + w),
              integer(object, at, "h", 1, h - y, "so that y + h <= " + h));
        }
        case "resize" -> {
          only(object, at, Set.of("op", "w", "h"));
          yield new Resize(integer(object, at, "w", 1, MAX_SIDE, null), integer(object, at, "h", 1, MAX_SIDE, null));
        }
        case "sharpen" -> {
          only(object, at, Set.of("op", "sigma", "amount"));
          yield new Sharpen(number(object, at, "sigma", MAX_SIGMA, null),
              object.has("amount") ? number(object, at, "amount", MAX_AMOUNT, 0.0) : 1.0);
        }
        case "blur" -> {
          only(object, at, Set.of("op", "sigma"));
          yield new Blur(number(object, at, "sigma", MAX_SIGMA, null));
        }
        default -> throw new Invalid(at + ".op", at + ".op: " + JsonRequest.quote(name.textValue())
            + " (expected: one of crop, resize, sharpen, blur)");
      };
      w = op.width(w);
      h = op.height(h);
      if ((long) w * h > maxPixels) {
        throw new Invalid(at, at + ": makes " + w + "x" + h + " = " + (long) w * h + " pixels (expected: at most "
            + maxPixels + ")");
      }
      parsed.add(op);
    }
    return new EditOps(parsed, w, h);
  }

  List<Op> ops() {
    return ops;
  }

  /** The width of the result. */
  int width() {
    return width;
  }

  /** The height of the result. */
  int height() {
    return height;
  }

  /** Runs every operation in order. */
  RgbImage apply(RgbImage image) {
    RgbImage result = image;
    for (Op op : ops) {
      result = op.apply(result);
    }
    return result;
  }

  /** The operations as the JSON array {@link #parse} reads. */
  ArrayNode json() {
    ArrayNode array = Json.MAPPER.createArrayNode();
    ops.forEach(op -> array.add(op.json()));
    return array;
  }

  private static void only(ObjectNode object, String at, Set<String> allowed) {
    for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw new Invalid(at + "." + name, at + "." + name + ": unknown field (expected: one of "
            + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
  }

  private static int integer(ObjectNode object, String at, String name, int min, int max, String why) {
    JsonNode value = object.get(name);
    String field = at + "." + name;
    String expected = max < min ? "no value fits: the image is too small here"
        : "an integer in " + min + ".." + max + (why == null ? "" : ", " + why);
    if (value == null) {
      throw new Invalid(field, field + ": missing (expected: " + expected + ")");
    }
    if (!value.canConvertToInt() || !value.isIntegralNumber() || value.intValue() < min || value.intValue() > max) {
      throw new Invalid(field, field + ": " + shown(value) + " (expected: " + expected + ")");
    }
    return value.intValue();
  }

  /** A number in (0, max], or in [zeroOrNull, max] when {@code zeroOrNull} is 0. */
  private static double number(ObjectNode object, String at, String name, double max, Double inclusiveMin) {
    JsonNode value = object.get(name);
    String field = at + "." + name;
    String expected = inclusiveMin == null ? "a number in (0, " + fmt(max) + "]" : "a number in [0, " + fmt(max) + "]";
    if (value == null) {
      throw new Invalid(field, field + ": missing (expected: " + expected + ")");
    }
    double d = value.isNumber() ? value.doubleValue() : Double.NaN;
    boolean ok = inclusiveMin == null ? d > 0 && d <= max : d >= 0 && d <= max;
    if (!ok) {
      throw new Invalid(field, field + ": " + shown(value) + " (expected: " + expected + ")");
    }
    return d;
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static String shown(JsonNode node) {
    String text = node.toString();
    return text.length() > 40 ? text.substring(0, 40) + "…" : text;
  }
}
