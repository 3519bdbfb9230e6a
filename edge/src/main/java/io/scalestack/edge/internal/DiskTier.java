package io.scalestack.edge.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional second tier: objects evicted from memory are written to files in one directory,
 * bounded by total bytes with least-recently-used eviction; a memory miss that finds its key here
 * reads the file back (off the event loop) and promotes the object to memory, removing it here.
 * The tier is a cache, not a store: files left by an earlier run are deleted at start.
 *
 * <p>Thread-safe: the index is guarded by this object's monitor; file I/O runs on one
 * {@code edge-disk} thread, never on an event loop.
 */
final class DiskTier implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DiskTier.class);
  private static final int MAGIC = 0x45444745; // "EDGE"
  private static final String SUFFIX = ".edge";

  /** What the index keeps of a file: enough to remove the object from the url and tag indexes. */
  record Record(Path file, long size, Set<String> tags) {}

  private final Path directory;
  private final long maxBytes;
  private final BiConsumer<CacheKey, Record> onEvicted;
  private final ExecutorService io = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "edge-disk");
    t.setDaemon(true);
    return t;
  });
  private final LinkedHashMap<CacheKey, Record> index = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;
  private long sequence;

  DiskTier(Path directory, long maxBytes, BiConsumer<CacheKey, Record> onEvicted) throws IOException {
    this.directory = directory;
    this.maxBytes = maxBytes;
    this.onEvicted = onEvicted;
    Files.createDirectories(directory);
    try (DirectoryStream<Path> old = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
      for (Path p : old) {
        Files.deleteIfExists(p);
      }
    }
  }

  synchronized boolean contains(CacheKey key) {
    return index.containsKey(key);
  }

  synchronized long bytes() {
    return bytes;
  }

  /** Writes {@code entry} in the background; takes over one reference to its body. */
  void store(Entry entry) {
    try {
      io.execute(() -> write(entry));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      entry.body.release(); // closing: the object is dropped, as a cache may
      onEvicted.accept(entry.key, new Record(null, 0, entry.tags));
    }
  }

  private void write(Entry entry) {
    Path file;
    synchronized (this) {
      file = directory.resolve(Long.toHexString(++sequence) + SUFFIX);
    }
    long size;
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
         DataOutputStream data = new DataOutputStream(out)) {
      data.writeInt(MAGIC);
      data.writeUTF(entry.key.url());
      data.writeUTF(entry.key.secondary());
      data.writeInt(entry.status);
      data.writeUTF(entry.reason);
      data.writeLong(entry.requestTime);
      data.writeLong(entry.responseTime);
      data.writeInt(entry.headers.size());
      for (Map.Entry<String, String> h : entry.headers) {
        data.writeUTF(h.getKey());
        data.writeUTF(h.getValue());
      }
      int length = entry.body.readableBytes();
      data.writeInt(length);
      entry.body.getBytes(entry.body.readerIndex(), data, length);
      data.flush();
      size = Files.size(file);
    } catch (IOException e) {
      log.warn("edge disk tier: could not write {}: {}", file, e.toString());
      deleteQuietly(file);
      onEvicted.accept(entry.key, new Record(file, 0, entry.tags));
      return;
    } finally {
      entry.body.release();
    }
    if (size > maxBytes) {
      deleteQuietly(file);
      onEvicted.accept(entry.key, new Record(file, size, entry.tags));
      return;
    }
    java.util.List<Map.Entry<CacheKey, Record>> evicted = new java.util.ArrayList<>();
    synchronized (this) {
      Record old = index.put(entry.key, new Record(file, size, entry.tags));
      bytes += size;
      if (old != null) {
        bytes -= old.size();
        deleteQuietly(old.file());
      }
      Iterator<Map.Entry<CacheKey, Record>> it = index.entrySet().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        Map.Entry<CacheKey, Record> eldest = it.next();
        it.remove();
        bytes -= eldest.getValue().size();
        evicted.add(eldest);
      }
    }
    for (Map.Entry<CacheKey, Record> e : evicted) {
      deleteQuietly(e.getValue().file());
      onEvicted.accept(e.getKey(), e.getValue());
    }
  }

  /** Reads and removes the object of {@code key}; completes with null when it is not (or no longer) here. */
  CompletableFuture<Entry> take(CacheKey key) {
    CompletableFuture<Entry> result = new CompletableFuture<>();
    try {
      io.execute(() -> {
        Record record;
        synchronized (this) {
          record = index.remove(key);
          if (record != null) {
            bytes -= record.size();
          }
        }
        if (record == null) {
          result.complete(null);
          return;
        }
        try {
          result.complete(read(key, record.file()));
        } catch (IOException | RuntimeException e) {
          log.warn("edge disk tier: could not read {}: {}", record.file(), e.toString());
          onEvicted.accept(key, record);
          result.complete(null);
        } finally {
          deleteQuietly(record.file());
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      result.complete(null); // closing
    }
    return result;
  }

  /** Removes the object of {@code key} (a purge); returns whether it was here. */
  boolean remove(CacheKey key) {
    Record record;
    synchronized (this) {
      record = index.remove(key);
      if (record != null) {
        bytes -= record.size();
      }
    }
    if (record != null) {
      Path file = record.file();
      try {
        io.execute(() -> deleteQuietly(file));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        deleteQuietly(file); // closing: delete on this thread
      }
    }
    return record != null;
  }

  private static Entry read(CacheKey key, Path file) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024);
         DataInputStream data = new DataInputStream(in)) {
      if (data.readInt() != MAGIC) {
        throw new IOException("not an edge object file");
      }
      String url = data.readUTF();
      String secondary = data.readUTF();
      if (!url.equals(key.url()) || !secondary.equals(key.secondary())) {
        throw new IOException("file holds another key");
      }
      int status = data.readInt();
      String reason = data.readUTF();
      long requestTime = data.readLong();
      long responseTime = data.readLong();
      int n = data.readInt();
      HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
      for (int i = 0; i < n; i++) {
        headers.add(data.readUTF(), data.readUTF());
      }
      int length = data.readInt();
      ByteBuf body = Unpooled.directBuffer(length, length);
      try {
        while (body.isWritable()) {
          if (body.writeBytes(data, body.writableBytes()) < 0) {
            throw new IOException("truncated body");
          }
        }
      } catch (IOException | RuntimeException e) {
        body.release();
        throw e;
      }
      return Entry.create(key, status, reason, headers, body, requestTime, responseTime);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("edge disk tier: could not delete {}: {}", file, e.toString());
    }
  }

  @Override
  public void close() {
    io.shutdown();
    try {
      if (!io.awaitTermination(5, TimeUnit.SECONDS)) {
        io.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
