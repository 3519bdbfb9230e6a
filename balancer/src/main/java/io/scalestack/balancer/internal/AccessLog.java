package io.scalestack.balancer.internal;

import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per answered request on the SLF4J logger {@code io.scalestack.balancer.access}, at
 * INFO, in {@code key=value} form: {@code client=127.0.0.1:51514 method=GET uri=/api/me status=200
 * backend=web-1 bytes_in=0 bytes_out=312 duration_ms=1.84 protocol=HTTP/1.1} ({@code
 * protocol=HTTP/2.0} for a request on an HTTP/2 stream). {@code backend=none} when no backend
 * was reached; {@code status=499} when the client went away first. Costs nothing when the logger
 * is off. In TCP mode, one line per connection when it ends: {@code client=127.0.0.1:51514 mode=tcp
 * backend=db-1 bytes_in=512 bytes_out=81920 duration_ms=2004.10} ({@code bytes_in} from the
 * client, {@code backend=none} when no backend could be reached). Stateless; thread-safe.
 */
final class AccessLog {

  static final Logger LOG = LoggerFactory.getLogger("io.scalestack.balancer.access");

  private AccessLog() {}

  static boolean enabled() {
    return LOG.isInfoEnabled();
  }

  static void log(InetSocketAddress client, Object method, String uri, String protocol, int status, String backend,
      long bytesIn, long bytesOut, long nanos) {
    StringBuilder line = new StringBuilder(160)
        .append("client=").append(client == null ? "-" : HostPort.format(client))
        .append(" method=").append(method)
        .append(" uri=").append(uri)
        .append(" status=").append(status)
        .append(" backend=").append(backend)
        .append(" bytes_in=").append(bytesIn)
        .append(" bytes_out=").append(bytesOut)
        .append(" duration_ms=").append(nanos / 1_000_000).append('.');
    long micros = (nanos / 1_000) % 1_000;
    line.append((char) ('0' + micros / 100)).append((char) ('0' + micros / 10 % 10));
    line.append(" protocol=").append(protocol);
    LOG.info(line.toString());
  }

  static void tcp(InetSocketAddress client, String backend, long bytesIn, long bytesOut, long nanos) {
    StringBuilder line = new StringBuilder(120)
        .append("client=").append(client == null ? "-" : HostPort.format(client))
        .append(" mode=tcp backend=").append(backend)
        .append(" bytes_in=").append(bytesIn)
        .append(" bytes_out=").append(bytesOut);
    appendMillis(line, nanos);
    LOG.info(line.toString());
  }

  private static void appendMillis(StringBuilder line, long nanos) {
    line.append(" duration_ms=").append(nanos / 1_000_000).append('.');
    long micros = (nanos / 1_000) % 1_000;
    line.append((char) ('0' + micros / 100)).append((char) ('0' + micros / 10 % 10));
  }
}
