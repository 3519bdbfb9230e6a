package io.scalestack.engines.internal;

import java.util.Locale;

/** The operating system and CPU of this JVM, as the bundled-binary artifacts name them. */
public final class Platform {

  private Platform() {}

  /** {@code linux}, {@code darwin}, {@code windows} or the raw {@code os.name}. */
  public static String os() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (os.contains("linux")) {
      return "linux";
    }
    if (os.contains("mac") || os.contains("darwin")) {
      return "darwin";
    }
    if (os.contains("windows")) {
      return "windows";
    }
    return os;
  }

  /** {@code amd64}, {@code arm64} or the raw {@code os.arch}. */
  public static String arch() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      default -> arch;
    };
  }
}
