package io.scalestack.app.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.data.ShardCatalog;
import io.scalestack.data.ShardedGroups;
import io.scalestack.data.SnowflakeIds;
import io.scalestack.session.SessionRepository;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * Assembles the photo service's servlet context: its routes, the metrics filter in front of
 * everything, and the shared-store session filter in front of {@code /api/*}.
 *
 * <p>The context owns no resources; the caller opens and closes the pool and the session
 * repository. Stateless.
 */
public final class PhotoService {

  /** The routes, in the order a 404 lists them. */
  static final String ROUTES = "/, /api/signup, /api/login, /api/logout, /api/logout-everywhere, /api/me, /api/users/{id},"
      + " /api/photos, /api/photos/{id}, /api/photos/{id}/versions, /api/photos/{id}/edits, /api/jobs/{id}, /health, /metrics";

  private PhotoService() {}

  /** What the context is built from. */
  public record Settings(
      String member,
      MeterRegistry registry,
      Supplier<String> scrape,
      String metricsContentType,
      ReplicationGroup database,
      ShardCatalog catalog,
      ShardedGroups shards,
      SnowflakeIds ids,
      Filter sessionFilter,
      SessionRepository sessions,
      BooleanSupplier redisReachable,
      int bcryptCost,
      int maxRequestBodyBytes,
      String adminToken,
      java.util.function.BiConsumer<String, java.util.List<String>> databaseTopologyUpdate,
      io.scalestack.blob.BlobStore blobs,
      io.scalestack.queue.JobQueue photoQueue,
      int maxPhotoBytes,
      long maxPhotoPixels,
      String assetBase,
      Caches caches) {}

  public static ServletContextHandler context(Settings settings) {
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.setContextPath("/");
    context.setErrorHandler(JsonErrorHandlers.servlet());

    EnumSet<DispatcherType> requests = EnumSet.of(DispatcherType.REQUEST);
    // Filter order is registration order: time everything, including the session store's work.
    context.addFilter(new FilterHolder(new HttpMetricsFilter(settings.registry())), "/*", requests);
    // Only the API has sessions: /health, /metrics and the page never touch Redis.
    context.addFilter(new FilterHolder(settings.sessionFilter()), "/api/*", requests);

    // Never more concurrent hashes than carriers minus one: see PasswordHasher.
    int hashers = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    UserRepository repository = new UserRepository(settings.catalog(), settings.shards(), settings.ids());
    // hot: 10% of the profile reads, once at least 50 (decayed, half-life 500 ms) were counted
    HotProfiles profiles = new HotProfiles(repository, io.scalestack.data.HotKeys.builder().minAccesses(50).build(),
        java.time.Duration.ofSeconds(1), java.time.Clock.systemUTC(), settings.registry(),
        settings.caches() == null ? null : settings.caches().profiles());
    UserApi users =
        new UserApi(
            repository,
            profiles,
            new PasswordHasher(settings.bcryptCost(), hashers),
            settings.sessions(),
            settings.maxRequestBodyBytes());
    add(context, "/api/signup", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("POST", users::signup)));
    add(context, "/api/login", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("POST", users::login)));
    add(context, "/api/logout", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("POST", users::logout)));
    add(context, "/api/logout-everywhere",
        new ApiServlet(settings.maxRequestBodyBytes(), Map.of("POST", users::logoutEverywhere)));
    add(context, "/api/me", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("GET", users::me, "PUT", users::updateMe)));
    add(context, "/api/users/*", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("GET", users::profile)));
    // one upload decoded at a time: a 25-megapixel image takes about 100 MB while it is checked
    PhotoApi photos = new PhotoApi(new PhotoRepository(settings.shards()), settings.blobs(), settings.photoQueue(),
        settings.ids(), users, new PhotoApi.Limits(settings.maxPhotoBytes(), settings.maxPhotoPixels(), 1),
        settings.maxRequestBodyBytes(), settings.assetBase(), settings.caches() == null ? null : settings.caches().photos());
    add(context, "/api/photos", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("POST", photos::upload,
        "GET", photos::list)));
    add(context, "/api/photos/*", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("GET", photos::get,
        "POST", photos::post)));
    add(context, "/api/jobs/*", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("GET", photos::job)));

    ReplicationGroup database = settings.database();
    Map<String, BooleanSupplier> checks = new LinkedHashMap<>();
    checks.put("database", () -> Database.isReachable(database));
    checks.put("redis", settings.redisReachable());
    add(context, "/health", new Servlets.Health(settings.member(), checks));
    add(context, "/metrics", new Servlets.Metrics(settings.metricsContentType(), settings.scrape()));
    if (settings.adminToken() != null) {
      AdminApi admin = new AdminApi(settings.adminToken(), settings.databaseTopologyUpdate(), profiles::hot);
      add(context, "/internal/database-topology",
          new ApiServlet(settings.maxRequestBodyBytes(), Map.of("PUT", admin::updateDatabaseTopology)));
      add(context, "/internal/hot-keys", new ApiServlet(settings.maxRequestBodyBytes(), Map.of("GET", admin::hotKeys)));
    }

    // "" is the context root exactly (Servlet 6.0 section 12.2); "/" catches everything else.
    // The script under a fingerprinted name (immutable, for browsers and the CDN edge), the page
    // naming it revalidated on every use; /app.js stays for scripts and people who type it.
    byte[] script = Servlets.resource("/io/scalestack/app/static/app.js");
    String scriptPath = "/static/" + Servlets.fingerprinted("app.js", script);
    byte[] page = new String(Servlets.resource("/io/scalestack/app/static/index.html"), StandardCharsets.UTF_8)
        .replace("src=\"/app.js\"", "src=\"" + settings.assetBase() + scriptPath + "\"").getBytes(StandardCharsets.UTF_8);
    add(context, "", new Servlets.StaticFile(page, "text/html; charset=utf-8", false, settings.assetBase()));
    add(context, "/app.js", new Servlets.StaticFile(script, "text/javascript; charset=utf-8", false, ""));
    add(context, scriptPath, new Servlets.StaticFile(script, "text/javascript; charset=utf-8", true, ""));
    add(context, "/", new Servlets.NotFound(ROUTES, settings.maxRequestBodyBytes()));
    return context;
  }

  private static void add(ServletContextHandler context, String pathSpec, jakarta.servlet.Servlet servlet) {
    context.addServlet(new ServletHolder(servlet), pathSpec);
  }
}
