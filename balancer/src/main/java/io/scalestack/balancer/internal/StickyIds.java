package io.scalestack.balancer.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The opaque ids sticky cookies carry: {@code name.mac}, where {@code mac} is the first 96 bits
 * of HMAC-SHA256(secret, name) in base64url. A client cannot forge a pin to a backend it was not
 * given, and the cookie never shows an address. Ids are computed once per backend, so checking a
 * cookie is one constant-time comparison, with no MAC on the request path.
 *
 * <p>Thread-safe ({@link #id} synchronizes on its {@link Mac}).
 */
final class StickyIds {

  private final Mac mac;

  /** @param secret the HMAC key; null for a random one (pins then last as long as the process) */
  StickyIds(byte[] secret) {
    byte[] key = secret;
    if (key == null) {
      key = new byte[32];
      new SecureRandom().nextBytes(key);
    }
    try {
      mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      // HmacSHA256 is required of every Java platform
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** The signed id of backend {@code name}. */
  String id(String name) {
    byte[] digest;
    synchronized (mac) {
      digest = mac.doFinal(("scalestack-sticky:" + name).getBytes(StandardCharsets.UTF_8));
    }
    return name + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(digest, 12));
  }

  /** The name in a cookie value of the form {@code name.mac}, or null if it has no such form. */
  static String name(String value) {
    int dot = value.lastIndexOf('.');
    return dot <= 0 ? null : value.substring(0, dot);
  }

  /** Constant-time comparison of a presented value with a backend's id. */
  static boolean matches(String presented, String id) {
    return !id.isEmpty() && MessageDigest.isEqual(presented.getBytes(StandardCharsets.ISO_8859_1),
        id.getBytes(StandardCharsets.ISO_8859_1));
  }
}
