package io.scalestack.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What every {@link BlobStore} does; a subclass supplies a fresh, empty store for each test. */
abstract class BlobStoreContract {

  private static final String RULE =
      "(expected: 1..512 characters of [A-Za-z0-9._/-], no leading '/', no '.', '..' or empty segment)";

  protected BlobStore store;

  /** A new store with no objects, closed by the contract after the test. */
  protected abstract BlobStore newEmptyStore() throws Exception;

  @BeforeEach
  final void openStore() throws Exception {
    store = newEmptyStore();
  }

  @AfterEach
  final void closeStore() {
    store.close();
  }

  @Test
  void getReturnsTheBytesThatPutStored() {
    store.put("photos/42/original.jpg", bytes(1, 1000));

    assertThat(store.get("photos/42/original.jpg")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(1, 1000)));
  }

  @Test
  void putReplacesTheEarlierObject() {
    store.put("a.jpg", bytes(1, 5000));
    store.put("a.jpg", bytes(2, 300));

    assertThat(store.get("a.jpg")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(2, 300)));
  }

  @Test
  void getOfAMissingKeyIsEmpty() {
    assertThat(store.get("never/stored.jpg")).isEmpty();
  }

  @Test
  void existsIsTrueOnlyWhileAnObjectIsStored() {
    assertThat(store.exists("x/y.png")).isFalse();
    store.put("x/y.png", bytes(3, 10));
    assertThat(store.exists("x/y.png")).isTrue();
    store.delete("x/y.png");
    assertThat(store.exists("x/y.png")).isFalse();
  }

  @Test
  void deleteRemovesTheObjectAndLeavesOthers() {
    store.put("p/1.jpg", bytes(1, 10));
    store.put("p/2.jpg", bytes(2, 10));

    store.delete("p/1.jpg");

    assertThat(store.get("p/1.jpg")).isEmpty();
    assertThat(store.get("p/2.jpg")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(2, 10)));
  }

  @Test
  void deleteOfAMissingKeyDoesNothing() {
    store.delete("not/there.jpg");
    store.delete("not/there.jpg");

    assertThat(store.exists("not/there.jpg")).isFalse();
  }

  @Test
  void anEmptyObjectIsStoredAndReadBackEmpty() {
    store.put("empty", new byte[0]);

    assertThat(store.exists("empty")).isTrue();
    assertThat(store.get("empty")).hasValueSatisfying(v -> assertThat(v).isEmpty());
  }

  @Test
  void aTwentyMegabyteObjectComesBackIntact() {
    byte[] big = bytes(7, 20 * 1024 * 1024);

    store.put("big/photo.raw", big);

    Optional<byte[]> read = store.get("big/photo.raw");
    assertThat(read).isPresent();
    assertThat(Arrays.equals(read.get(), big)).as("the 20 MB object read back equals the one written").isTrue();
  }

  @Test
  void theArrayPassedToPutCanBeReusedAfterwards() {
    byte[] buffer = bytes(1, 100);
    store.put("reused", buffer);
    Arrays.fill(buffer, (byte) 0);

    assertThat(store.get("reused")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(1, 100)));
  }

  @Test
  void keysOfEveryAllowedCharacterUpToFiveHundredTwelveAreAccepted() {
    String longKey = "a".repeat(200) + "/" + "b".repeat(200) + "/" + "c".repeat(110);
    assertThat(longKey).hasSize(512);
    String allCharacters = "AZaz09._-/..x/x.y/-_/v1.2..3";
    for (String key : List.of(longKey, allCharacters, "a", ".hidden", "...")) {
      store.put(key, bytes(key.length(), 20));
      assertThat(store.get(key)).as(key).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(key.length(), 20)));
    }
  }

  static Stream<String> badKeys() {
    return Stream.of("", "/a", "a//b", "a/", ".", "..", "a/./b", "a/..", "../etc/passwd", "a b", "a~b", "a\\b",
        "caf\u00e9", "a?b", "a".repeat(513));
  }

  @ParameterizedTest
  @MethodSource("badKeys")
  void everyOperationRejectsABadKeyNamingItAndTheRule(String key) {
    String quoted = "key: '" + (key.length() > 80 ? key.substring(0, 80) : key);
    assertThatThrownBy(() -> store.put(key, bytes(1, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(quoted).hasMessageEndingWith(RULE);
    assertThatThrownBy(() -> store.get(key))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(quoted).hasMessageEndingWith(RULE);
    assertThatThrownBy(() -> store.exists(key))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(quoted).hasMessageEndingWith(RULE);
    assertThatThrownBy(() -> store.delete(key))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(quoted).hasMessageEndingWith(RULE);
  }

  @Test
  void aPathClimbingOutIsRejectedWithTheExactMessage() {
    assertThatThrownBy(() -> store.get("../etc/passwd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key: '../etc/passwd' " + RULE);
  }

  @Test
  void aNullKeyOrNullBytesAreRejected() {
    assertThatThrownBy(() -> store.get(null)).isInstanceOf(IllegalArgumentException.class).hasMessage("key: null " + RULE);
    assertThatThrownBy(() -> store.put("k", null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bytes: null");
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void concurrentPutsOfOneKeyLeaveExactlyOneWrittenValueWhole() throws Exception {
    int writers = 8;
    List<byte[]> values = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      // different lengths too, so that a mix of two values cannot pass for one
      values.add(bytes(w + 10, 200_000 + w * 4099));
    }
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        byte[] value = values.get(w);
        done.add(pool.submit(() -> {
          start.await();
          for (int round = 0; round < 5; round++) {
            store.put("contended/photo.jpg", value);
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }

    byte[] stored = store.get("contended/photo.jpg").orElseThrow();
    assertThat(values.stream().filter(v -> Arrays.equals(v, stored)).count())
        .as("written values equal to the stored object (%d bytes)", stored.length)
        .isEqualTo(1);
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void readersDuringOverwritesSeeOnlyWholeObjects() throws Exception {
    byte[] first = bytes(1, 300_000);
    byte[] second = bytes(2, 257_000);
    store.put("hot.jpg", first);
    AtomicBoolean writing = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      Future<Integer> writer = pool.submit(() -> {
        try {
          for (int i = 0; i < 60; i++) {
            store.put("hot.jpg", i % 2 == 0 ? second : first);
          }
        } finally {
          writing.set(false);
        }
        return 60;
      });
      List<Future<Integer>> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(pool.submit(() -> {
          int reads = 0;
          // bounded: stops when the writer does, or after many reads
          while ((writing.get() || reads == 0) && reads < 100_000) {
            byte[] seen = store.get("hot.jpg").orElseThrow(() -> new AssertionError("the object vanished mid-overwrite"));
            if (!Arrays.equals(seen, first) && !Arrays.equals(seen, second)) {
              throw new AssertionError("a partial or mixed object of " + seen.length + " bytes was read");
            }
            reads++;
          }
          return reads;
        }));
      }
      assertThat(writer.get()).isEqualTo(60);
      for (Future<Integer> reader : readers) {
        assertThat(reader.get()).isPositive();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** {@code length} bytes whose pattern depends on {@code seed}: two seeds give different contents at every length. */
  static byte[] bytes(int seed, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed * 31 + i * 7 + (i >>> 8));
    }
    return b;
  }
}
