#!/usr/bin/env bash
# benchmarks/response-time/run.sh: p50/p99 through scalestack's response-time algorithm with three
# backends at 5 ms, then with one of them at 50 ms, side by side with HAProxy (balance leastconn)
# and nginx (least_conn) on the same backends, in one run. See README.md beside this file.
#
#   benchmarks/response-time/run.sh                        # about 4 minutes
#   ROUNDS=5 DURATION=10s benchmarks/response-time/run.sh
#   benchmarks/response-time/run.sh --targets "scalestack-rt haproxy"
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Installs nginx, haproxy and wrk from Debian packages when missing (root).
# Traffic goes only to 127.0.0.1; every process it starts is stopped on exit, Ctrl-C or failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/response-time/run.sh
bench=rt-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-15s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-8}
FAST_MS=${FAST_MS:-5}
SLOW_MS=${SLOW_MS:-50}
PROXY_THREADS=${PROXY_THREADS:-1}
PIN=${PIN:-auto}
TARGETS=${TARGETS:-scalestack-rt scalestack-lc haproxy nginx}
PORT_BASE=${PORT_BASE:-18200}
SCALESTACK=${SCALESTACK:-$root/scalestack}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<EOF
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --duration D         one measured wrk run (default $DURATION; s or m suffix)
  --warmup D           a discarded wrk run through each proxy after it starts (default $WARMUP: the
                       JVM needs about 15 s to reach its plateau; it also fills latency averages)
  --rounds N           measured runs per target and scenario, taking the targets in turn; the
                       median is reported (default $ROUNDS)
  --connections N      wrk connections: a closed loop of N requests always in flight (default $CONNECTIONS)
  --fast-ms N          every backend's delay (default $FAST_MS)
  --slow-ms N          the slow backend's delay in the one-slow scenario (default $SLOW_MS)
  --proxy-threads N    worker threads of every proxy (default $PROXY_THREADS)
  --pin auto|on|off    taskset: proxy on CPUs 0..N-1, wrk and backends on the others (default $PIN)
  --targets "T …"      subset/order of: scalestack-rt (response-time) scalestack-lc (least-connections)
                       haproxy (leastconn) nginx (least_conn) (default "$TARGETS")
  --port-base P        backends on P+1..P+3, nginx P+80, HAProxy P+81, scalestack P+82 (response-time)
                       and P+83 (least-connections), their admin APIs P+404 and P+405, all on
                       127.0.0.1 (default $PORT_BASE)
  --scalestack CMD     the scalestack launcher (default $root/scalestack, which builds if needed)
  --nice N             run backends, proxies and wrk at this nice value (default ${NICE:-0})
  --no-install         fail instead of apt-get installing missing nginx/haproxy/wrk (INSTALL=0)
  --keep               keep the temporary directory (configs, logs, wrk output) (KEEP=1)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --connections) CONNECTIONS=${2:?}; shift ;;
    --fast-ms) FAST_MS=${2:?}; shift ;;
    --slow-ms) SLOW_MS=${2:?}; shift ;;
    --proxy-threads) PROXY_THREADS=${2:?}; shift ;;
    --pin) PIN=${2:?}; shift ;;
    --targets) TARGETS=${2:?}; shift ;;
    --port-base) PORT_BASE=${2:?}; shift ;;
    --scalestack) SCALESTACK=${2:?}; shift ;;
    --nice) NICE=${2:?}; shift ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: '$1' (expected: a flag listed by --help)" ;;
  esac
  shift
done

check_duration DURATION "$DURATION"; check_duration WARMUP "$WARMUP"
check_count CONNECTIONS "$CONNECTIONS" 1000
check_count ROUNDS "$ROUNDS" 20
check_count FAST_MS "$FAST_MS" 10000
check_count SLOW_MS "$SLOW_MS" 10000
check_count PROXY_THREADS "$PROXY_THREADS" 64
check_count PORT_BASE "$PORT_BASE" 65000
NICE=${NICE:-0}
[[ $NICE =~ ^-?[0-9]+$ ]] && [ "$NICE" -ge -20 ] && [ "$NICE" -le 19 ] || die "NICE: '$NICE' (expected: an integer in -20..19)"
case $PIN in auto|on|off) ;; *) die "PIN: '$PIN' (expected: auto, on or off)" ;; esac
for t in $TARGETS; do
  case $t in scalestack-rt|scalestack-lc|haproxy|nginx) ;;
    *) die "TARGETS: '$t' (expected: scalestack-rt, scalestack-lc, haproxy or nginx)" ;; esac
