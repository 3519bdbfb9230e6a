#!/usr/bin/env bash
# benchmarks/failover/run.sh: kill -9 the PostgreSQL primary of a running `scalestack up` topology
# (one primary, two streaming replicas, two web servers behind the balancer) while users keep
# writing their profiles, and measure how long after the kill the first write sent after it
# succeeds, over several runs with synchronous and with asynchronous replication; and what each
# mode lost of the writes it had acknowledged. Reported next to Patroni's default timing. See
# README.md beside this file.
#
#   benchmarks/failover/run.sh                    # 5 runs per mode, about 5 minutes after the build
#   RUNS=10 benchmarks/failover/run.sh --modes sync
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Traffic goes only to loopback addresses; every process it starts is
# stopped on exit, Ctrl-C or failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/failover/run.sh
bench=failover-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

RUNS=${RUNS:-5}
MODES=${MODES:-sync async}
WRITERS=${WRITERS:-16}
WARMUP_SECONDS=${WARMUP_SECONDS:-3}
PROBE_MILLIS=${PROBE_MILLIS:-200}
NET=${NET:-127.0.78}
PORT_BASE=${PORT_BASE:-18400}
SCALESTACK=${SCALESTACK:-$root/scalestack}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<USAGE
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --runs N             failovers per mode, each on a fresh topology (default $RUNS)
  --modes "M …"        sync (synchronous_standby_names ANY 1) and/or async (default "$MODES")
  --writers N          users writing their profiles at once, one request in flight each (default $WRITERS)
  --warmup-seconds N   writing before the kill (default $WARMUP_SECONDS)
  --probe-millis N     postgres.failoverProbeIntervalMillis (default $PROBE_MILLIS)
  --net A.B.C          the loopback /24 the topology binds (default $NET)
  --port-base P        balancer P+1, its admin P+2, control plane P+3, Redis P+4, PostgreSQL
                       P+5..P+7, web servers P+10 (default $PORT_BASE)
  --keep               keep the temporary directory (topology homes, logs)
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --writers) WRITERS=$2; shift 2 ;;
    --warmup-seconds) WARMUP_SECONDS=$2; shift 2 ;;
    --probe-millis) PROBE_MILLIS=$2; shift 2 ;;
    --net) NET=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown flag: $1" ;;
  esac
done
check_count --runs "$RUNS" 100
check_count --writers "$WRITERS" 256
check_count --warmup-seconds "$WARMUP_SECONDS" 600
check_count --probe-millis "$PROBE_MILLIS" 60000
[[ $NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "--net: '$NET' (expected: 127.X.Y, a loopback /24)"
for mode in $MODES; do
  case $mode in sync|async) ;; *) die "--modes: '$mode' (expected: sync and/or async)" ;; esac
done

bench_init
build_scalestack "$SCALESTACK" "$BUILD_TIMEOUT"
find_java21 # the load is a single-file Java program

lb="http://$NET.1:$((PORT_BASE + 1))"
control="http://$NET.2:$((PORT_BASE + 3))"
results=$tmp/results.txt
: >"$results"

for mode in $MODES; do
  for run in $(seq 1 "$RUNS"); do
    home=$tmp/$mode-$run
    mkdir -p "$home"
    chmod 755 "$home" # PostgreSQL runs as nobody when we are root
    cat >"$home/scalestack.yaml" <<YAML
home: $home
controlPlane:
  listen: $NET.2:$((PORT_BASE + 3))
balancer:
  listen: $NET.1:$((PORT_BASE + 1))
  admin: $NET.1:$((PORT_BASE + 2))
  healthCheck:
    intervalMillis: 200
    timeoutMillis: 500
workers:
  size: 0
edge:
  enabled: false
web:
  size: 2
  firstAddress: $NET.11
  port: $((PORT_BASE + 10))
  heapMegabytes: 256
  bcryptCost: 4
redis:
  listen: $NET.3:$((PORT_BASE + 4))
postgres:
  listen: $NET.4:$((PORT_BASE + 5))
  replicas: 2
  synchronous: $([ "$mode" = sync ] && echo true || echo false)
  failoverProbeIntervalMillis: $PROBE_MILLIS
YAML
    say "$mode run $run/$RUNS: scalestack up …"
    start "up-$mode-$run" "" "$SCALESTACK" up -c "$home/scalestack.yaml"
    wait_for "up-$mode-$run" "$control/health" 180
    "$java_bin" "$here/FailoverBench.java" --lb "$lb" --control "$control" --writers "$WRITERS" \
      --warmup-seconds "$WARMUP_SECONDS" >"$tmp/bench-$mode-$run.out" 2>&1 \
      || { cat "$tmp/bench-$mode-$run.out" >&2; fail_with_log "up-$mode-$run" "the load of $mode run $run failed"; }
    line=$(grep '^RESULT ' "$tmp/bench-$mode-$run.out")
    say "$mode run $run: ${line#RESULT }"
    grep '^FAILURES ' "$tmp/bench-$mode-$run.out" >&2 || true
    echo "$mode $line" >>"$results"
    curl -s -o /dev/null --max-time 5 -X POST "$control/api/shutdown" || true
    stop "up-$mode-$run"
  done
done


echo
echo "Failover of the PostgreSQL primary under $WRITERS profile writers (kill -9 through the control API;"
echo "time from the kill until the first write sent after it is acknowledged), $RUNS runs per mode:"
echo
printf '%-38s %10s %10s %10s %14s %12s %10s\n' "" "p50 ms" "p99 ms" "max ms" "promoted p50" "acknowledged" "lost"
for mode in $MODES; do
  rows=$(grep "^$mode " "$results")
  first=$(field firstWriteMillis <<<"$rows")
  if grep -q timeout <<<"$first"; then die "$mode: a run saw no write succeed after the kill (see $tmp)"; fi
  printf '%-38s %10s %10s %10s %14s %12s %10s\n' "scalestack, $mode replication" \
    "$(percentile 50 <<<"$first")" "$(percentile 99 <<<"$first")" "$(percentile 100 <<<"$first")" \
    "$(field promotedMillis <<<"$rows" | percentile 50)" \
    "$(field acknowledged <<<"$rows" | awk '{ s += $1 } END { print s }')" \
    "$(field lost <<<"$rows" | awk '{ s += $1 } END { print s }')"
done
printf '%-38s %10s %10s %10s %14s %12s %10s\n' "Patroni defaults (documented)" "30000-40000" "" "" "" "" ""
echo
for mode in $MODES; do
  p99=$(grep "^$mode " "$results" | field firstWriteMillis | percentile 99)
  awk -v m="$mode" -v p="$p99" 'BEGIN { printf "%s: p99 %d ms = %.3fx Patroni'"'"'s 30 s (ttl 30 s, loop_wait 10 s, before its failover even starts)\n", m, p, p / 30000 }'
done
echo "(lost: acknowledged profile writes missing afterwards, summed over the runs)"
echo "raw lines:"
cat "$results"
failed=0
