package io.scalestack.app.internal;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Jetty server every member runs, with a probe servlet in place of the photo service. */
class JettyServersTest {

  private final HttpClient client = HttpClient.newHttpClient();
  private final AtomicReference<Thread> handlerThread = new AtomicReference<>();
  private final CountDownLatch entered = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private Server server;

  private void start(boolean blockUntilReleased) throws Exception {
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(
        new ServletHolder(
            new HttpServlet() {
              @Override
              protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                handlerThread.set(Thread.currentThread());
                entered.countDown();
                if (blockUntilReleased) {
                  try {
                    release.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                  }
                }
                response.getWriter().write("probed");
              }
            }),
        "/probe");
    server =
        JettyServers.create(
            "web-probe", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Duration.ofSeconds(5), context);
    server.start();
  }

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    if (server != null) {
      server.stop();
    }
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + JettyServers.localPort(server) + path);
  }

  @Test
  void servletsRunOnNamedVirtualThreadsAndResponsesSayWhoServedThem() throws Exception {
    start(false);

    HttpResponse<String> response =
        client.send(HttpRequest.newBuilder(uri("/probe")).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.body()).isEqualTo("probed");
    assertThat(response.headers().firstValue("X-Served-By")).hasValue("web-probe");
    assertThat(response.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(handlerThread.get().isVirtual()).isTrue();
    assertThat(handlerThread.get().getName()).startsWith("web-probe-vt-");
  }

  @Test
  void stopLetsARequestInFlightFinish() throws Exception {
    start(true);
    CompletableFuture<HttpResponse<String>> inFlight =
        client.sendAsync(HttpRequest.newBuilder(uri("/probe")).build(), HttpResponse.BodyHandlers.ofString());
    entered.await();

    CompletableFuture<Void> stopping =
        CompletableFuture.runAsync(
            () -> {
              try {
                server.stop();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    release.countDown();

    assertThat(inFlight.get().statusCode()).isEqualTo(200);
    assertThat(inFlight.get().body()).isEqualTo("probed");
    stopping.get();
    assertThat(server.isStopped()).isTrue();
  }

  @Test
  void malformedHttpIsAnsweredInTheJsonErrorShape() throws Exception {
    start(false);

    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), JettyServers.localPort(server))) {
      OutputStream out = socket.getOutputStream();
      out.write("GET /probe HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);

      assertThat(response).startsWith("HTTP/1.1 400 ");
      assertThat(response).containsIgnoringCase("Content-Type: application/json");
      assertThat(response).contains("{\"error\":\"400 Bad Request");
      assertThat(response).contains("\"field\":null}");
    }
  }
}
