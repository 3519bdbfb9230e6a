package io.scalestack.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Points a member's logging at its JSON-lines log file ({@code .scalestack/logs/MEMBER.log}),
 * one JSON object per line, so that the control plane and people with {@code jq} can read it.
 *
 * <p>Called once, early, by a member's entry point. Thread-safe, but meant for start-up.
 */
public final class JsonLogging {

  private JsonLogging() {}

  /**
   * Replaces the root logger's appenders by one that appends JSON lines ({@link JsonLineEncoder})
   * to {@code logFile}, each naming {@code member}.
   */
  public static void toFile(String member, Path logFile) {
    try {
      Path parent = logFile.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("logFile: " + logFile + " (expected: a writable path)", e);
    }
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.putProperty("member", member);

    JsonLineEncoder encoder = new JsonLineEncoder();
    encoder.setContext(context);
    encoder.setMember(member);
    encoder.start();

    FileAppender<ILoggingEvent> appender = new FileAppender<>();
    appender.setContext(context);
    appender.setName("json-file");
    appender.setFile(logFile.toString());
    appender.setAppend(true);
    appender.setEncoder(encoder);
    appender.start();

    // Disk writes happen on the appender's own thread, never on the caller's: a Netty event loop
    // logging a request must not wait for the file system. Nothing is dropped below 8192 queued
    // events (discardingThreshold 0); past that, events are dropped rather than block (neverBlock).
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setName("json-file-async");
    async.setQueueSize(8192);
    async.setDiscardingThreshold(0);
    async.setNeverBlock(true);
    async.addAppender(appender);
    async.start();

    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    root.addAppender(async);
    root.setLevel(Level.INFO);
  }

  /**
   * Flushes queued lines to the file (waiting up to a second) and stops logging; for the end of a
   * member's shutdown hook, after its last line.
   */
  public static void flushAndStop() {
    ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
  }
}
