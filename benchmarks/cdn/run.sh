#!/usr/bin/env bash
# benchmarks/cdn/run.sh: the scalestack CDN edge against nginx proxy_cache on the cache-hit path,
# with the same origin, the same objects and the same wrk load, in one run. See README.md beside this file.
#
#   benchmarks/cdn/run.sh                                  # defaults below
#   DURATION=20s CONNECTIONS=128 benchmarks/cdn/run.sh
#   benchmarks/cdn/run.sh --sizes "1k 256k" --profile
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Installs nginx and wrk from Debian packages when missing (root).
# Traffic goes only to 127.0.0.1; every process it starts is stopped on exit, Ctrl-C or failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/cdn/run.sh
bench=cdn-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
PROXY_THREADS=${PROXY_THREADS:-1}
SIZES=${SIZES:-1k 16k 256k}
ROUNDS=${ROUNDS:-2}
PIN=${PIN:-auto}
PORT_BASE=${PORT_BASE:-18100}
PROFILE=${PROFILE:-0}
DELAY_MS=${DELAY_MS:-0}
SCALESTACK=${SCALESTACK:-$root/scalestack}
INSTALL=${INSTALL:-1}
KEEP=${KEEP:-0}
NICE=${NICE:-0}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<EOF
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --duration D         one measured wrk run (default $DURATION)
  --warmup D           discarded wrk run per target and object before measuring (default $WARMUP; the JVM
                       needs this to compile its hot path)
  --connections N      wrk connections (default $CONNECTIONS)
  --wrk-threads N      wrk threads (default $WRK_THREADS)
  --proxy-threads N    nginx worker_processes and scalestack edge --io-threads (default $PROXY_THREADS)
  --sizes "S …"        objects, each measured on its own: 1k 16k 256k (default "$SIZES")
  --rounds N           measured runs per target and object, targets taken in turn; median by req/s (default $ROUNDS)
  --pin auto|on|off    taskset: proxies on CPUs 0..N-1, wrk and the origin on the others (default $PIN)
  --port-base P        P+1 origin, P+80 nginx, P+83 edge, P+404 edge admin (default $PORT_BASE)
  --profile            after the rounds: one more edge run under JFR, and where its time goes (PROFILE=1)
  --delay-ms N         each wrk connection waits N ms before its next request (wrk's delay()): the
                       same offered load for both, below either's limit, to compare latency rather
                       than latency at saturation (default $DELAY_MS: as fast as each can)
  --scalestack CMD     the scalestack launcher (default $root/scalestack, which builds if needed)
  --no-install         fail instead of apt-get installing missing nginx/wrk (INSTALL=0)
  --nice N             run origin, proxies and wrk at this nice value (default $NICE)
  --keep               keep the temporary directory (KEEP=1)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --connections) CONNECTIONS=${2:?}; shift ;;
    --wrk-threads) WRK_THREADS=${2:?}; shift ;;
    --proxy-threads) PROXY_THREADS=${2:?}; shift ;;
    --sizes) SIZES=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --pin) PIN=${2:?}; shift ;;
    --port-base) PORT_BASE=${2:?}; shift ;;
    --profile) PROFILE=1 ;;
    --delay-ms) DELAY_MS=${2:?}; shift ;;
    --scalestack) SCALESTACK=${2:?}; shift ;;
    --no-install) INSTALL=0 ;;
    --nice) NICE=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: '$1' (expected: a flag listed by --help)" ;;
  esac
  shift
done

