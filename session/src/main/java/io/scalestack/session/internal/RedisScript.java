package io.scalestack.session.internal;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script run atomically by Redis: sent by its SHA-1 with {@code EVALSHA}, and in full with
 * {@code EVAL} only when the server does not know it yet (first use, or after a restart emptied
 * its script cache).
 *
 * <p>Not API. Immutable and thread-safe.
 */
public final class RedisScript {

  private final String source;
  private final String sha1;

  /** A script with this Lua source. */
  public RedisScript(String source) {
    this.source = source;
    this.sha1 = sha1Hex(source);
  }

  /**
   * Loads the script into the server's script cache ({@code SCRIPT LOAD}), so that the first
   * requests after a connect do not each pay a {@code NOSCRIPT} reply and a second round trip.
   */
  public void load(RedisScriptingCommands<String, String> commands) {
    commands.scriptLoad(source);
  }

  /** Runs the script, expecting an integer reply. */
  public long runForLong(RedisScriptingCommands<String, String> commands, String[] keys,
      String... args) {
    Long reply;
    try {
      reply = commands.evalsha(sha1, ScriptOutputType.INTEGER, keys, args);
    } catch (RedisNoScriptException e) {
      reply = commands.eval(source, ScriptOutputType.INTEGER, keys, args);
    }
    return reply;
  }

  /** Runs the script, expecting an array of bulk strings (an empty list for an empty array). */
  public List<String> runForStrings(RedisScriptingCommands<String, String> commands, String[] keys,
      String... args) {
    List<Object> reply;
    try {
      reply = commands.evalsha(sha1, ScriptOutputType.MULTI, keys, args);
    } catch (RedisNoScriptException e) {
      reply = commands.eval(source, ScriptOutputType.MULTI, keys, args);
    }
    List<String> strings = new ArrayList<>(reply.size());
    for (Object element : reply) {
      strings.add(String.valueOf(element));
    }
    return strings;
  }

  private static String sha1Hex(String source) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1")
          .digest(source.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide SHA-1 (MessageDigest's Javadoc).
      throw new IllegalStateException("SHA-1 not available", e);
    }
  }
}
