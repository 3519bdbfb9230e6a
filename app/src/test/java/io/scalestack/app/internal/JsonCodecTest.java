package io.scalestack.app.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the cache tier stores in Redis comes back as it went in, and a newer server's extra field is ignored. */
class JsonCodecTest {

  @Test
  void profilesAndPhotosRoundTripThroughTheirJson() {
    JsonCodec<UserRepository.User> users = new JsonCodec<>(UserRepository.User.class);
    JsonCodec<PhotoRepository.Photo> photos = new JsonCodec<>(PhotoRepository.Photo.class);
    UserRepository.User user = new UserRepository.User(1L << 60, "ada", "Ada ✓", "line\nbreak");
    PhotoRepository.Photo pending = new PhotoRepository.Photo(7L << 50, 1L << 60, 5L, "job-1", "[{\"op\":\"blur\"}]",
        "image/png", 640, 480, null, "2026-12-07T00:00:00Z");

    assertThat(users.decode(users.encode(user))).isEqualTo(user);
    assertThat(photos.decode(photos.encode(pending))).isEqualTo(pending);
  }

  @Test
  void aFieldItDoesNotKnowIsIgnored() {
    JsonCodec<UserRepository.User> users = new JsonCodec<>(UserRepository.User.class);
    byte[] newer = "{\"id\":3,\"username\":\"bo\",\"displayName\":\"Bo\",\"bio\":\"\",\"avatar\":\"x\"}"
        .getBytes(StandardCharsets.UTF_8);

    assertThat(users.decode(newer)).isEqualTo(new UserRepository.User(3, "bo", "Bo", ""));
  }
}
