package io.scalestack.app.internal;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Semaphore;

/**
 * bcrypt hashing and verification of passwords, shaped so that a login for an unknown user
 * costs the same time as one for a known user with a wrong password.
 *
 * <p>bcrypt is CPU work that never yields, so on virtual threads each hash holds a carrier thread
 * for its whole duration. A semaphore bounds concurrent hashes to one fewer than the carriers, so
 * a burst of logins cannot starve {@code /health} or cheap requests of every carrier.
 *
 * <p>Thread-safe.
 */
final class PasswordHasher {

  private final int cost;
  private final BCrypt.Hasher hasher = BCrypt.withDefaults();
  private final BCrypt.Verifyer verifyer = BCrypt.verifyer();
  private final byte[] dummyHash;
  private final byte[] placeholder;
  private final Semaphore permits;

  /**
   * @param cost the bcrypt cost (log2 of the rounds), {@code 4..31}
   * @param maxConcurrentHashes how many hashes may run at once, {@code > 0}
   */
  PasswordHasher(int cost, int maxConcurrentHashes) {
    if (cost < BCrypt.MIN_COST || cost > BCrypt.MAX_COST) {
      throw new IllegalArgumentException(
          "bcryptCost: " + cost + " (expected: " + BCrypt.MIN_COST + ".." + BCrypt.MAX_COST + ")");
    }
    if (maxConcurrentHashes <= 0) {
      throw new IllegalArgumentException(
          "maxConcurrentHashes: " + maxConcurrentHashes + " (expected: > 0)");
    }
    this.cost = cost;
    this.permits = new Semaphore(maxConcurrentHashes, true);
    SecureRandom random = new SecureRandom();
    this.placeholder = new byte[Field.MIN_PASSWORD_BYTES];
    random.nextBytes(placeholder);
    // A real hash of a random secret at the configured cost: verifying against it takes as long as
    // verifying a real user's hash, and no password can match it.
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    this.dummyHash = hasher.hash(cost, hexOf(secret));
  }

  /** The bcrypt cost this hasher hashes with. */
  int cost() {
    return cost;
  }

  /** The modular-crypt string ({@code $2a$cost$...}) of a password that passed validation. */
  String hash(String password) {
    byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
    permits.acquireUninterruptibly();
    try {
      return new String(hasher.hash(cost, bytes), StandardCharsets.US_ASCII);
    } finally {
      permits.release();
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * Whether {@code password} matches {@code storedHash}. When there is no stored hash (unknown
   * user) or the password could never have been stored (empty, or longer than bcrypt reads), a
   * full verification against a dummy hash still runs, and the answer is false.
   */
  boolean verify(String password, Optional<String> storedHash) {
    byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
    boolean storable = bytes.length > 0 && bytes.length <= Field.MAX_PASSWORD_BYTES;
    byte[] candidate = storable ? bytes : placeholder;
    byte[] target =
        storable && storedHash.isPresent()
            ? storedHash.get().getBytes(StandardCharsets.US_ASCII)
            : dummyHash;
    permits.acquireUninterruptibly();
    try {
      boolean verified = verifyer.verify(candidate, target).verified;
      return verified && storable && storedHash.isPresent();
    } finally {
      permits.release();
      Arrays.fill(bytes, (byte) 0);
    }
  }

  private static byte[] hexOf(byte[] secret) {
    StringBuilder hex = new StringBuilder();
    for (byte b : secret) {
      hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return hex.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
