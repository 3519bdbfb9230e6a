package io.scalestack.app.internal;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The checks of the settings a web server and a photo worker share, so that both builders refuse a
 * bad value with the same sentence ({@code field: value (expected: …)}). Stateless.
 */
public final class MemberSettings {

  private static final Pattern MEMBER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern QUEUE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private MemberSettings() {}

  /** A member name such as {@code web-1} or {@code worker-1}. */
  public static String memberName(String memberName) {
    Objects.requireNonNull(memberName, "memberName");
    if (!MEMBER_NAME.matcher(memberName).matches()) {
      throw new IllegalArgumentException("memberName: '" + memberName
          + "' (expected: 1..64 characters of [A-Za-z0-9._-], starting with a letter or digit)");
    }
    return memberName;
  }

  /** A resolved address to listen on. */
  public static InetSocketAddress listen(InetSocketAddress listen) {
    Objects.requireNonNull(listen, "listen");
    if (listen.isUnresolved()) {
      throw new IllegalArgumentException("listen: " + listen + " (expected: a resolved address)");
    }
    return listen;
  }

  /** A Redis URI: {@code redis://}, {@code rediss://} or {@code redis-sentinel://}. */
  public static String redisUri(String redisUri) {
    Objects.requireNonNull(redisUri, "redisUri");
    if (!redisUri.startsWith("redis://") && !redisUri.startsWith("rediss://")
        && !redisUri.startsWith("redis-sentinel://")) {
      throw new IllegalArgumentException("redisUri: '" + Redact.uri(redisUri)
          + "' (expected: a URI starting with redis://, rediss:// or redis-sentinel://)");
    }
    return redisUri;
  }

  /** The photo queue's name, checked as {@code field}. */
  public static String queueName(String field, String name) {
    Objects.requireNonNull(name, field);
    if (!QUEUE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(field + ": '" + name + "' (expected: 1..64 characters of [A-Za-z0-9_-])");
    }
    return name;
  }

  /** A RabbitMQ broker URI, checked as {@code field}; shown without its password. */
  public static String amqpUri(String field, String amqpUri) {
    Objects.requireNonNull(amqpUri, field);
    if (!amqpUri.startsWith("amqp://") && !amqpUri.startsWith("amqps://")) {
      throw new IllegalArgumentException(field + ": '" + Redact.uri(amqpUri)
          + "' (expected: amqp://user:password@host:port)");
    }
    return amqpUri;
  }
}
