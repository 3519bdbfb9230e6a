package io.scalestack.engines;

import static org.assertj.core.api.Assertions.assertThat;

import io.scalestack.engines.testing.TestEngines;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class TestEnginesTest {

  @Test
  void sharedRedisIsStartedOnceAndAnswers() throws Exception {
    RedisServer redis = TestEngines.redis();
    assertThat(TestEngines.redis()).isSameAs(redis);
    assertThat(redis.isRunning()).isTrue();
    assertThat(redis.address().getPort()).isNotIn(0, 6379, 16379);
    try (Socket socket = new Socket(redis.address().getAddress(), redis.address().getPort())) {
      OutputStream out = socket.getOutputStream();
      out.write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      assertThat(new String(in.readNBytes(7), StandardCharsets.US_ASCII)).isEqualTo("+PONG\r\n");
    }
  }

  @Test
  void sharedPostgresIsStartedOnceAndServesTheScalestackDatabase() throws Exception {
    PostgresServer postgres = TestEngines.postgres();
    assertThat(TestEngines.postgres()).isSameAs(postgres);
    assertThat(postgres.jdbcUrl()).startsWith("jdbc:postgresql://127.0.0.1:").endsWith("/scalestack");
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT current_database(), current_user, version()")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1)).isEqualTo("scalestack");
      assertThat(rows.getString(2)).isEqualTo("scalestack");
      assertThat(rows.getString(3)).startsWith("PostgreSQL 16.");
    }
  }
}
