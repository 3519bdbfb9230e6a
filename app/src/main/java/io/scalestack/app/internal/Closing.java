package io.scalestack.app.internal;

import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;

/**
 * How a member closes what it opened: each resource on its own, a failure logged and never
 * stopping the rest, so that one broken pool does not leave sockets and threads of the others
 * open. Stateless.
 */
public final class Closing {

  private Closing() {}

  /** Stops Jetty (letting requests in flight finish within its stop timeout); logs a failure. */
  public static void stop(Logger log, String member, Server server) {
    if (server == null) {
      return;
    }
    try {
      server.stop();
    } catch (Exception e) {
      log.warn("{}: stopping Jetty failed", member, e);
    }
  }

  /** Closes {@code closeable} if it is not null; logs a failure naming {@code what}. */
  public static void close(Logger log, String member, String what, AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      log.warn("{}: closing {} failed", member, what, e);
    }
  }
}
