#!/usr/bin/env bash
# benchmarks/resharding/run.sh: online resharding of a running `scalestack up` topology from 2 to 4
# shards (databases of the cluster) while users sign up, log in and write their profiles through the
# balancer; the cut-over's write pause (fence to publication of the new map, the coordinator's figure)
# and the slowest profile write a client saw, over several runs, next to Vitess's documented 30 s
# catch-up wait for SwitchTraffic. See README.md beside this file.
#
#   benchmarks/resharding/run.sh                 # 5 runs, about 3 minutes after the build
#   RUNS=10 benchmarks/resharding/run.sh --to 8
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Traffic goes only to loopback addresses; every process it starts is
# stopped on exit, Ctrl-C or failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/resharding/run.sh
bench=resharding-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

RUNS=${RUNS:-5}
FROM=${FROM:-2}
TO=${TO:-4}
WRITERS=${WRITERS:-8}
LOAD_SECONDS=${LOAD_SECONDS:-20}
NET=${NET:-127.0.79}
PORT_BASE=${PORT_BASE:-18500}
SCALESTACK=${SCALESTACK:-$root/scalestack}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<USAGE
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --runs N             reshardings, each on a fresh topology (default $RUNS)
  --from K             shards the topology starts with (default $FROM)
  --to K               shards after the resharding (default $TO)
  --writers N          users signing up and writing at once, one request in flight each (default $WRITERS)
  --load-seconds N     how long the load runs; the resharding starts 5 s in (default $LOAD_SECONDS)
  --net A.B.C          the loopback /24 the topology binds (default $NET)
  --port-base P        balancer P+1, its admin P+2, control plane P+3, Redis P+4, PostgreSQL P+5..P+6,
                       web servers P+10 (default $PORT_BASE)
  --keep               keep the temporary directory (topology homes, logs)
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --from) FROM=$2; shift 2 ;;
    --to) TO=$2; shift 2 ;;
    --writers) WRITERS=$2; shift 2 ;;
    --load-seconds) LOAD_SECONDS=$2; shift 2 ;;
    --net) NET=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown flag: $1" ;;
  esac
done
check_count --runs "$RUNS" 100
check_count --from "$FROM" 64
check_count --to "$TO" 64
[ "$FROM" != "$TO" ] || die "--to: $TO (expected: another shard count than --from $FROM)"
check_count --writers "$WRITERS" 256
check_count --load-seconds "$LOAD_SECONDS" 3600
[ "$LOAD_SECONDS" -ge 10 ] || die "--load-seconds: $LOAD_SECONDS (expected: at least 10)"
[[ $NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "--net: '$NET' (expected: 127.X.Y, a loopback /24)"

bench_init
build_scalestack "$SCALESTACK" "$BUILD_TIMEOUT"
find_java21

lb="http://$NET.1:$((PORT_BASE + 1))"
control="http://$NET.2:$((PORT_BASE + 3))"
results=$tmp/results.txt
: >"$results"

for run in $(seq 1 "$RUNS"); do
  home=$tmp/run-$run
  mkdir -p "$home"
  chmod 755 "$home" # PostgreSQL runs as nobody when we are root
  cat >"$home/scalestack.yaml" <<YAML
home: $home
controlPlane:
  listen: $NET.2:$((PORT_BASE + 3))
balancer:
  listen: $NET.1:$((PORT_BASE + 1))
  admin: $NET.1:$((PORT_BASE + 2))
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
  replicas: 1
  shards: $FROM
YAML
  say "run $run/$RUNS: scalestack up ($FROM shards) …"
  start "up-$run" "" "$SCALESTACK" up -c "$home/scalestack.yaml"
  wait_for "up-$run" "$control/health" 180
  wait_for "up-$run" "$lb/health" 60
  "$java_bin" "$here/ReshardBench.java" --lb "$lb" --writers "$WRITERS" --seconds "$LOAD_SECONDS" \
    >"$tmp/load-$run.out" 2>&1 &
  load=$!
  sleep 5
  "$SCALESTACK" reshard --to "$TO" --api "$control" -c "$home/scalestack.yaml" >"$tmp/reshard-$run.out" 2>&1 \
    || { cat "$tmp/reshard-$run.out" >&2; fail_with_log "up-$run" "run $run: scalestack reshard failed"; }
  wait "$load" || { cat "$tmp/load-$run.out" >&2; die "run $run: the load failed"; }
  pause=$(sed -n 's/.*write pause \([0-9]*\) ms.*/\1/p' "$tmp/reshard-$run.out" | tail -1)
  line=$(grep '^RESULT ' "$tmp/load-$run.out")
  say "run $run: pause ${pause} ms; ${line#RESULT }"
  grep '^FAILURES ' "$tmp/load-$run.out" >&2 || true
  echo "pauseMillis=$pause ${line#RESULT }" >>"$results"
  curl -s -o /dev/null --max-time 5 -X POST "$control/api/shutdown" || true
  stop "up-$run"
done


echo
echo "Online resharding $FROM -> $TO shards under $WRITERS writers (sign-up, log-in, profile writes through the"
echo "balancer), $RUNS runs, each on a fresh topology:"
echo
printf '%-44s %10s %10s %10s\n' "" "p50 ms" "p99 ms" "max ms"
printf '%-44s %10s %10s %10s\n' "scalestack cut-over write pause (fence->map)" \
  "$(field pauseMillis <"$results" | percentile 50)" "$(field pauseMillis <"$results" | percentile 99)" \
  "$(field pauseMillis <"$results" | percentile 100)"
printf '%-44s %10s %10s %10s\n' "slowest profile write a client saw, per run" \
  "$(field writeMaxMillis <"$results" | percentile 50)" "$(field writeMaxMillis <"$results" | percentile 99)" \
  "$(field writeMaxMillis <"$results" | percentile 100)"
printf '%-44s %10s\n' "Vitess SwitchTraffic catch-up wait (documented)" "up to 30000"
echo
echo "requests acknowledged: $(field acknowledged <"$results" | awk '{ s += $1 } END { print s }'), failed: $(field failed <"$results" | awk '{ s += $1 } END { print s }')"
p99=$(field pauseMillis <"$results" | percentile 99)
awk -v p="$p99" 'BEGIN { printf "p99 pause %d ms = %.4fx Vitess'"'"'s 30 s default wait; goal <= 1000 ms\n", p, p / 30000 }'
echo "raw lines:"
cat "$results"
failed=0