done
wants_scalestack() { [[ " $TARGETS " == *" scalestack-"* ]]; }
duration_s=$(seconds_of "$DURATION")
warmup_s=$(seconds_of "$WARMUP")

bench_init
pin_cpus "$PROXY_THREADS" "$PIN"
port_backend() { echo $((PORT_BASE + $1)); }
port_nginx=$((PORT_BASE + 80)) port_haproxy=$((PORT_BASE + 81))
port_scalestack_rt=$((PORT_BASE + 82)) port_scalestack_lc=$((PORT_BASE + 83))
port_admin_rt=$((PORT_BASE + 404)) port_admin_lc=$((PORT_BASE + 405))

ensure_tools nginx=nginx-light haproxy=haproxy wrk=wrk curl=curl jq=jq
ports_free "$(port_backend 1)" "$(port_backend 2)" "$(port_backend 3)" "$port_nginx" "$port_haproxy" \
  "$port_scalestack_rt" "$port_scalestack_lc" "$port_admin_rt" "$port_admin_lc"

# the JDK the scalestack launcher would pick also runs the backends (source launcher, JDK 11+)
java_bin=${JAVA_HOME:+$JAVA_HOME/bin/java}
if [ -z "$java_bin" ] || [ ! -x "$java_bin" ]; then java_bin=$(command -v java || true); fi
[ -n "$java_bin" ] || die "java: not found (expected: a JDK 21+ on PATH or in JAVA_HOME)"
[ "$("$java_bin" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)" -ge 21 ] \
  || die "java: $java_bin is older than 21 (expected: JAVA_HOME pointing at a JDK 21+)"

# ---------------------------------------------------------------------------------------------
# Backends: one JVM, three ports (benchmarks/response-time/DelayBackends.java)
start_backends() { # DELAY1 DELAY2 DELAY3
  start backends "$load_cpus" "$java_bin" -XX:+UseSerialGC -Xmx128m "$here/DelayBackends.java" \
    "$(port_backend 1):$1" "$(port_backend 2):$2" "$(port_backend 3):$3"
  local i
  for i in 1 2 3; do wait_for backends "http://127.0.0.1:$(port_backend "$i")/health" 60; done
}

