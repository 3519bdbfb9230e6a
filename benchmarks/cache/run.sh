#!/usr/bin/env bash
# benchmarks/cache/run.sh: database loads/s under a Zipfian read load, reading PostgreSQL directly
# and through the cache tier (three TieredCache instances on one Redis, as three web servers), with
# the hit ratios of L1 and L2 and the read latencies. See README.md beside this file.
#
#   benchmarks/cache/run.sh                        # about a minute after the build
#   KEYS=1000000 ZIPF=0.9 THREADS=16 benchmarks/cache/run.sh --seconds 30
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Everything runs on loopback; every process it starts is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/cache/run.sh
bench=cache-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

KEYS=${KEYS:-100000}
ZIPF=${ZIPF:-1.0}
THREADS=${THREADS:-8}
SECONDS_=${DURATION:-20}
SERVERS=${SERVERS:-3}
L1_ENTRIES=${L1_ENTRIES:-10000}
TTL=${TTL:-300}
MODES=${MODES:-direct cache}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<USAGE
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --keys N          rows in the table, ids 1..N (default $KEYS)
  --zipf S          the Zipf exponent of the key popularity (default $ZIPF)
  --threads N       reader threads, spread over the servers (default $THREADS)
  --seconds N       measured seconds per mode, after a 3 s warm-up (env DURATION; default $SECONDS_)
  --servers N       TieredCache instances in cache mode (default $SERVERS)
  --l1-entries N    L1 size of each instance (default $L1_ENTRIES)
  --ttl N           the caches' TTL in seconds; L1's is the smaller of 30 and it (default $TTL)
  --modes "M …"     direct and/or cache (default "$MODES")
  --keep            keep the temporary directory (engine data and logs)
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --keys) KEYS=$2; shift 2 ;;
    --zipf) ZIPF=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --l1-entries) L1_ENTRIES=$2; shift 2 ;;
    --ttl) TTL=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown flag: $1" ;;
  esac
done
check_count --keys "$KEYS" 10000000
check_count --threads "$THREADS" 1024
check_count --seconds "$SECONDS_" 3600
check_count --servers "$SERVERS" 16
check_count --l1-entries "$L1_ENTRIES" 10000000
check_count --ttl "$TTL" 86400
[[ $ZIPF =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--zipf: '$ZIPF' (expected: a number such as 1.0)"
for mode in $MODES; do
  case $mode in direct|cache) ;; *) die "--modes: '$mode' (expected: direct and/or cache)" ;; esac
done

bench_init
find_java21
chmod 755 "$tmp"
say "building the cache module and its class path …"
# verify (not install) of the cache module and what it needs; the class path of its last module (cache),
# tests included (the engines and the JDBC pool the benchmark uses are test dependencies of the module)
(cd "$root" && export JAVA_HOME="${java_bin%/bin/java}" && timeout --foreground -k 10 "$BUILD_TIMEOUT" ./mvnw -B -q -ntp -pl cache -am verify -DskipTests \
  dependency:build-classpath -Dmdep.outputFile="$tmp/classpath.txt" -Dmdep.includeScope=test) >"$tmp/build.log" 2>&1 \
  || { tail -30 "$tmp/build.log" >&2; die "the build failed (log above)"; }
cp="$root/cache/target/classes:$(cat "$tmp/classpath.txt")"

results=$tmp/results.txt
: >"$results"
for mode in $MODES; do
  say "$mode: $KEYS keys, zipf $ZIPF, $THREADS threads, ${SECONDS_} s$([ "$mode" = cache ] && echo ", TTL $TTL s") …"
  "$java_bin" -cp "$cp" "$here/CacheBench.java" --keys "$KEYS" --zipf "$ZIPF" --threads "$THREADS" \
    --seconds "$SECONDS_" --servers "$SERVERS" --l1-entries "$L1_ENTRIES" --ttl "$TTL" --modes "$mode" --dir "$tmp/$mode" \
    >"$tmp/$mode.out" 2>&1 \
    || { tail -30 "$tmp/$mode.out" >&2; die "$mode: the benchmark failed"; }
  grep '^RESULT ' "$tmp/$mode.out" | sed 's/^RESULT //' >>"$results"
done

echo
printf '%-8s %8s %8s %12s %14s %10s %10s %10s %10s %10s %12s %8s %14s\n' "MODE" "SERVERS" "THREADS" "REQUESTS/S" \
  "DB LOADS/S" "HIT RATIO" "L1 HITS" "L2 HITS" "P50 US" "P99 US" "LEASE WAITS" "STALE" "KEY 1 LOADS/S"
while read -r line; do
  printf '%-8s %8s %8s %12s %14s %10s %10s %10s %10s %10s %12s %8s %14s\n' "$(field mode <<<"$line")" "$(field servers <<<"$line")" \
    "$(field threads <<<"$line")" "$(field requestsPerSecond <<<"$line")" "$(field dbLoadsPerSecond <<<"$line")" \
    "$(field hitRatio <<<"$line")" "$(field l1HitRatio <<<"$line")" "$(field l2HitRatio <<<"$line")" \
    "$(field p50Micros <<<"$line")" "$(field p99Micros <<<"$line")" "$(field leaseWaits <<<"$line")" \
    "$(field staleServed <<<"$line")" "$(field hottestKeyLoadsPerSecond <<<"$line")"
done <"$results"
direct=$(grep 'mode=direct' "$results" | field dbLoadsPerSecond || true)
cached=$(grep 'mode=cache' "$results" | field dbLoadsPerSecond || true)
direct_rps=$(grep 'mode=direct' "$results" | field requestsPerSecond || true)
cached_rps=$(grep 'mode=cache' "$results" | field requestsPerSecond || true)
echo
if [ -n "$direct" ] && [ -n "$cached" ] && [ -n "$direct_rps" ] && [ -n "$cached_rps" ]; then
  awk -v d="$direct" -v c="$cached" -v dr="$direct_rps" -v cr="$cached_rps" 'BEGIN {
    printf "database loads per request: %.4f direct, %.4f through the cache (%.0fx fewer)\n", d / dr, c / cr, (d / dr) / (c / cr) }'
fi
echo "L1 HITS: L1 hits / requests; L2 HITS: Redis hits / L1 misses; HIT RATIO: 1 - database loads / requests;"
echo "LEASE WAITS: reads that waited for another server's load; STALE: reads served the expired value meanwhile;"
echo "KEY 1 LOADS/S: database loads of the hottest key (Zipf rank 1), about 1 per TTL through the cache."
failed=0
