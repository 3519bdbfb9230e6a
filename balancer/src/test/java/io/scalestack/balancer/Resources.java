package io.scalestack.balancer;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Closes what a test started — balancers, backends, sockets — last first, after each test, even
 * when the test failed. Register with {@code @RegisterExtension}. Not thread-safe: one test at a
 * time.
 */
final class Resources implements AfterEachCallback {

  private final List<AutoCloseable> resources = new ArrayList<>();

  /** Remembers {@code resource} for closing after the test; returns it. */
  <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    Exception first = null;
    for (AutoCloseable resource : resources.reversed()) {
      try {
        resource.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    resources.clear();
    if (first != null) {
      throw first;
    }
  }
}