backend_counts() { # requests served by each backend so far, space-separated
  local i counts=()
  for i in 1 2 3; do counts+=("$(curl -s --max-time 2 "http://127.0.0.1:$(port_backend "$i")/stats")"); done
  echo "${counts[*]}"
}

# ---------------------------------------------------------------------------------------------
# Proxies: each started for one measurement and stopped after it, so that none keeps state
# (latency averages, connection counts) from the other scenario
start_nginx() {
  local dir=$tmp/nginx i
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes $PROXY_THREADS;
$(nginx_paths "$dir")
events { worker_connections 4096; }
http {
$(nginx_http_paths "$dir")
  access_log off;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  upstream backends {
    # nginx open source has no response-time balancing (least_time is NGINX Plus): least_conn
    least_conn;
$(for i in 1 2 3; do echo "    server 127.0.0.1:$(port_backend "$i");"; done)
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port_nginx backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
EOF
  run_nginx nginx "$proxy_cpus" "$dir"
  wait_for nginx "http://127.0.0.1:$port_nginx/health" 20
  url="http://127.0.0.1:$port_nginx/"
}

start_haproxy() {
  local dir=$tmp/haproxy i
  mkdir -p "$dir"
  {
    cat <<EOF
global
  nbthread $PROXY_THREADS
  maxconn 4000

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 75s
  option http-keep-alive
  http-reuse always
  option forwardfor

frontend fe
  bind 127.0.0.1:$port_haproxy
  default_backend be

backend be
  # HAProxy has no response-time algorithm: leastconn is its closest
  balance leastconn
  option httpchk GET /health
  http-check expect status 200
EOF
    for i in 1 2 3; do echo "  server backend-$i 127.0.0.1:$(port_backend "$i") check inter 1s"; done
  } >"$dir/haproxy.cfg"
  haproxy -c -f "$dir/haproxy.cfg" >"$tmp/haproxy.out" 2>&1 || fail_with_log haproxy "haproxy: haproxy -c rejected $dir/haproxy.cfg"
  start haproxy "$proxy_cpus" haproxy -db -f "$dir/haproxy.cfg"
  wait_for haproxy "http://127.0.0.1:$port_haproxy/health" 20
  url="http://127.0.0.1:$port_haproxy/"
}

start_scalestack() { # NAME ALGORITHM PORT ADMIN_PORT
  local name=$1 algorithm=$2 port=$3 admin=$4 i args=()
  for i in 1 2 3; do args+=(--backend "backend-$i=127.0.0.1:$(port_backend "$i")"); done
  start "$name" "$proxy_cpus" "$SCALESTACK" lb \
    --listen "127.0.0.1:$port" --admin "127.0.0.1:$admin" --io-threads "$PROXY_THREADS" \
    --algorithm "$algorithm" --log-file "$tmp/$name.log" "${args[@]}"
  wait_for "$name" "http://127.0.0.1:$admin/health" 120
  # a backend gets traffic only once its health checks pass: wait until all three are UP
  local deadline=$((SECONDS + 60)) up
  while :; do
    up=$(curl -s --max-time 2 "http://127.0.0.1:$admin/backends" | jq '[.[] | select(.state == "UP")] | length' 2>/dev/null || echo "")
    [ "$up" = 3 ] && break
    [ "$SECONDS" -lt "$deadline" ] || fail_with_log "$name" "$name: ${up:-?} of 3 backends UP after 60 s"
    sleep 0.2
  done
  url="http://127.0.0.1:$port/"
}

# start_target TARGET: starts its proxy (afresh for each scenario, so that none keeps latency
# averages or connection counts from the other) and runs the discarded warm-up through it
declare -A url_of
start_target() {
  local t=$1
  case $t in
    scalestack-rt) start_scalestack scalestack-rt response-time "$port_scalestack_rt" "$port_admin_rt" ;;
    scalestack-lc) start_scalestack scalestack-lc least-connections "$port_scalestack_lc" "$port_admin_lc" ;;
    haproxy) start_haproxy ;;
    nginx) start_nginx ;;
  esac
  url_of[$t]=$url
  say "$t, $scenario: warm-up ${warmup_s}s …"
  wrk_run "$url" "$warmup_s" "$tmp/$t.$scenario.warmup.wrk" "$CONNECTIONS" 1 "$load_cpus"
}

# scalestack's own request-duration histogram (summed over backends): "le count" lines, cumulative
lb_buckets() { # ADMIN_PORT
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" \
    | awk '/^scalestack_lb_request_duration_seconds_bucket[{]/ { match($0, /le="[^"]+"/); c[substr($0, RSTART + 4, RLENGTH - 5)] += $NF }
           END { for (l in c) print l, c[l] }' | sort -g
}
# the p99 in ms (a bucket's upper bound) of the requests between two lb_buckets snapshots
lb_p99() { # BEFORE_FILE AFTER_FILE
  awk 'FNR == NR { b[$1] = $2; next } { le[++n] = $1; v[n] = $2 - b[$1] }
       END { for (i = 1; i <= n; i++) if (v[i] >= 0.99 * v[n] && v[n] > 0) { printf "%.2f", le[i] * 1000; exit } print "-" }' "$1" "$2"
}

# measure TARGET SCENARIO ROUND: one measured wrk run; its figures go to rounds_of
declare -A rounds_of
measure() {
  local t=$1 scenario=$2 round=$3 c0 c1 rps p50 p99 req err share out admin="" lbp99=-
  out=$tmp/$t.$scenario.$round.wrk
  case $t in scalestack-rt) admin=$port_admin_rt ;; scalestack-lc) admin=$port_admin_lc ;; esac
  say "$t, $scenario: round $round, ${duration_s}s …"
  c0=$(backend_counts)
  [ -z "$admin" ] || lb_buckets "$admin" >"$out.lb0"
  wrk_run "${url_of[$t]}" "$duration_s" "$out" "$CONNECTIONS" 1 "$load_cpus"
  c1=$(backend_counts)
  [ -z "$admin" ] || { lb_buckets "$admin" >"$out.lb1"; lbp99=$(lb_p99 "$out.lb0" "$out.lb1"); }
  read -r rps p50 p99 req err <<<"$(parse_wrk "$out")"
  # backend-3's share (the slow one in the one-slow scenario) of this run's requests, and the total
  share=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ")
    t = 0; for (i = 1; i <= 3; i++) t += y[i] - x[i]; printf "%d %d", y[3] - x[3], t }')
  rounds_of[$t.$scenario]+="$rps $p50 $p99 $err $share $lbp99"$'\n'
}

