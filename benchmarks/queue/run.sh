#!/usr/bin/env bash
# benchmarks/queue/run.sh: end-to-end jobs/s of the job queue's backends (enqueue to completion of a
# trivial job): Redis Streams and PostgreSQL, each on the engine scalestack embeds, and RabbitMQ (a
# running broker, skipped if none listens; its jobs' state on an embedded Redis), in one run. See
# README.md beside this file.
#
#   benchmarks/queue/run.sh                          # about 2 minutes after the build
#   JOBS=100000 WORKERS=16 PRODUCERS=4 benchmarks/queue/run.sh --backends redis
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Everything runs on loopback; every process it starts is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/queue/run.sh
bench=queue-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

JOBS=${JOBS:-50000}
WORKERS=${WORKERS:-8}
PRODUCERS=${PRODUCERS:-8}
PREFETCH=${PREFETCH:-16}
BACKENDS=${BACKENDS:-redis postgres rabbitmq}
POSTGRES_JOBS=${POSTGRES_JOBS:-5000}
RABBITMQ_JOBS=${RABBITMQ_JOBS:-20000}
RABBITMQ=${RABBITMQ:-amqp://guest:guest@127.0.0.1:5672}
SCALESTACK=${SCALESTACK:-$root/scalestack}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<USAGE
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --jobs N             jobs per run on Redis Streams (default $JOBS)
  --postgres-jobs N    jobs per run on PostgreSQL, which is much slower (default $POSTGRES_JOBS)
  --rabbitmq-jobs N    jobs per run on RabbitMQ (default $RABBITMQ_JOBS)
  --rabbitmq URI       the running RabbitMQ (default $RABBITMQ)
  --workers N          worker threads taking jobs, each with its lease and heartbeat (default $WORKERS)
  --producers N        threads enqueueing as fast as they can (default $PRODUCERS)
  --prefetch N         Redis Streams: jobs one take delivers to a worker at most; RabbitMQ: basicQos of
                       the workers' queue object (default $PREFETCH; 1 = none)
  --backends "B …"     redis, postgres and/or rabbitmq (default "$BACKENDS")
  --keep               keep the temporary directory (engine data and logs)
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --jobs) JOBS=$2; shift 2 ;;
    --postgres-jobs) POSTGRES_JOBS=$2; shift 2 ;;
    --rabbitmq-jobs) RABBITMQ_JOBS=$2; shift 2 ;;
    --rabbitmq) RABBITMQ=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --producers) PRODUCERS=$2; shift 2 ;;
    --prefetch) PREFETCH=$2; shift 2 ;;
    --backends) BACKENDS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown flag: $1" ;;
  esac
done
check_count --jobs "$JOBS" 10000000
check_count --postgres-jobs "$POSTGRES_JOBS" 10000000
check_count --rabbitmq-jobs "$RABBITMQ_JOBS" 10000000
check_count --workers "$WORKERS" 1024
check_count --producers "$PRODUCERS" 1024
check_count --prefetch "$PREFETCH" 1000
for backend in $BACKENDS; do
  case $backend in redis|postgres|rabbitmq) ;; *) die "--backends: '$backend' (expected: redis, postgres and/or rabbitmq)" ;; esac
done

bench_init
build_scalestack "$SCALESTACK" "$BUILD_TIMEOUT"
find_java21
chmod 755 "$tmp"
results=$tmp/results.txt
: >"$results"
for backend in $BACKENDS; do
  jobs=$JOBS
  [ "$backend" = postgres ] && jobs=$POSTGRES_JOBS
  [ "$backend" = rabbitmq ] && jobs=$RABBITMQ_JOBS
  if [ "$backend" = rabbitmq ]; then
    hostport=${RABBITMQ#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
    case $hostport in *:*) ;; *) hostport=$hostport:5672 ;; esac
    if ! (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null; then
      say "rabbitmq: skipped, nothing listens at $hostport (start it: rabbitmq-server -detached)"
      continue
    fi
  fi
  say "$backend: $jobs jobs, $WORKERS workers, $PRODUCERS producers …"
  "$java_bin" -cp "$root/cli/target/scalestack.jar:$root/cli/target/lib/*" "$here/QueueBench.java" --jobs "$jobs" \
    --workers "$WORKERS" --producers "$PRODUCERS" --prefetch "$PREFETCH" --backends "$backend" --rabbitmq "$RABBITMQ" --dir "$tmp/$backend" \
    >"$tmp/$backend.out" 2>&1 \
    || { tail -30 "$tmp/$backend.out" >&2; die "$backend: the benchmark failed"; }
  grep '^RESULT ' "$tmp/$backend.out" | sed 's/^RESULT //' >>"$results"
done

echo
printf '%-10s %8s %8s %10s %12s %14s %12s %12s\n' "BACKEND" "JOBS" "WORKERS" "PRODUCERS" "JOBS/S" "ENQUEUED/S" "P50 MS" "P99 MS"
while read -r line; do
  printf '%-10s %8s %8s %10s %12s %14s %12s %12s\n' "$(field backend <<<"$line")" "$(field jobs <<<"$line")" \
    "$(field workers <<<"$line")" "$(field producers <<<"$line")" "$(field jobsPerSecond <<<"$line")" \
    "$(field enqueuePerSecond <<<"$line")" "$(field latencyP50Millis <<<"$line")" "$(field latencyP99Millis <<<"$line")"
done <"$results"
echo
echo "jobs/s: from the first enqueue to the last completion; latency: enqueue to the worker's handler."
echo "Goal (issue 7): at least 10,000 jobs/s on Redis Streams on this 2-core machine."
failed=0
