package io.scalestack.session.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttributeValuesTest {

  @Test
  void jsonDocumentsSurviveTheRoundTripAsPlainMapsAndLists() {
    Map<String, Object> cart = new LinkedHashMap<>();
    cart.put("items", new ArrayList<>(List.of("photo-1", "photo-2")));
    cart.put("total", 12.5);
    cart.put("count", 2);
    cart.put("gift", null);
    cart.put("owner", Map.of("id", 42L));

    String stored = AttributeValues.encode(cart);
    Object back = AttributeValues.decode(stored);

    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("items", List.of("photo-1", "photo-2"));
    expected.put("total", 12.5);
    expected.put("count", 2);
    expected.put("gift", null);
    expected.put("owner", Map.of("id", 42)); // JSON has no long: a small number reads back as Integer
    assertThat(stored).startsWith("j:{");
    assertThat(back).isInstanceOf(LinkedHashMap.class).isEqualTo(expected);
    assertThat(AttributeValues.encode(back)).isEqualTo(stored);
    assertThat(AttributeValues.decode("d:1.5")).isEqualTo(1.5);
  }

  @Test
  void aCopyIsIndependentOfItsOriginal() {
    List<Object> cart = new ArrayList<>(List.of("photo-1"));
    @SuppressWarnings("unchecked")
    List<Object> copy = (List<Object>) AttributeValues.copy(cart);
    copy.add("photo-2");
    assertThat(cart).containsExactly("photo-1");
    assertThat(AttributeValues.copy("text")).isSameAs(AttributeValues.copy("text"));
  }

  @Test
  void unsupportedValuesAreRejectedSayingWhereAndWhat() {
    Map<Object, Object> badKey = new HashMap<>();
    badKey.put(1, "x");
    assertThatThrownBy(() -> AttributeValues.requireSupported("cart", badKey))
        .hasMessageStartingWith("session attribute 'cart': a map key of type java.lang.Integer (expected: ");
    assertThatThrownBy(() -> AttributeValues.requireSupported("cart", Map.of("items", List.of(new StringBuilder()))))
        .hasMessageStartingWith("session attribute 'cart': unsupported type java.lang.StringBuilder at .items[0]");
    Object deep = "leaf";
    for (int i = 0; i < 40; i++) {
      deep = List.of(deep);
    }
    Object tooDeep = deep;
    assertThatThrownBy(() -> AttributeValues.requireSupported("deep", tooDeep))
        .hasMessageContaining("nested deeper than 32");
  }

  @Test
  void malformedOrHostileStoredDocumentsAreRejected() {
    for (String stored : List.of("j:{", "j:5", "j:\"text\"", "j:[1] [2]", "j:" + "[".repeat(100) + "]".repeat(100), "x:1", "j")) {
      assertThatThrownBy(() -> AttributeValues.decode(stored)).as(stored).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expected: s:<text>");
    }
    // a polymorphic type hint is just a field: no class is ever instantiated from stored data
    Object hint = AttributeValues.decode("j:[\"java.util.Date\",0]");
    assertThat(hint).isEqualTo(Arrays.asList("java.util.Date", 0));
  }
}