# the median of one column over the rounds of TARGET.SCENARIO (1 rps, 2 p50, 3 p99, 7 proxy-side p99)
median_of() { printf '%s' "${rounds_of[$1]}" | awk -v c="$2" 'NF { print $c }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
total_of() { printf '%s' "${rounds_of[$1]}" | awk -v c="$2" 'NF { s += $c } END { print s + 0 }'; }

# ---------------------------------------------------------------------------------------------
# Run
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if wants_scalestack; then build_scalestack "$SCALESTACK" "$BUILD_TIMEOUT"; fi
[ -n "$proxy_cpus" ] || say "not pinning (PIN=$PIN, $(nproc) CPUs, $PROXY_THREADS proxy threads): numbers are noisier"

# Per scenario: every proxy started and warmed up, then the measured rounds go round the
# targets in turn, so that a neighbour's burst of CPU use on a shared machine hits one round of
# each rather than every round of one; the median round is reported. An idle proxy costs nothing.
for scenario in healthy one-slow; do
  slow=$FAST_MS
  [ "$scenario" = one-slow ] && slow=$SLOW_MS
  say "backends: $FAST_MS ms, $FAST_MS ms, $slow ms"
  start_backends "$FAST_MS" "$FAST_MS" "$slow"
  for t in $TARGETS; do start_target "$t"; done
  for round in $(seq 1 "$ROUNDS"); do
    for t in $TARGETS; do measure "$t" "$scenario" "$round"; done
  done
  for t in $TARGETS; do
    stop "$t"
  done
  stop backends
done

# ---------------------------------------------------------------------------------------------
# Report
declare -A R_P50 R_P99 R_RPS R_ERR R_SLOW R_LB99
for t in $TARGETS; do
  for sc in healthy one-slow; do
    R_RPS[$t.$sc]=$(median_of "$t.$sc" 1) R_P50[$t.$sc]=$(median_of "$t.$sc" 2) R_P99[$t.$sc]=$(median_of "$t.$sc" 3)
    R_ERR[$t.$sc]=$(total_of "$t.$sc" 4)
    R_SLOW[$t.$sc]=$(awk -v s="$(total_of "$t.$sc" 5)" -v n="$(total_of "$t.$sc" 6)" 'BEGIN { if (n > 0) printf "%.2f", s * 100 / n; else print "-" }')
  done
done

echo
echo "== p99 with one backend ${SLOW_MS} ms instead of ${FAST_MS} ms — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr), load average at start: $load_before"
echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(haproxy -v | head -1 | awk '{ print "HAProxy " $3 }'); $(wrk -v 2>&1 | head -1 | awk '{ print "wrk " $2 }'); scalestack commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "load: wrk -c $CONNECTIONS -d ${duration_s}s --latency (closed loop, GET /), $ROUNDS rounds per target and scenario taking the targets in turn,"
echo "      median round reported; each proxy started afresh per scenario and warmed up ${warmup_s}s (discarded)$([ "$NICE" = 0 ] || echo "; all at nice $NICE")"
echo "backends: 3 (one JVM, DelayBackends.java), ${FAST_MS} ms each; one-slow: backend-3 at ${SLOW_MS} ms; $PROXY_THREADS proxy thread(s)$([ -n "$proxy_cpus" ] && echo ", proxy on CPU $proxy_cpus, wrk and backends on CPU $load_cpus")"
echo
printf '%-15s %-18s %9s %9s %9s %9s %7s %11s %9s %7s\n' target algorithm "p50 ok" "p99 ok" "p50 slow" "p99 slow" "p99 ×" "slow share" "req/s ok" errors
for t in $TARGETS; do
  case $t in
    scalestack-rt) algo=response-time ;; scalestack-lc) algo=least-connections ;;
    haproxy) algo="leastconn" ;; nginx) algo="least_conn" ;;
  esac
  ratio=$(awk -v a="${R_P99[$t.one-slow]}" -v b="${R_P99[$t.healthy]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  printf '%-15s %-18s %9.2f %9.2f %9.2f %9.2f %7s %10s%% %9.0f %7s\n' "$t" "$algo" \
    "${R_P50[$t.healthy]}" "${R_P99[$t.healthy]}" "${R_P50[$t.one-slow]}" "${R_P99[$t.one-slow]}" "$ratio" \
    "${R_SLOW[$t.one-slow]}" "${R_RPS[$t.healthy]}" "$((R_ERR[$t.healthy] + R_ERR[$t.one-slow]))"
done
echo
echo "columns: latencies in ms as wrk reports them, median of the rounds. wrk corrects them for coordinated omission:"
echo "         an answer slower than a connection's mean interval (run time / (requests / connections)) also counts"
echo "         as the requests that connection would have sent meanwhile, so one ${SLOW_MS} ms answer weighs about"
echo "         ${SLOW_MS}/${FAST_MS} samples. ok = all three backends at ${FAST_MS} ms,"
echo "         slow = backend-3 at ${SLOW_MS} ms; p99 × = p99 slow / p99 ok; slow share = backend-3's share of the"
echo "         requests of all one-slow rounds (from its own counter); errors = socket errors + non-2xx, all rounds."
echo "all rounds (p99 ms, healthy | one-slow):"
for t in $TARGETS; do
  printf '  %-15s %s | %s\n' "$t" "$(printf '%s' "${rounds_of[$t.healthy]}" | awk 'NF { printf "%s%.2f", (n++ ? ", " : ""), $3 }')" \
    "$(printf '%s' "${rounds_of[$t.one-slow]}" | awk 'NF { printf "%s%.2f", (n++ ? ", " : ""), $3 }')"
done
echo
echo "per request, without wrk's coordinated-omission correction: scalestack's own request-duration histogram"
echo "(from the request head to the backend's last response byte, at the proxy; bucket upper bounds, about 1.4 ms apart
     here, so a ratio moves in steps of ~15%; median round):"
