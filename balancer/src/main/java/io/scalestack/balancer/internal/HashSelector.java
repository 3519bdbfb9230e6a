package io.scalestack.balancer.internal;

import io.scalestack.balancer.HashKey;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Consistent hashing on a ring with virtual nodes (Karger et al.; Ketama): each backend owns
 * {@value #POINTS_PER_WEIGHT} points per unit of weight on a 64-bit ring, and a key goes to the
 * owner of the first point at or after the key's hash. Adding a backend moves only the keys that
 * now hash to its points (about {@code 1/(n+1)} of them); a backend going down moves only its own
 * keys, which come back when it does. The ring spans every backend of the pool, healthy or not,
 * so a key whose owner is not eligible walks on to the next owner that is (counted as a re-pin).
 *
 * <p>With a load factor {@code c > 0} ("Consistent Hashing with Bounded Loads", Mirrokni,
 * Thorup, Zadimoghaddam 2018), a backend already holding {@code c × average} requests in flight
 * (per unit of weight) is skipped for the next one on the ring, so a hot key cannot overload one
 * backend.
 *
 * <p>Slow start: while a backend ramps up (its effective weight below its full weight), it
 * keeps each of its keys only if the key's second, independent hash falls below its current
 * share; the other keys walk on to the next owner on the ring — the backend that held them before
 * this one came up. As the share grows, keys move over in a fixed order and never back, so the
 * ramp moves each key at most once.
 *
 * <p>A request without the key goes round robin. Lock-free: the ring is rebuilt, at most once
 * per membership change, into a new immutable object published through a volatile field.
 */
final class HashSelector implements BackendSelector {

  static final int POINTS_PER_WEIGHT = 160;
  private static final int MAX_POINTS = 200_000;

  /** How a key is read from a request; null when the request has none. */
  @FunctionalInterface
  interface KeyReader {
    byte[] key(RequestContext request);
  }

  private final KeyReader reader;
  private final double loadFactor;
  private final Runnable repins;
  private final AtomicLong fallback = new AtomicLong();
  private volatile Ring ring = new Ring(List.of(), new long[0], new Backend[0]);

  HashSelector(KeyReader reader, double loadFactor, Runnable repins) {
    this.reader = reader;
    this.loadFactor = loadFactor;
    this.repins = repins;
  }

  static HashSelector sourceIp(double loadFactor, Runnable repins) {
    return new HashSelector(request -> {
      if (request.client() == null) {
        return null;
      }
      InetAddress address = request.client().getAddress();
      return address == null ? null : address.getAddress();
    }, loadFactor, repins);
  }

  static HashSelector of(HashKey key, double loadFactor, Runnable repins) {
    KeyReader fromHead = switch (key.source()) {
      case HEADER -> request -> bytes(request.head().headers().get(key.name()));
      case COOKIE -> request -> bytes(RequestParts.cookie(request.head().headers(), key.name()));
      case QUERY -> request -> bytes(RequestParts.queryParameter(request.head().uri(), key.name()));
      case PATH -> request -> bytes(RequestParts.path(request.head().uri()));
    };
    KeyReader reader = request -> request.head() == null ? null : fromHead.key(request);
    return new HashSelector(reader, loadFactor, repins);
  }

  private static byte[] bytes(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Backend select(Candidates candidates, RequestContext request) {
    // a TCP connection has no request head, but has a client address (source hash, source stickiness)
    byte[] key = request == null ? null : reader.key(request);
    if (key == null) {
      List<Backend> eligible = candidates.eligible();
      return eligible.get((int) Math.floorMod(fallback.getAndIncrement(), (long) eligible.size()));
    }
    return select(candidates, hash(key, 0, key.length));
  }

  /** The backend for a key of hash {@code keyHash}; visible for the ring's tests. */
  Backend select(Candidates candidates, long keyHash) {
    Ring r = ring(candidates.members());
    if (r.points.length == 0) {
      return candidates.eligible().getFirst();
    }
    double capacityPerWeight = loadFactor > 0 ? capacityPerWeight(candidates) : 0;
    int start = r.index(keyHash);
    Backend primary = r.owners[start];
    if (candidates.firstAttempt() && !primary.selectable()) {
      // the key's backend is down, draining or ejected: the key moves on
      repins.run();
    }
    int len = r.points.length;
    for (int i = 0; i < len; i++) {
      Backend owner = r.owners[(start + i) % len];
      if (!candidates.isEligible(owner) || !admitsDuringSlowStart(candidates, owner, keyHash)) {
        continue;
      }
      if (loadFactor <= 0 || owner.inFlight() + 1 <= Math.ceil(capacityPerWeight * candidates.weight(owner))) {
        return owner;
      }
    }
    // every eligible backend is at capacity (weights moved under us): the least loaded
    Backend best = null;
    for (Backend b : candidates.eligible()) {
      if (best == null || b.inFlight() < best.inFlight()) {
        best = b;
      }
    }
    return best;
  }

  // a ramping backend takes the keys whose second hash, as a fraction of 1, is below its share
  private static boolean admitsDuringSlowStart(Candidates candidates, Backend owner, long keyHash) {
    int effective = candidates.weight(owner);
    int full = owner.weight() * Backend.WEIGHT_SCALE;
    if (effective >= full) {
      return true;
    }
    long second = mix(keyHash ^ 0x9e3779b97f4a7c15L);
    double unit = (second >>> 11) * 0x1.0p-53; // uniform in [0, 1)
    return unit * full < effective;
  }

  // c × (total in flight + 1) / total weight: the bound per unit of weight (the +1 counts this request)
  private double capacityPerWeight(Candidates candidates) {
    long inFlight = 1;
    long weight = 0;
    for (Backend b : candidates.eligible()) {
      inFlight += b.inFlight();
      weight += candidates.weight(b);
    }
    return loadFactor * inFlight / Math.max(1, weight);
  }

  private Ring ring(List<Backend> members) {
    Ring r = ring;
    if (r.source != members) {
      r = Ring.build(members);
      ring = r;
    }
    return r;
  }

  /** 64-bit FNV-1a with the MurmurHash3 finalizer: fast, and well spread for similar keys. */
  static long hash(byte[] data, int offset, int length) {
    long h = 0xcbf29ce484222325L;
    for (int i = offset; i < offset + length; i++) {
      h ^= data[i] & 0xff;
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  // MurmurHash3's 64-bit finalizer (fmix64)
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }

  /** The ring of one membership snapshot. Immutable. */
  static final class Ring {
    final List<Backend> source;
    final long[] points;
    final Backend[] owners;

    private Ring(List<Backend> source, long[] points, Backend[] owners) {
      this.source = source;
      this.points = points;
      this.owners = owners;
    }

    static Ring build(List<Backend> members) {
      long totalWeight = 0;
      for (Backend b : members) {
        totalWeight += b.weight();
      }
      // keep the ring bounded for large pools of heavy backends; proportions stay
      double scale = Math.min(1.0, (double) MAX_POINTS / Math.max(1, totalWeight * POINTS_PER_WEIGHT));
      List<long[]> entries = new ArrayList<>();
      for (int m = 0; m < members.size(); m++) {
        Backend b = members.get(m);
        int count = Math.max(1, (int) Math.round(b.weight() * POINTS_PER_WEIGHT * scale));
        byte[] name = (b.name() + "#").getBytes(StandardCharsets.UTF_8);
        byte[] buf = Arrays.copyOf(name, name.length + 10);
        for (int i = 0; i < count; i++) {
          int len = writeDecimal(buf, name.length, i);
          entries.add(new long[] {hash(buf, 0, len), m});
        }
      }
      entries.sort((x, y) -> Long.compare(x[0], y[0]));
      long[] points = new long[entries.size()];
      Backend[] owners = new Backend[entries.size()];
      for (int i = 0; i < points.length; i++) {
        points[i] = entries.get(i)[0];
        owners[i] = members.get((int) entries.get(i)[1]);
      }
      return new Ring(members, points, owners);
    }

    /** The index of the first point at or after {@code hash}, wrapping around. */
    int index(long hash) {
      int i = Arrays.binarySearch(points, hash);
      if (i < 0) {
        i = -i - 1;
      }
      return i == points.length ? 0 : i;
    }

    private static int writeDecimal(byte[] buf, int at, int value) {
      String s = Integer.toString(value);
      for (int k = 0; k < s.length(); k++) {
        buf[at + k] = (byte) s.charAt(k);
      }
      return at + s.length();
    }
  }

  /** The hash of a text key as {@link #select(Candidates, RequestContext)} computes it (for tests). */
  static long hashOf(String key) {
    byte[] b = key.getBytes(StandardCharsets.UTF_8);
    return hash(b, 0, b.length);
  }
}
