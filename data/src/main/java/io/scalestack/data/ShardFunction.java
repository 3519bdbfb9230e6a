package io.scalestack.data;

import java.util.Locale;
import java.util.Objects;

/**
 * Which of {@code shards} shards a key (a user id) lives on. Two functions, chosen in config:
 *
 * <ul>
 *   <li>{@link #MODULO}: {@code key mod shards}, the seeds' {@code user_id % 4}. Simple and
 *       balanced for well-spread keys, but adding one shard to K moves about K/(K+1) of all
 *       keys: nearly everything.
 *   <li>{@link #CONSISTENT}: jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory,
 *       Consistent Hash Algorithm", 2014) over a mixed key. Going from K to K+1 shards moves
 *       exactly the keys that land on the new shard, 1/(K+1) of them in expectation — the
 *       minimum — and never moves a key between two old shards; no ring, no virtual nodes, no
 *       memory. Its one constraint: shards are numbered 0..K-1 and can only be added or removed
 *       at the end (a shard is a replication group that fails over, not a node that disappears,
 *       so that holds).
 * </ul>
 *
 * <p>Implementations are stateless and thread-safe.
 */
public interface ShardFunction {

  /** {@code floorMod(key, shards)}. */
  ShardFunction MODULO = new ShardFunction() {
    @Override
    public int shardOf(long key, int shards) {
      return Math.floorMod(key, requirePositive(shards));
    }

    @Override
    public String name() {
      return "modulo";
    }

    @Override
    public String toString() {
      return name();
    }
  };

  /** Jump consistent hash of the key after a 64-bit mix (so structured ids spread evenly). */
  ShardFunction CONSISTENT = new ShardFunction() {
    @Override
    public int shardOf(long key, int shards) {
      requirePositive(shards);
      long k = mix(key);
      long b = -1;
      long j = 0;
      // the paper's loop: the next bucket the key would jump to, until it is past the last one
      while (j < shards) {
        b = j;
        k = k * 2862933555777941757L + 1;
        j = (long) ((b + 1) * ((double) (1L << 31) / (double) ((k >>> 33) + 1)));
      }
      return (int) b;
    }

    @Override
    public String name() {
      return "consistent";
    }

    @Override
    public String toString() {
      return name();
    }
  };

  /**
   * The shard of {@code key}, in {@code 0..shards-1}.
   *
   * @throws IllegalArgumentException if {@code shards < 1}
   */
  int shardOf(long key, int shards);

  /** The name config uses: {@code modulo} or {@code consistent}. */
  String name();

  /**
   * The function called {@code name} ({@code modulo} or {@code consistent}, any case).
   *
   * @throws IllegalArgumentException for any other name
   */
  static ShardFunction named(String name) {
    Objects.requireNonNull(name, "name");
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "modulo" -> MODULO;
      case "consistent" -> CONSISTENT;
      default -> throw new IllegalArgumentException("shardFunction: '" + name + "' (expected: modulo or consistent)");
    };
  }

  private static int requirePositive(int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards: " + shards + " (expected: >= 1)");
    }
    return shards;
  }

  /** SplitMix64's finalizer (Steele, Lea and Flood, 2014): every input bit flips about half the output bits. */
  private static long mix(long key) {
    long z = key + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
