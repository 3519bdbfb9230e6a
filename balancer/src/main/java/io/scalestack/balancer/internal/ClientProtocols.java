package io.scalestack.balancer.internal;

import java.nio.file.Path;

/**
 * What the client listener speaks besides HTTP/1.1: HTTP/2 (h2c with prior knowledge on a
 * plaintext listener, RFC 9113 §3.3; h2 chosen by ALPN over TLS, §3.2) and TLS itself.
 *
 * <p>Immutable; the public builder validates.
 *
 * @param http2 whether HTTP/2 is offered at all
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS per HTTP/2 connection (RFC 9113 §6.5.2)
 * @param tlsCertificate PEM certificate chain, or null for a plaintext listener
 * @param tlsKey PEM PKCS#8 private key of the first certificate, or null
 */
public record ClientProtocols(boolean http2, int maxConcurrentStreams, Path tlsCertificate, Path tlsKey) {

  /** Plaintext, HTTP/1.1 and h2c, 128 streams per connection. */
  public static final ClientProtocols DEFAULT = new ClientProtocols(true, 128, null, null);

  public ClientProtocols {
    if ((tlsCertificate == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("tls: certificate and key (expected: both or neither)");
    }
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException("maxConcurrentStreams: " + maxConcurrentStreams + " (expected: >= 1)");
    }
  }

  boolean tls() {
    return tlsCertificate != null;
  }
}