for t in $TARGETS; do
  case $t in scalestack-*) ;; *) continue ;; esac
  R_LB99[$t.healthy]=$(median_of "$t.healthy" 7) R_LB99[$t.one-slow]=$(median_of "$t.one-slow" 7)
  printf '  %-15s p99 ok %s ms, p99 slow %s ms, ratio %s (rounds: %s | %s)\n' "$t" "${R_LB99[$t.healthy]}" "${R_LB99[$t.one-slow]}" \
    "$(awk -v a="${R_LB99[$t.one-slow]}" -v b="${R_LB99[$t.healthy]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
    "$(printf '%s' "${rounds_of[$t.healthy]}" | awk 'NF { printf "%s%s", (n++ ? ", " : ""), $7 }')" \
    "$(printf '%s' "${rounds_of[$t.one-slow]}" | awk 'NF { printf "%s%s", (n++ ? ", " : ""), $7 }')"
done
if [[ " $TARGETS " == *" scalestack-rt "* ]]; then
  verdict=$(awk -v r="${R_P99[scalestack-rt.one-slow]}" -v h="${R_P99[scalestack-rt.healthy]}" -v s="${R_SLOW[scalestack-rt.one-slow]}" \
    'BEGIN { ok = (h > 0 && r / h <= 1.2 && s + 0 < 5); printf "%s (wrk p99 %.2f×, goal <= 1.2×; slow share %s%%, goal < 5%%)", ok ? "met" : "NOT met", r / h, s }')
  lb_verdict=$(awk -v r="${R_LB99[scalestack-rt.one-slow]}" -v h="${R_LB99[scalestack-rt.healthy]}" -v s="${R_SLOW[scalestack-rt.one-slow]}" \
    'BEGIN { ok = (h > 0 && r / h <= 1.2 && s + 0 < 5); printf "%s (proxy-side p99 %.2f×)", ok ? "met" : "NOT met", r / h }')
  echo
  echo "acceptance (issue 3, point 2: response-time keeps p99 within 1.2× with one backend 10× slower):"
  echo "  as wrk reports it (coordinated omission corrected): $verdict"
  echo "  per request, at the proxy:                         $lb_verdict"
fi
failed=0
