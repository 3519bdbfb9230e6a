package io.scalestack.engines.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Reads what an engine wrote to its log since a given offset, for error messages. */
public final class LogTail {

  private static final int MAX_BYTES = 8192;

  private LogTail() {}

  /** The current size of {@code log}, or 0 if it does not exist yet. */
  public static long size(Path log) {
    try {
      return Files.exists(log) ? Files.size(log) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  /** The last {@code maxLines} lines written after {@code fromOffset}, or "" if none or unreadable. */
  public static String tail(Path log, long fromOffset, int maxLines) {
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      long length = file.length();
      long start = Math.max(fromOffset, length - MAX_BYTES);
      if (start >= length) {
        return "";
      }
      byte[] bytes = new byte[(int) (length - start)];
      file.seek(start);
      file.readFully(bytes);
      List<String> lines = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\r?\n"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - maxLines), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  /** "" or ", log " + path + ":\n" + the tail, ready to append to an error message. */
  public static String forMessage(Path log, long fromOffset) {
    String tail = tail(log, fromOffset, 25);
    return tail.isBlank() ? " (log " + log + " is empty)" : "; last lines of " + log + ":\n" + tail;
  }
}