check_duration DURATION "$DURATION"; check_duration WARMUP "$WARMUP"
check_count CONNECTIONS "$CONNECTIONS" 10000
check_count WRK_THREADS "$WRK_THREADS" 64
check_count PROXY_THREADS "$PROXY_THREADS" 64
check_count ROUNDS "$ROUNDS" 20
check_count PORT_BASE "$PORT_BASE" 65000
[ "$WRK_THREADS" -le "$CONNECTIONS" ] || die "WRK_THREADS: $WRK_THREADS (expected: <= CONNECTIONS, $CONNECTIONS)"
[[ $NICE =~ ^-?[0-9]+$ ]] && [ "$NICE" -ge -20 ] && [ "$NICE" -le 19 ] || die "NICE: '$NICE' (expected: an integer in -20..19)"
case $PIN in auto|on|off) ;; *) die "PIN: '$PIN' (expected: auto, on or off)" ;; esac
case $PROFILE in 0|1) ;; *) die "PROFILE: '$PROFILE' (expected: 0 or 1)" ;; esac
for s in $SIZES; do case $s in 1k|16k|256k) ;; *) die "SIZES: '$s' (expected: 1k, 16k or 256k)" ;; esac; done
duration_s=$(seconds_of "$DURATION")
warmup_s=$(seconds_of "$WARMUP")

pin_cpus "$PROXY_THREADS" "$PIN"
port_origin=$((PORT_BASE + 1)) port_nginx=$((PORT_BASE + 80)) port_edge=$((PORT_BASE + 83)) port_admin=$((PORT_BASE + 404))

bench_init
ensure_tools nginx=nginx-light wrk=wrk curl=curl
ports_free "$port_origin" "$port_nginx" "$port_edge" "$port_admin"

# ---------------------------------------------------------------------------------------------
# The origin: nginx serving three static objects with Cache-Control: max-age=3600 (and an ETag)
www=$tmp/www
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/1k"
head -c $((16 * 1024)) /dev/urandom >"$www/16k"
head -c $((256 * 1024)) /dev/urandom >"$www/256k"
chmod -R a+rX "$www"
mkdir -p "$tmp/origin"
cat >"$tmp/origin/nginx.conf" <<CONF
worker_processes 1;
$(nginx_paths "$tmp/origin")
events { worker_connections 4096; }
http {
$(nginx_http_paths "$tmp/origin")
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port_origin;
    location = /health { default_type text/plain; return 200 'ok\n'; }
    location /obj/ {
      alias $www/;
      default_type application/octet-stream;
      add_header Cache-Control "max-age=3600";
    }
  }
}
CONF
run_nginx origin "$load_cpus" "$tmp/origin"
wait_for origin "http://127.0.0.1:$port_origin/health" 20

# ---------------------------------------------------------------------------------------------
# nginx proxy_cache: the reference. Its cache is files (served from the page cache with
# sendfile); keys in a shared-memory zone; the lock coalesces misses as the edge does.
mkdir -p "$tmp/nginx/cache"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes $PROXY_THREADS;
$(nginx_paths "$tmp/nginx")
events { worker_connections 8192; }
http {
$(nginx_http_paths "$tmp/nginx")
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  proxy_cache_path $tmp/nginx/cache levels=1:2 keys_zone=edge:16m max_size=1g inactive=60m use_temp_path=off;
  upstream origin { server 127.0.0.1:$port_origin; keepalive 32; }
  server {
    listen 127.0.0.1:$port_nginx backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 5s;
      proxy_cache_use_stale error timeout updating;
      add_header X-Cache \$upstream_cache_status;
    }
  }
}
CONF
run_nginx nginx "$proxy_cpus" "$tmp/nginx"
wait_for nginx "http://127.0.0.1:$port_nginx/obj/1k" 20

# ---------------------------------------------------------------------------------------------
# the scalestack edge
say "building scalestack if needed ($SCALESTACK edge --help) …"
timeout --foreground -k 10 "$BUILD_TIMEOUT" "$SCALESTACK" edge --help >"$tmp/edge-help.txt" 2>"$tmp/edge-build.err" \
  || { cat "$tmp/edge-build.err" >&2; die "scalestack: '$SCALESTACK edge --help' failed (output above)"; }
start edge "$proxy_cpus" "$SCALESTACK" edge --listen "127.0.0.1:$port_edge" --admin "127.0.0.1:$port_admin" \
  --origin "http://127.0.0.1:$port_origin" --io-threads "$PROXY_THREADS" --max-memory-mb 256 --log-file "$tmp/edge.log"
