package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code scalestack experiment sharding} on real PostgreSQL rows, small: adding one shard to 4,
 * modulo must move about 4/5 of the rows and jump consistent hashing at most 1/5 + 2%.
 */
class ShardingExperimentTest {

  @Test
  void moduloMovesAboutKOverKPlusOneAndConsistentAtMostOneOverKPlusOne() throws Exception {
    StringWriter log = new StringWriter();
    ShardingExperiment.Result result = new ShardingExperiment(20_000, 4, List.of(5, 8), new PrintWriter(log, true)).run();
    StringWriter table = new StringWriter();
    ShardingExperiment.print(result, new PrintWriter(table, true));
    System.out.print(table);

    ShardingExperiment.Move plusOne = result.moves().get(0);
    assertThat(plusOne.to()).isEqualTo(5);
    assertThat(plusOne.moved().get("modulo")).isCloseTo(4.0 / 5, offset(0.02));
    assertThat(plusOne.moved().get("consistent")).isLessThanOrEqualTo(1.0 / 5 + 0.02);
    ShardingExperiment.Move doubled = result.moves().get(1);
    assertThat(doubled.moved().get("modulo")).isCloseTo(0.5, offset(0.02));
    assertThat(doubled.moved().get("consistent")).isCloseTo(0.5, offset(0.02));
    // every row is somewhere, once, and the shards are even
    for (ShardingExperiment.Balance balance : result.balances()) {
      assertThat(balance.rows().stream().mapToLong(Long::longValue).sum()).isEqualTo(20_000);
      assertThat(balance.maxOverMean()).as("%s over %d", balance.function(), balance.shards()).isLessThan(1.06);
    }
    assertThat(table.toString()).contains("4 -> 5", "4 -> 8", "80.0%");
  }

  @Test
  void theExpectedFiguresAreTheTextbookOnes() {
    assertThat(ShardingExperiment.expectedModulo(4, 5)).isCloseTo(0.8, offset(1e-9));
    assertThat(ShardingExperiment.expectedModulo(4, 8)).isCloseTo(0.5, offset(1e-9));
    assertThat(ShardingExperiment.optimal(4, 5)).isCloseTo(0.2, offset(1e-9));
    assertThat(ShardingExperiment.optimal(4, 8)).isCloseTo(0.5, offset(1e-9));
  }
}
