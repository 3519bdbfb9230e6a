package io.scalestack.session.internal;

import io.scalestack.session.SessionData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The messages session-clustering peers exchange, as bytes: one operation code, then its fields
 * (strings as length-prefixed UTF-8, times as epoch milliseconds, attribute values in the typed
 * text form of {@link AttributeValues}). Never Java serialization: a peer's bytes are parsed into
 * the four supported attribute types only, and every count and length is bounded, so a corrupt or
 * hostile message is rejected with an {@link IllegalArgumentException} naming what was wrong.
 *
 * <p>Not API. Stateless and thread-safe.
 */
public final class ClusterMessages {

  /** Operation codes: the first byte of every request. */
  public static final byte PUT = 1;
  public static final byte PUT_IF_ABSENT = 2;
  public static final byte DELTA = 3;
  public static final byte GET = 4;
  public static final byte DELETE = 5;
  /** Delete every session of a principal: the request's id is the principal. */
  public static final byte DELETE_PRINCIPAL = 6;

  static final int MAX_STRING_BYTES = 1 << 20;
  static final int MAX_FIELDS = 100_000;

  private ClusterMessages() {}

  /** A parsed request. {@code session} for PUT and PUT_IF_ABSENT; {@code delta} for DELTA. */
  public record Request(byte op, String id, SessionData session, Delta delta) {}

  /**
   * The changes one request made to a session: its access time and interval, attributes set
   * ({@code sets}, name to value) and removed ({@code removes}).
   */
  public record Delta(Instant lastAccessedTime, Duration maxInactiveInterval, Map<String, Object> sets,
      List<String> removes) {}

  public static byte[] put(SessionData session, boolean ifAbsent) {
    return write(out -> {
      out.writeByte(ifAbsent ? PUT_IF_ABSENT : PUT);
      writeSession(out, session);
    });
  }

  public static byte[] delta(String id, Delta delta) {
    return write(out -> {
      out.writeByte(DELTA);
      writeString(out, id);
      out.writeLong(delta.lastAccessedTime().toEpochMilli());
      out.writeLong(delta.maxInactiveInterval().toSeconds());
      out.writeInt(delta.sets().size());
      for (Map.Entry<String, Object> e : delta.sets().entrySet()) {
        writeString(out, e.getKey());
        writeString(out, AttributeValues.encode(e.getValue()));
      }
      out.writeInt(delta.removes().size());
      for (String name : delta.removes()) {
        writeString(out, name);
      }
    });
  }

  public static byte[] get(String id) {
    return write(out -> {
      out.writeByte(GET);
      writeString(out, id);
    });
  }

  public static byte[] delete(String id) {
    return write(out -> {
      out.writeByte(DELETE);
      writeString(out, id);
    });
  }

  public static byte[] deletePrincipal(String principal) {
    return write(out -> {
      out.writeByte(DELETE_PRINCIPAL);
      writeString(out, principal);
    });
  }

  /** A count as a reply (to DELETE_PRINCIPAL). */
  public static byte[] count(int n) {
    return write(out -> out.writeInt(n));
  }

  public static int parseCount(byte[] bytes) {
    return read(bytes, DataInputStream::readInt);
  }

  /** A session as a reply to GET: its encoding, or an empty array for none. */
  public static byte[] session(SessionData session) {
    return session == null ? new byte[0] : write(out -> writeSession(out, session));
  }

  /** Parses a reply to GET. */
  public static SessionData parseSession(byte[] bytes) {
    if (bytes.length == 0) {
      return null;
    }
    return read(bytes, ClusterMessages::readSession);
  }

  /**
   * Parses a request.
   *
   * @throws IllegalArgumentException when the bytes are not a well-formed request
   */
  public static Request parse(byte[] bytes) {
    return read(bytes, in -> {
      byte op = in.readByte();
      return switch (op) {
        case PUT, PUT_IF_ABSENT -> {
          SessionData session = readSession(in);
          yield new Request(op, session.id(), session, null);
        }
        case DELTA -> {
          String id = readString(in);
          Instant last = Instant.ofEpochMilli(in.readLong());
          Duration interval = Duration.ofSeconds(in.readLong());
          int sets = count(in.readInt(), "attributes set");
          Map<String, Object> values = new LinkedHashMap<>();
          for (int i = 0; i < sets; i++) {
            values.put(readString(in), AttributeValues.decode(readString(in)));
          }
          int removes = count(in.readInt(), "attributes removed");
          List<String> removed = new ArrayList<>(removes);
          for (int i = 0; i < removes; i++) {
            removed.add(readString(in));
          }
          yield new Request(op, id, null, new Delta(last, interval, values, removed));
        }
        case GET, DELETE, DELETE_PRINCIPAL -> new Request(op, readString(in), null, null);
        default -> throw new IllegalArgumentException("cluster message: operation " + op + " (expected: 1..6)");
      };
    });
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private static byte[] write(Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  private static <T> T read(byte[] bytes, Reader<T> reader) {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    try {
      T value = reader.read(in);
      if (in.available() > 0) {
        throw new IllegalArgumentException("cluster message: " + in.available() + " bytes after its end (expected: none)");
      }
      return value;
    } catch (java.time.DateTimeException | ArithmeticException e) {
      throw new IllegalArgumentException("cluster message: a time out of range (" + e.getMessage()
          + ") (expected: epoch milliseconds within Instant's range)", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cluster message: truncated after " + (bytes.length - available(in))
          + " of " + bytes.length + " bytes (expected: a whole message)", e);
    }
  }

  private static int available(DataInputStream in) {
    try {
      return in.available();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void writeSession(DataOutputStream out, SessionData session) throws IOException {
    writeString(out, session.id());
    out.writeLong(session.creationTime().toEpochMilli());
    out.writeLong(session.lastAccessedTime().toEpochMilli());
    out.writeLong(session.maxInactiveInterval().toSeconds());
    out.writeInt(session.attributes().size());
    for (Map.Entry<String, Object> e : session.attributes().entrySet()) {
      writeString(out, e.getKey());
      writeString(out, AttributeValues.encode(e.getValue()));
    }
  }

  private static SessionData readSession(DataInputStream in) throws IOException {
    String id = readString(in);
    Instant created = Instant.ofEpochMilli(in.readLong());
    Instant last = Instant.ofEpochMilli(in.readLong());
    Duration interval = Duration.ofSeconds(in.readLong());
    int n = count(in.readInt(), "attributes");
    Map<String, Object> attributes = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      attributes.put(readString(in), AttributeValues.decode(readString(in)));
    }
    return new SessionData(id, created, last, interval, attributes);
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }

  private static String readString(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException("cluster message: string of " + length + " bytes (expected: 0.."
          + MAX_STRING_BYTES + ")");
    }
    byte[] utf8 = in.readNBytes(length);
    if (utf8.length < length) {
      throw new EOFException();
    }
    return new String(utf8, StandardCharsets.UTF_8);
  }

  private static int count(int n, String what) {
    if (n < 0 || n > MAX_FIELDS) {
      throw new IllegalArgumentException("cluster message: " + n + " " + what + " (expected: 0.." + MAX_FIELDS + ")");
    }
    return n;
  }
}