edge_pid=$started
wait_for edge "http://127.0.0.1:$port_admin/health" 120
edge_java=$("/proc/$edge_pid/exe" -version 2>&1 | grep -v '^Picked up' | head -1 || true)

# both caches warm, and the content the same: byte-for-byte equal bodies, and a HIT from each
for s in $SIZES; do
  for t in nginx edge; do
    port=$port_nginx; [ "$t" = edge ] && port=$port_edge
    curl -s -o "$tmp/$t-$s" "http://127.0.0.1:$port/obj/$s"
    cmp -s "$tmp/$t-$s" "$www/$s" || die "$t: /obj/$s differs from the origin's"
    status=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/obj/$s" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" { print $2 }')
    [ "$status" = HIT ] || die "$t: /obj/$s: X-Cache '$status' on the second request (expected: HIT)"
  done
done

# ---------------------------------------------------------------------------------------------
clk_tck=$(getconf CLK_TCK)
group_ticks() { # PGID -> utime+stime summed over the group's processes
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v g="$1" '{ sub(/.*\) /, "") } $3 == g { t += $12 + $13 } END { print t + 0 }'
}
declare -A pgid_of=([nginx]=${pid_of[nginx]} [edge]=$edge_pid) port_of=([nginx]=$port_nginx [edge]=$port_edge)
declare -A rounds_of
edge_origin_requests() { curl -s "http://127.0.0.1:$port_admin/metrics" | awk '/^scalestack_edge_origin_requests_total/ { print $2 }'; }
origin_before=$(edge_origin_requests)

wrk_opts=()
if [ "$DELAY_MS" != 0 ]; then
  printf 'function delay() return %s end\n' "$DELAY_MS" > "$tmp/delay.lua"
  wrk_opts=(-s "$tmp/delay.lua")
fi
for s in $SIZES; do
  for t in nginx edge; do
    say "$t /obj/$s: warm-up ${warmup_s}s …"
    wrk_run "http://127.0.0.1:${port_of[$t]}/obj/$s" "$warmup_s" "$tmp/warm-$t-$s.txt" "$CONNECTIONS" "$WRK_THREADS" "$load_cpus" "${wrk_opts[@]}"
  done
  for r in $(seq 1 "$ROUNDS"); do
    for t in nginx edge; do
      say "$t /obj/$s: round $r of $ROUNDS (${duration_s}s) …"
      c0=$(group_ticks "${pgid_of[$t]}")
      wrk_run "http://127.0.0.1:${port_of[$t]}/obj/$s" "$duration_s" "$tmp/wrk-$t-$s-$r.txt" "$CONNECTIONS" "$WRK_THREADS" "$load_cpus" "${wrk_opts[@]}"
      c1=$(group_ticks "${pgid_of[$t]}")
      read -r rps p50 p99 req err < <(parse_wrk "$tmp/wrk-$t-$s-$r.txt")
      cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$clk_tck" -v d="$duration_s" 'BEGIN { printf "%.0f", (b - a) * 100 / hz / d }')
      rounds_of[$t-$s]+="$rps $p50 $p99 $err $cpu"$'\n'
    done
  done
done
origin_after=$(edge_origin_requests)

if [ "$PROFILE" = 1 ]; then
  s=$(echo "$SIZES" | awk '{ print $1 }')
  jdk=$(dirname "$(readlink -f "/proc/$edge_pid/exe")")
  say "profile: edge /obj/$s under JFR (${duration_s}s) …"
  "$jdk/jcmd" "$edge_pid" JFR.start name=bench settings=profile filename="$tmp/edge.jfr" >/dev/null
  wrk_run "http://127.0.0.1:$port_edge/obj/$s" "$duration_s" "$tmp/wrk-profile.txt" "$CONNECTIONS" "$WRK_THREADS" "$load_cpus"
  "$jdk/jcmd" "$edge_pid" JFR.stop name=bench >/dev/null
  { echo "== where the edge's time goes (JFR over ${duration_s}s of /obj/$s: hot methods, allocation, GC)"
    "$jdk/jfr" view --width 140 hot-methods "$tmp/edge.jfr" 2>&1 | head -30
    "$jdk/jfr" view --width 140 allocation-by-site "$tmp/edge.jfr" 2>&1 | head -16
    "$jdk/jfr" view --width 140 gc-pauses "$tmp/edge.jfr" 2>&1 | head -12
  } >"$tmp/profile.txt"
