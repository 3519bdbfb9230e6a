package io.scalestack.balancer.internal;

import io.scalestack.balancer.LbConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * One YAML mapping of {@code lb.yaml}, read key by key with line-accurate errors ({@link
 * LbConfigException}). Every key read is remembered; {@link #finish()} rejects the others, so a
 * typo is an error, not a silently ignored setting. Values go to validating setters; their {@code
 * IllegalArgumentException} comes back with file, line and field.
 *
 * <p>Not thread-safe: one loader reads one file on one thread.
 */
public final class YamlMap {

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)");

  private final String source;
  private final String path;
  private final int line;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> known = new LinkedHashSet<>();

  private YamlMap(String source, String path, int line) {
    this.source = source;
    this.path = path;
    this.line = line;
  }

  /** Parses {@code text}: an empty document is an empty mapping. */
  public static YamlMap parse(String source, String text) {
    Node root;
    try {
      var documents = new Compose(LoadSettings.builder().setLabel(source).build()).composeAllFromString(text).iterator();
      if (!documents.hasNext()) {
        return new YamlMap(source, "", 0);
      }
      root = documents.next();
      if (documents.hasNext()) {
        throw new LbConfigException(source, 0, "", "more than one YAML document (expected: one)");
      }
    } catch (MarkedYamlEngineException e) {
      int at = e.getProblemMark().map(mark -> mark.getLine() + 1).orElse(0);
      throw new LbConfigException(source, at, "", "not valid YAML: " + e.getProblem() + " (expected: YAML key: value lines)");
    } catch (YamlEngineException e) {
      throw new LbConfigException(source, 0, "", "not valid YAML: " + e.getMessage() + " (expected: YAML key: value lines)");
    }
    return of(source, "", root);
  }

  private static YamlMap of(String source, String path, Node node) {
    if (!(node instanceof MappingNode mapping)) {
      throw new LbConfigException(source, lineOf(node), path, describe(node) + " (expected: a mapping of key: value)");
    }
    YamlMap map = new YamlMap(source, path, lineOf(node));
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
        throw new LbConfigException(source, lineOf(tuple.getKeyNode()), path, "a key that is not text (expected: a field name)");
      }
      if (map.entries.putIfAbsent(key.getValue(), tuple) != null) {
        throw new LbConfigException(source, lineOf(key), map.field(key.getValue()), "given twice (expected: once)");
      }
    }
    return map;
  }

  /** Whether {@code key} is present (and marks it known). */
  public boolean has(String key) {
    known.add(key);
    return entries.containsKey(key);
  }

  /** The keys present, in file order (all marked known). */
  public List<String> keys() {
    known.addAll(entries.keySet());
    return List.copyOf(entries.keySet());
  }

  /** A nested mapping; absent means empty. */
  public YamlMap map(String key) {
    NodeTuple tuple = take(key);
    return tuple == null ? new YamlMap(source, field(key), line) : of(source, field(key), tuple.getValueNode());
  }

  /** A list of mappings; absent means empty. */
  public List<YamlMap> maps(String key) {
    NodeTuple tuple = take(key);
    if (tuple == null) {
      return List.of();
    }
    if (!(tuple.getValueNode() instanceof SequenceNode sequence)) {
      throw new LbConfigException(source, lineOf(tuple.getValueNode()), field(key),
          describe(tuple.getValueNode()) + " (expected: a list)");
    }
    List<YamlMap> maps = new ArrayList<>();
    int i = 0;
    for (Node item : sequence.getValue()) {
      maps.add(of(source, field(key) + "[" + i++ + "]", item));
    }
    return maps;
  }

  /** A text value, or null when absent. */
  public String string(String key) {
    ScalarNode scalar = scalar(key);
    return scalar == null ? null : scalar.getValue();
  }

  /** A single value or a list of them; absent means empty. */
  public List<String> strings(String key) {
    NodeTuple tuple = take(key);
    if (tuple == null) {
      return List.of();
    }
    Node value = tuple.getValueNode();
    if (value instanceof ScalarNode scalar) {
      return List.of(scalar.getValue());
    }
    if (value instanceof SequenceNode sequence) {
      List<String> list = new ArrayList<>();
      for (Node item : sequence.getValue()) {
        if (!(item instanceof ScalarNode scalar)) {
          throw new LbConfigException(source, lineOf(item), field(key), describe(item) + " (expected: a single value)");
        }
        list.add(scalar.getValue());
      }
      return list;
    }
    throw new LbConfigException(source, lineOf(value), field(key), describe(value) + " (expected: a value or a list of values)");
  }

  /** Passes the text of {@code key}, if present, to {@code setter}; its rejection names file and line. */
  public void text(String key, Consumer<String> setter) {
    ScalarNode scalar = scalar(key);
    if (scalar != null) {
      apply(key, scalar, scalar.getValue(), setter);
    }
  }

  /** Passes the integer {@code key}, if present, to {@code setter}. */
  public void integer(String key, Consumer<Integer> setter) {
    ScalarNode scalar = scalar(key);
    if (scalar != null) {
      int value;
      try {
        value = Integer.parseInt(scalar.getValue().strip());
      } catch (NumberFormatException e) {
        throw error(key, scalar, "an integer");
      }
      apply(key, scalar, value, setter);
    }
  }

  /** Passes the boolean {@code key} ({@code true} or {@code false}), if present, to {@code setter}. */
  public void bool(String key, Consumer<Boolean> setter) {
    ScalarNode scalar = scalar(key);
    if (scalar != null) {
      boolean value = switch (scalar.getValue().strip()) {
        case "true" -> true;
        case "false" -> false;
        default -> throw error(key, scalar, "true or false");
      };
      apply(key, scalar, value, setter);
    }
  }

  /** Passes the number {@code key}, if present, to {@code setter}. */
  public void decimal(String key, Consumer<Double> setter) {
    ScalarNode scalar = scalar(key);
    if (scalar != null) {
      double value;
      try {
        value = Double.parseDouble(scalar.getValue().strip());
      } catch (NumberFormatException e) {
        throw error(key, scalar, "a number");
      }
      apply(key, scalar, value, setter);
    }
  }

  /** Passes the duration {@code key} ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, or ISO-8601), if present. */
  public void duration(String key, Consumer<Duration> setter) {
    ScalarNode scalar = scalar(key);
    if (scalar != null) {
      String text = scalar.getValue().strip().toLowerCase(Locale.ROOT);
      Duration value;
      Matcher m = DURATION.matcher(text);
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        value = switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
      } else {
        try {
          value = Duration.parse(scalar.getValue().strip());
        } catch (java.time.format.DateTimeParseException e) {
          throw error(key, scalar, "a duration such as 500ms, 30s, 5m, 1h or PT30S");
        }
      }
      apply(key, scalar, value, setter);
    }
  }

  /** An error about this mapping as a whole. */
  public LbConfigException error(String detail) {
    return new LbConfigException(source, line, path, detail);
  }

  /** An error about a rejected value, from the setter's message. */
  public LbConfigException rejected(String key, IllegalArgumentException e) {
    NodeTuple tuple = entries.get(key);
    int at = tuple == null ? line : lineOf(tuple.getValueNode());
    return wrap(key, at, e);
  }

  /** The dotted path of {@code key}. */
  public String field(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** Rejects every key that was not read. */
  public void finish() {
    for (Map.Entry<String, NodeTuple> entry : entries.entrySet()) {
      if (!known.contains(entry.getKey())) {
        throw new LbConfigException(source, lineOf(entry.getValue().getKeyNode()), field(entry.getKey()),
            "unknown key (expected one of: " + String.join(", ", known) + ")");
      }
    }
  }

  private <T> void apply(String key, ScalarNode scalar, T value, Consumer<T> setter) {
    try {
      setter.accept(value);
    } catch (LbConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw wrap(key, lineOf(scalar), e);
    }
  }

  // "weight: 0 (expected: 1..256)" from a setter becomes "lb.yaml:9: pools.api.backends[0].weight: 0 (expected: 1..256)"
  private LbConfigException wrap(String key, int at, IllegalArgumentException e) {
    String message = String.valueOf(e.getMessage());
    int colon = message.indexOf(": ");
    if (colon > 0 && message.substring(0, colon).equals(key)) {
      return new LbConfigException(source, at, field(key), message.substring(colon + 2));
    }
    return new LbConfigException(source, at, field(key), message);
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
      throw new LbConfigException(source, lineOf(value), field(key), describe(value) + " (expected: a single value)");
    }
    return scalar;
  }

  private LbConfigException error(String key, ScalarNode scalar, String expected) {
    return new LbConfigException(source, lineOf(scalar), field(key), "'" + scalar.getValue() + "' (expected: " + expected + ")");
  }

  private static String describe(Node node) {
    return switch (node.getNodeType()) {
      case SCALAR -> "'" + ((ScalarNode) node).getValue() + "'";
      case SEQUENCE -> "a list";
      case MAPPING -> "a mapping";
      default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
    };
  }

  private static int lineOf(Node node) {
    return node.getStartMark().map(mark -> mark.getLine() + 1).orElse(0);
  }
}
