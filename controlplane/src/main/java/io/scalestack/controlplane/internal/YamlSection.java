package io.scalestack.controlplane.internal;

import io.scalestack.controlplane.ConfigException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * One YAML mapping of a config file, read field by field with line-accurate errors. Every field
 * read is remembered; {@link #finish()} rejects the keys nobody asked for, so a typo is an error
 * and not a silently ignored setting.
 *
 * <p>Not thread-safe: one loader reads one file on one thread.
 */
public final class YamlSection {

  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

  private final String source;
  private final String path;
  private final int line;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> known = new LinkedHashSet<>();

  private YamlSection(String source, String path, int line) {
    this.source = source;
    this.path = path;
    this.line = line;
  }

  /** The top-level section of a document; {@code root} may be null for an empty file. */
  public static YamlSection root(String source, Node root) {
    if (root == null) {
      return new YamlSection(source, "", 0);
    }
    return of(source, "", root);
  }

  private static YamlSection of(String source, String path, Node node) {
    int line = lineOf(node);
    if (!(node instanceof MappingNode mapping)) {
      throw new ConfigException(source, line, path, describe(node) + " (expected: a mapping of key: value)");
    }
    YamlSection section = new YamlSection(source, path, line);
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
        throw new ConfigException(source, lineOf(tuple.getKeyNode()), path, "a non-text key (expected: a field name)");
      }
      if (section.entries.putIfAbsent(key.getValue(), tuple) != null) {
        throw new ConfigException(source, lineOf(key), section.field(key.getValue()), "given twice (expected: once)");
      }
    }
    return section;
  }

  /** A nested section; absent means all its defaults. */
  public YamlSection section(String key) {
    NodeTuple tuple = take(key);
    if (tuple == null) {
      return new YamlSection(source, field(key), line);
    }
    return of(source, field(key), tuple.getValueNode());
  }

  /** A text field. */
  public String string(String key, String defaultValue) {
    ScalarNode scalar = scalar(key);
    return scalar == null ? defaultValue : scalar.getValue();
  }

  /** A text field that must be one of {@code allowed}. */
  public String oneOf(String key, String defaultValue, String... allowed) {
    ScalarNode scalar = scalar(key);
    if (scalar == null) {
      return defaultValue;
    }
    for (String candidate : allowed) {
      if (candidate.equals(scalar.getValue())) {
        return candidate;
      }
    }
    throw error(key, scalar, "one of " + String.join(", ", allowed));
  }

  /** An integer field within {@code [min, max]}. */
  public int integer(String key, int defaultValue, int min, int max) {
    ScalarNode scalar = scalar(key);
    if (scalar == null) {
      return defaultValue;
    }
    String expected = max == Integer.MAX_VALUE ? ">= " + min : min + ".." + max;
    long value;
    try {
      value = Long.parseLong(scalar.getValue().trim());
    } catch (NumberFormatException e) {
      throw error(key, scalar, "an integer " + expected);
    }
    if (value < min || value > max) {
      throw error(key, scalar, expected);
    }
    return (int) value;
  }

  /** A boolean field: {@code true} or {@code false}. */
  public boolean bool(String key, boolean defaultValue) {
    ScalarNode scalar = scalar(key);
    if (scalar == null) {
      return defaultValue;
    }
    return switch (scalar.getValue()) {
      case "true" -> true;
      case "false" -> false;
      default -> throw error(key, scalar, "true or false");
    };
  }

  /** A duration in milliseconds within {@code [minMillis, maxMillis]}. */
  public Duration millis(String key, long defaultMillis, int minMillis, int maxMillis) {
    return Duration.ofMillis(integer(key, (int) defaultMillis, minMillis, maxMillis));
  }

  /** A filesystem path, or {@code defaultValue} when absent. */
  public Path path(String key, Path defaultValue) {
    ScalarNode scalar = scalar(key);
    if (scalar == null) {
      return defaultValue;
    }
    if (scalar.getValue().isBlank()) {
      throw error(key, scalar, "a path");
    }
    return Path.of(scalar.getValue());
  }

  /** An IPv4 loopback-or-other literal address without port, such as {@code 127.0.1.11}. */
  public String ipv4(String key, String defaultValue) {
    ScalarNode scalar = scalar(key);
    if (scalar == null) {
      return defaultValue;
    }
    if (!isIpv4(scalar.getValue())) {
      throw error(key, scalar, "an IPv4 address such as 127.0.1.11");
    }
    return scalar.getValue();
  }

  /** A {@code host:port} field with an IPv4 literal host and a port in 1..65535. */
  public InetSocketAddress address(String key, String defaultValue) {
    ScalarNode scalar = scalar(key);
    String text = scalar == null ? defaultValue : scalar.getValue();
    int colon = text.lastIndexOf(':');
    String expected = "host:port with an IPv4 host and a port in 1..65535";
    if (colon < 0 || !isIpv4(text.substring(0, colon))) {
      throw error(key, scalar, expected);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw error(key, scalar, expected);
    }
    if (port < 1 || port > 65535) {
      throw error(key, scalar, expected);
    }
    return InetSocketAddress.createUnresolved(text.substring(0, colon), port);
  }

  /** The line a field is on, or this section's line when the field is absent. */
  public int lineOf(String key) {
    NodeTuple tuple = entries.get(key);
    return tuple == null ? line : lineOf(tuple.getKeyNode());
  }

  /** The dotted path of {@code key} in this section. */
  public String field(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** An error about a field's value, at that field's line. */
  public ConfigException error(String key, String value, String expected) {
    return new ConfigException(source, lineOf(key), field(key), value + " (expected: " + expected + ")");
  }

  /** Rejects every key that was not read: unknown keys are typos. */
  public void finish() {
    for (Map.Entry<String, NodeTuple> entry : entries.entrySet()) {
      if (!known.contains(entry.getKey())) {
        throw new ConfigException(
            source,
            lineOf(entry.getValue().getKeyNode()),
            field(entry.getKey()),
            "unknown key (expected one of: " + String.join(", ", known) + ")");
      }
    }
  }

  private NodeTuple take(String key) {
    known.add(key);
    return entries.get(key);
  }

  private ScalarNode scalar(String key) {
    NodeTuple tuple = take(key);
    if (tuple == null) {
      return null;
    }
    Node value = tuple.getValueNode();
    if (!(value instanceof ScalarNode scalar)) {
      throw new ConfigException(source, lineOf(value), field(key), describe(value) + " (expected: a single value)");
    }
    return scalar;
  }

  private ConfigException error(String key, ScalarNode scalar, String expected) {
    String shown = scalar == null ? "(default)" : scalar.getValue();
    int at = scalar == null ? lineOf(key) : lineOf(scalar);
    return new ConfigException(source, at, field(key), shown + " (expected: " + expected + ")");
  }

  private static boolean isIpv4(String text) {
    var matcher = IPV4.matcher(text);
    if (!matcher.matches()) {
      return false;
    }
    for (int i = 1; i <= 4; i++) {
      if (Integer.parseInt(matcher.group(i)) > 255) {
        return false;
      }
    }
    return true;
  }

  private static String describe(Node node) {
    return switch (node.getNodeType()) {
      case SCALAR -> ((ScalarNode) node).getValue();
      case SEQUENCE -> "a list";
      case MAPPING -> "a mapping";
      default -> node.getNodeType().name().toLowerCase();
    };
  }

  private static int lineOf(Node node) {
    return node.getStartMark().map(mark -> mark.getLine() + 1).orElse(0);
  }
}