fi

# ---------------------------------------------------------------------------------------------
median_of() { # lines "rps p50 p99 err cpu" -> the line with the median rps
  sort -n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}
echo
echo "== scalestack CDN edge vs nginx proxy_cache, cache-hit path — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr), load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -1 | awk '{ print "wrk " $2 }'); edge on ${edge_java:-?}; commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "settings: wrk -t $WRK_THREADS -c $CONNECTIONS -d ${duration_s}s --latency, one object per run (GET /obj/SIZE, Cache-Control: max-age=3600),"
echo "          warmed ${warmup_s}s each, $ROUNDS round(s) taking the targets in turn (median by req/s); nginx worker_processes $PROXY_THREADS,"
echo "          edge --io-threads $PROXY_THREADS; $( [ -n "$proxy_cpus" ] && echo "proxies pinned to CPU $proxy_cpus, wrk and origin to CPU $load_cpus" || echo "no pinning")"
echo "          origin requests made by the edge during warm-up and measured runs: $(awk -v a="${origin_before:-0}" -v b="${origin_after:-0}" 'BEGIN { print b - a }')"
echo
printf '%-7s %-7s %10s %8s %8s %9s %7s %6s %10s %9s\n' object target req/s p50/ms p99/ms "p99 med" errors "CPU%" req/CPU-s "vs nginx"
for s in $SIZES; do
  n_rps="" n_p99=""
  for t in nginx edge; do
    read -r rps p50 p99 err cpu < <(printf '%s' "${rounds_of[$t-$s]}" | median_of)
    # the median of the rounds' p99s on its own: one round's tail says more about the machine than the proxy
    p99med=$(printf '%s' "${rounds_of[$t-$s]}" | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
    eff=$(awk -v r="$rps" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", r * 100 / c; else print "-" }')
    vs="-"
    if [ "$t" = nginx ]; then n_rps=$rps n_p99=$p99med; else vs=$(awk -v a="$rps" -v b="$n_rps" 'BEGIN { printf "%.2fx", a / b }'); fi
    printf '%-7s %-7s %10.0f %8.2f %8.2f %9s %7s %6s %10s %9s\n' "$s" "$t" "$rps" "$p50" "$p99" "$p99med" "$err" "$cpu" "$eff" "$vs"
    if [ "$t" = edge ]; then
      echo "        edge/nginx: req/s $(awk -v a="$rps" -v b="$n_rps" 'BEGIN { printf "%.2fx", a / b }'), p99 (median of rounds) $(awk -v a="$p99med" -v b="$n_p99" 'BEGIN { printf "%.2fx", a / b }') (latency: above 1x is slower)"
    fi
  done
done
echo "all rounds (req/s / p99 ms, in order):"
for s in $SIZES; do for t in nginx edge; do
  printf '  %-5s %-6s %s\n' "$s" "$t" "$(printf '%s' "${rounds_of[$t-$s]}" | awk '{ printf "%s%.0f / %.1f", (NR > 1 ? ", " : ""), $1, $3 }')"
done; done
echo "columns: req/s, p50, p99, errors, CPU% from the round with the median req/s; p99 med = the median of the rounds' p99s;"
echo "         CPU% = the proxy's CPU time over the run (100 = one core); req/CPU-s = requests per core-second of the proxy."
if [ -f "$tmp/profile.txt" ]; then echo; cat "$tmp/profile.txt"; fi
failed=0
