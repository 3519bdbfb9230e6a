#!/usr/bin/env bash
# benchmarks/lb/run.sh: the scalestack load balancer against nginx and HAProxy on one loopback
# topology, driven by the same wrk load, in one run. See README.md beside this file.
#
#   benchmarks/lb/run.sh                  # defaults: 3 rounds of 10 s, 64 connections, 1 proxy thread
#   DURATION=20s CONNECTIONS=128 PROXY_THREADS=2 benchmarks/lb/run.sh
#   benchmarks/lb/run.sh --duration 20s --targets "haproxy scalestack" --profile
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Installs nginx, haproxy and wrk from Debian packages when missing (root).
# Traffic goes only to 127.0.0.1; every process it starts is stopped on exit, Ctrl-C or failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/lb/run.sh
bench=lb-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-20s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-1}
PROXY_THREADS=${PROXY_THREADS:-1}
BACKENDS=${BACKENDS:-2}
ALGORITHM=${ALGORITHM:-round-robin}
PIN=${PIN:-auto}
ROUNDS=${ROUNDS:-3}
TARGETS=${TARGETS:-direct nginx haproxy scalestack haproxy-tcp nginx-tcp scalestack-tcp}
PORT_BASE=${PORT_BASE:-18000}
PROFILE=${PROFILE:-0}
PROFILE_DURATION=${PROFILE_DURATION:-20s}
SCALESTACK=${SCALESTACK:-$root/scalestack}
INSTALL=${INSTALL:-1}
KEEP=${KEEP:-0}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
WAIT_QUIET=${WAIT_QUIET:-0}
NICE=${NICE:-0}
ACCESS_LOG=${ACCESS_LOG:-0}

usage() {
  cat <<EOF
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --duration D         one measured wrk run (default $DURATION; s or m suffix)
  --warmup D           discarded wrk run on each target before the measured rounds (default $WARMUP;
                       the JVM needs about 15 s of this load to reach its plateau)
  --connections N      wrk connections (default $CONNECTIONS)
  --wrk-threads N      wrk threads (default $WRK_THREADS)
  --proxy-threads N    worker threads of every proxy: nginx worker_processes, HAProxy nbthread,
                       scalestack event-loop threads (default $PROXY_THREADS)
  --backends N         backend servers, 1..3 (default $BACKENDS)
  --algorithm A        round-robin or least-connections, for every proxy (default $ALGORITHM)
  --pin auto|on|off    taskset: proxy on CPUs 0..N-1, wrk and backends on the others (default $PIN;
                       auto pins when the machine has more CPUs than proxy threads)
  --rounds N           measured runs per target, taking the targets in turn; the median by req/s
                       is reported (default $ROUNDS)
  --targets "T …"      subset/order of: direct nginx haproxy scalestack haproxy-tcp nginx-tcp
                       scalestack-tcp (default "$TARGETS")
  --port-base P        ports used: P+1..P+3 backends, P+80 nginx, P+81 haproxy, P+82 scalestack,
                       P+83 haproxy tcp, P+84 nginx tcp, P+85 scalestack tcp, P+404 scalestack
                       admin, P+405 scalestack tcp admin (default $PORT_BASE)
  --profile            after the measured rounds: count each proxy's system calls per request
                       (perf stat, 5 s of the same load each), and record one more scalestack run
                       with JFR and print where its time goes (PROFILE=1)
  --profile-duration D length of that recorded run (default $PROFILE_DURATION)
  --scalestack CMD     the scalestack launcher (default $root/scalestack, which builds if needed)
  --no-install         fail instead of apt-get installing missing nginx/haproxy/wrk (INSTALL=0)
  --wait-quiet S       first wait up to S seconds for every CPU to be < 10% busy for 5 s (others'
                       builds and tests skew the figures); then measure anyway (default $WAIT_QUIET)
  --nice N             run backends, proxies and wrk at this nice value, e.g. -10 (root) to keep
                       other work on a shared machine from skewing the figures (default $NICE)
  --access-log         every proxy writes an access log line per request (ACCESS_LOG=1; scalestack
                       lb --access-log)
  --keep               keep the temporary directory (configs, logs, wrk output) (KEEP=1)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --connections) CONNECTIONS=${2:?}; shift ;;
    --wrk-threads) WRK_THREADS=${2:?}; shift ;;
    --proxy-threads) PROXY_THREADS=${2:?}; shift ;;
    --backends) BACKENDS=${2:?}; shift ;;
    --algorithm) ALGORITHM=${2:?}; shift ;;
    --pin) PIN=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --targets) TARGETS=${2:?}; shift ;;
    --port-base) PORT_BASE=${2:?}; shift ;;
    --profile) PROFILE=1 ;;
    --profile-duration) PROFILE_DURATION=${2:?}; shift ;;
    --scalestack) SCALESTACK=${2:?}; shift ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    --wait-quiet) WAIT_QUIET=${2:?}; shift ;;
    --nice) NICE=${2:?}; shift ;;
    --access-log) ACCESS_LOG=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: '$1' (expected: a flag listed by --help)" ;;
  esac
  shift
done

# ---------------------------------------------------------------------------------------------
# Validation: one line naming the setting, its value and what was expected.
# (seconds_of, check_duration, check_count: ../lib.sh)
check_duration DURATION "$DURATION"; check_duration WARMUP "$WARMUP"; check_duration PROFILE_DURATION "$PROFILE_DURATION"
check_count CONNECTIONS "$CONNECTIONS" 10000
check_count WRK_THREADS "$WRK_THREADS" 64
check_count PROXY_THREADS "$PROXY_THREADS" 64
check_count BACKENDS "$BACKENDS" 3
check_count ROUNDS "$ROUNDS" 20
check_count PORT_BASE "$PORT_BASE" 65000
[[ $NICE =~ ^-?[0-9]+$ ]] && [ "$NICE" -ge -20 ] && [ "$NICE" -le 19 ] || die "NICE: '$NICE' (expected: an integer in -20..19)"
[[ $WAIT_QUIET =~ ^[0-9]+$ ]] || die "WAIT_QUIET: '$WAIT_QUIET' (expected: seconds, 0 or more)"
[ "$WRK_THREADS" -le "$CONNECTIONS" ] || die "WRK_THREADS: $WRK_THREADS (expected: <= CONNECTIONS, $CONNECTIONS)"
case $ALGORITHM in round-robin|least-connections) ;; *) die "ALGORITHM: '$ALGORITHM' (expected: round-robin or least-connections)" ;; esac
case $PIN in auto|on|off) ;; *) die "PIN: '$PIN' (expected: auto, on or off)" ;; esac
case $PROFILE in 0|1) ;; *) die "PROFILE: '$PROFILE' (expected: 0 or 1)" ;; esac
case $ACCESS_LOG in 0|1) ;; *) die "ACCESS_LOG: '$ACCESS_LOG' (expected: 0 or 1)" ;; esac
for t in $TARGETS; do
  case $t in direct|nginx|haproxy|scalestack|haproxy-tcp|nginx-tcp|scalestack-tcp) ;;
    *) die "TARGETS: '$t' (expected: direct, nginx, haproxy, scalestack, haproxy-tcp, nginx-tcp or scalestack-tcp)" ;; esac
done
wants() { [[ " $TARGETS " == *" $1 "* ]]; }

duration_s=$(seconds_of "$DURATION")
warmup_s=$(seconds_of "$WARMUP")
profile_s=$(seconds_of "$PROFILE_DURATION")

ncpu=$(nproc)
proxy_cpus="" load_cpus=""
if [ "$PIN" != off ] && [ "$ncpu" -gt "$PROXY_THREADS" ]; then
  proxy_cpus="0-$((PROXY_THREADS - 1))"
  load_cpus="$PROXY_THREADS-$((ncpu - 1))"
elif [ "$PIN" = on ]; then
  die "PIN: on (expected: more CPUs than PROXY_THREADS; this machine has $ncpu, PROXY_THREADS is $PROXY_THREADS)"
fi

port_backend() { echo $((PORT_BASE + $1)); }
port_nginx=$((PORT_BASE + 80)) port_haproxy=$((PORT_BASE + 81)) port_scalestack=$((PORT_BASE + 82))
port_haproxy_tcp=$((PORT_BASE + 83)) port_nginx_tcp=$((PORT_BASE + 84)) port_admin=$((PORT_BASE + 404))
port_scalestack_tcp=$((PORT_BASE + 85)) port_admin_tcp=$((PORT_BASE + 405))

# ---------------------------------------------------------------------------------------------
# Cleanup: every process group this script started is stopped, on any exit (benchmarks/lib.sh).
bench_init

# ---------------------------------------------------------------------------------------------
# Tools: nginx, haproxy and wrk from Debian packages when missing.
have_stream_module() { [ -f /usr/lib/nginx/modules/ngx_stream_module.so ]; }
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v haproxy >/dev/null || need+=(haproxy)
command -v wrk >/dev/null || need+=(wrk)
if wants nginx-tcp && ! have_stream_module; then need+=(libnginx-mod-stream); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$INSTALL" != 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    # nginx-tcp is optional: without its module the L4 nginx line says so instead of failing
    only_optional=1
    for p in "${need[@]}"; do [ "$p" = libnginx-mod-stream ] || only_optional=0; done
    [ "$only_optional" = 1 ] || die "missing: ${need[*]} (expected: installed, or run as root on Debian/Ubuntu with INSTALL=1)"
  else
    say "installing ${need[*]} (apt-get update, then apt-get install) …"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      # the packages' postinst would start the system nginx/haproxy on port 80; 101 = "not allowed"
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get update -qq >"$tmp/apt.log" 2>&1 || { tail -5 "$tmp/apt.log" >&2; die "apt-get update failed (log above)"; }
    for p in "${need[@]}"; do
      pkgs=$p
      [ "$p" = nginx-light ] && ! apt-cache show nginx-light >/dev/null 2>&1 && pkgs=nginx
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkgs" >>"$tmp/apt.log" 2>&1 \
        || { [ "$p" = libnginx-mod-stream ] && say "could not install $p: nginx L4 will be skipped"; } \
        || { tail -5 "$tmp/apt.log" >&2; die "apt-get install $pkgs failed (log above)"; }
    done
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; made_policy=0; fi
  fi
fi

# every port free before anything starts: a busy port would silently measure someone else
ports=()
for i in $(seq 1 "$BACKENDS"); do ports+=("$(port_backend "$i")"); done
ports+=("$port_nginx" "$port_haproxy" "$port_scalestack" "$port_haproxy_tcp" "$port_nginx_tcp" "$port_admin"
  "$port_scalestack_tcp" "$port_admin_tcp")
for p in "${ports[@]}"; do
  if ss -Hltn "sport = :$p" | grep -q .; then die "PORT_BASE: $PORT_BASE (expected: port $p free on 127.0.0.1; choose another --port-base)"; fi
done

# ---------------------------------------------------------------------------------------------

# a 100-byte JSON body, the same length for every backend
body_of() { # I
  local head="{\"server\":\"backend-$1\",\"status\":\"ok\",\"data\":\"" tail='"}'
  local pad=$((100 - ${#head} - ${#tail}))
  printf '%s%s%s' "$head" "$(printf 'x%.0s' $(seq 1 "$pad"))" "$tail"
}

backend_pids=()
start_backends() {
  local i dir port
  for i in $(seq 1 "$BACKENDS"); do
    dir=$tmp/backend-$i port=$(port_backend "$i")
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
# backend-$i: a fast fixed answer, the same for every proxy
worker_processes 1;
$(nginx_paths "$dir")
events { worker_connections 8192; }
http {
$(nginx_http_paths "$dir")
  access_log off;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port backlog=4096;
    location = /health { default_type text/plain; return 200 'ok\n'; }
    location = /nginx_status { stub_status; }
    location / { default_type application/json; return 200 '$(body_of "$i")'; }
  }
}
EOF
    run_nginx "backend-$i" "$load_cpus" "$dir"
    backend_pids+=("$started")
  done
  for i in $(seq 1 "$BACKENDS"); do wait_for "backend-$i" "http://127.0.0.1:$(port_backend "$i")/health" 20; done
}

backend_requests() { # the requests counter of each backend, space-separated
  local i counts=()
  for i in $(seq 1 "$BACKENDS"); do
    counts+=("$(curl -s --max-time 2 "http://127.0.0.1:$(port_backend "$i")/nginx_status" | awk 'NR == 3 { print $3 }')")
  done
  echo "${counts[*]}"
}

fd_limit=$(ulimit -Hn); [[ $fd_limit =~ ^[0-9]+$ ]] || fd_limit=40000
haproxy_maxconn=$(( fd_limit / 2 - 100 )); [ "$haproxy_maxconn" -le 20000 ] || haproxy_maxconn=20000
upstream_keepalive=$(( CONNECTIONS > 64 ? CONNECTIONS : 64 ))

start_nginx_proxy() {
  local dir=$tmp/nginx i balance=""
  [ "$ALGORITHM" = least-connections ] && balance="least_conn;"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes $PROXY_THREADS;
$(nginx_paths "$dir")
events { worker_connections 8192; }
http {
$(nginx_http_paths "$dir")
  $([ "$ACCESS_LOG" = 1 ] && echo "access_log $dir/access.log;" || echo "access_log off;")
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  upstream backends {
    $balance
$(for i in $(seq 1 "$BACKENDS"); do echo "    server 127.0.0.1:$(port_backend "$i");"; done)
    keepalive $upstream_keepalive;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port_nginx backlog=4096;
    location / {
      proxy_pass http://backends;
      # keep-alive to the backends: HTTP/1.1 and no "Connection: close" forwarded
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # the same request rewriting scalestack does: Host kept, X-Forwarded-* added
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
EOF
  run_nginx nginx "$proxy_cpus" "$dir"
  target_pid=$started
  wait_for nginx "http://127.0.0.1:$port_nginx/" 20
}

start_nginx_tcp() {
  local dir=$tmp/nginx-tcp i balance=""
  [ "$ALGORITHM" = least-connections ] && balance="least_conn;"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $PROXY_THREADS;
$(nginx_paths "$dir")
events { worker_connections 8192; }
stream {
  upstream backends {
    $balance
$(for i in $(seq 1 "$BACKENDS"); do echo "    server 127.0.0.1:$(port_backend "$i");"; done)
  }
  server {
    listen 127.0.0.1:$port_nginx_tcp backlog=4096;
    proxy_pass backends;
  }
}
EOF
  run_nginx nginx-tcp "$proxy_cpus" "$dir"
  target_pid=$started
  wait_for nginx-tcp "http://127.0.0.1:$port_nginx_tcp/" 20
}

start_haproxy() { # MODE(http|tcp) PORT NAME
  local mode=$1 port=$2 name=$3 dir=$tmp/$3 i balance=roundrobin
  [ "$ALGORITHM" = least-connections ] && balance=leastconn
  mkdir -p "$dir"
  {
    cat <<EOF
global
  nbthread $PROXY_THREADS
  # each connection needs two descriptors (client and server side); stay under the hard limit
  maxconn $haproxy_maxconn
$([ "$ACCESS_LOG" = 1 ] && [ "$mode" = http ] && echo "  log stdout format raw local0")

defaults
  mode $mode
  timeout connect 2s
  timeout client 60s
  timeout server 60s
EOF
    if [ "$mode" = http ]; then
      cat <<EOF
  timeout http-keep-alive 75s
  # keep-alive on both sides (the default in 2.x), idle backend connections shared between clients
  option http-keep-alive
  http-reuse always
  # the same request rewriting scalestack does: X-Forwarded-* added
  option forwardfor
$([ "$ACCESS_LOG" = 1 ] && printf '  log global\n  option httplog\n')
EOF
    fi
    cat <<EOF

frontend fe
  bind 127.0.0.1:$port
  default_backend be
EOF
    if [ "$mode" = http ]; then echo "  http-request set-header X-Forwarded-Proto http"; fi
    cat <<EOF

backend be
  balance $balance
EOF
    if [ "$mode" = http ]; then
      # the same active health check scalestack runs: GET /health every second
      echo "  option httpchk GET /health"
      echo "  http-check expect status 200"
    fi
    for i in $(seq 1 "$BACKENDS"); do echo "  server backend-$i 127.0.0.1:$(port_backend "$i") check inter 1s"; done
  } >"$dir/haproxy.cfg"
  haproxy -c -f "$dir/haproxy.cfg" >"$tmp/$name.out" 2>&1 || fail_with_log "$name" "$name: haproxy -c rejected $dir/haproxy.cfg"
  start "$name" "$proxy_cpus" haproxy -db -f "$dir/haproxy.cfg"
  target_pid=$started
  wait_for "$name" "http://127.0.0.1:$port/" 20
}

# ---------------------------------------------------------------------------------------------
# scalestack
scalestack_io_note=""
scalestack_java=""

# start_scalestack [tcp]: the HTTP balancer, or with "tcp" a second JVM in TCP mode (scalestack-tcp)
start_scalestack() {
  local mode=${1:-http} name=scalestack port=$port_scalestack admin=$port_admin
  if [ "$mode" = tcp ]; then name=scalestack-tcp port=$port_scalestack_tcp admin=$port_admin_tcp; fi
  local i args=() opts=${JAVA_TOOL_OPTIONS:-}
  for i in $(seq 1 "$BACKENDS"); do args+=(--backend "backend-$i=127.0.0.1:$(port_backend "$i")"); done
  if [ "$ACCESS_LOG" = 1 ] && grep -q -- '--access-log' "$tmp/lb-help.txt"; then args+=(--access-log); fi
  if grep -q -- '--io-threads' "$tmp/lb-help.txt"; then
    args+=(--io-threads "$PROXY_THREADS")
    scalestack_io_note="--io-threads $PROXY_THREADS"
  else
    # No CLI flag for the builder's ioThreads; its default is availableProcessors(), which
    # -XX:ActiveProcessorCount sets to N whether or not the JVM is pinned.
    opts="$opts -XX:ActiveProcessorCount=$PROXY_THREADS"
    scalestack_io_note="no --io-threads flag in 'lb --help': default ioThreads = availableProcessors(), set to $PROXY_THREADS with -XX:ActiveProcessorCount"
  fi
  # TCP mode checks backends with a connect, as HAProxy's plain "check" in mode tcp
  if [ "$mode" = tcp ]; then args+=(--mode tcp --name lb-tcp); fi
  start "$name" "$proxy_cpus" env "JAVA_TOOL_OPTIONS=${opts# }" "$SCALESTACK" lb \
    --listen "127.0.0.1:$port" --admin "127.0.0.1:$admin" \
    --algorithm "$ALGORITHM" --log-file "$tmp/$name-lb.log" "${args[@]}"
  target_pid=$started
  wait_for "$name" "http://127.0.0.1:$admin/health" 120
  # a new backend gets traffic only after passing its health checks: wait until all are UP
  local deadline=$((SECONDS + 60)) up
  while :; do
    up=$(curl -s --max-time 2 "http://127.0.0.1:$admin/backends" | jq '[.[] | select(.state == "UP")] | length' 2>/dev/null || echo "")
    [ "$up" = "$BACKENDS" ] && break
    if [ -z "$up" ]; then # admin API not as expected: fall back to an answer through the proxy
      wait_for "$name" "http://127.0.0.1:$port/" 60; sleep 3; break
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail_with_log "$name" "$name: $up of $BACKENDS backends UP after 60 s"
    sleep 0.2
  done
  scalestack_java=$("/proc/$target_pid/exe" -version 2>&1 | grep -v '^Picked up' | head -1 || true)
}

start_scalestack_tcp() { start_scalestack tcp; }

scalestack_threads() { # "lb-io threads / all threads" of the running JVM
  local pid=$1 io all
  all=$(ls "/proc/$pid/task" | wc -l)
  io=$(cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -c '^lb-io' || true)
  echo "$io lb-io event-loop threads (of $all JVM threads)"
}

# ---------------------------------------------------------------------------------------------
# Measurement
clk_tck=$(getconf CLK_TCK)

group_ticks() { # PGID -> "utime stime" summed over the group's live processes
  local pgid=$1
  cat /proc/[0-9]*/stat 2>/dev/null \
    | awk -v g="$pgid" '{ sub(/.*\) /, "") } $3 == g { u += $12; s += $13 } END { print u + 0, s + 0 }'
}

thread_ticks() { # PID -> one line per thread: "tid name utime+stime"
  local d
  for d in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${d##*/}" "$(tr ' ' '_' <"$d/comm" 2>/dev/null)" \
      "$(sed 's/.*) //' "$d/stat" 2>/dev/null | awk '{ print $12 + $13 }')"
  done
}

thread_cpu() { # BEFORE AFTER SECONDS -> "name N%, …" by thread name, busiest first
  awk -v hz="$clk_tck" -v d="$3" 'FNR == NR { t0[$1] = $3; next }
    { name[$1] = $2; dt = $3 - t0[$1]; by[$2] += dt }
    END { for (n in by) if (by[n] * 100 / hz / d >= 0.5) printf "%.0f %s\n", by[n] * 100 / hz / d, n }' "$1" "$2" \
    | sort -rn | awk '{ printf "%s%s %d%%", (NR > 1 ? ", " : ""), $2, $1 } END { print "" }'
}

cpu_busy() { # per-CPU "busy total" jiffies from /proc/stat, one pair per CPU, space-separated
  awk '/^cpu[0-9]/ { t = 0; for (i = 2; i <= NF; i++) t += $i; printf "%d:%d ", t - $5 - $6, t }' /proc/stat
}

wrk_load() { wrk_run "$1" "$2" "$3" "$CONNECTIONS" "$WRK_THREADS" "$load_cpus"; } # URL SECONDS OUTFILE

# syscalls per request: perf stat counts the syscall tracepoints of the proxy's processes while
# wrk runs (PROFILE=1 only: a separate run, the measured ones stay unobserved)
syscall_names="read readv recvfrom recvmsg write writev sendto sendmsg splice epoll_wait epoll_pwait epoll_pwait2 epoll_ctl accept4 futex setsockopt getsockopt ioctl close clock_gettime gettimeofday sched_yield madvise mprotect"
syscall_events() {
  local n ev=raw_syscalls:sys_enter
  for n in $syscall_names; do
    [ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$n" ] || [ -d "/sys/kernel/debug/tracing/events/syscalls/sys_enter_$n" ] \
      && ev="$ev,syscalls:sys_enter_$n"
  done
  echo "$ev"
}
count_syscalls() { # NAME URL PGID
  local name=$1 url=$2 pgid=$3 pids secs=5 perf_pid
  command -v perf >/dev/null || { echo "$name: no perf" >>"$tmp/syscalls.txt"; return 0; }
  pids=$(pgrep -g "$pgid" | paste -sd, -)
  perf stat -x, -e "$(syscall_events)" -p "$pids" -o "$tmp/$name.perf" -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.3
  wrk_load "$url" "$secs" "$tmp/$name.perf.wrk"
  wait "$perf_pid" || { echo "  $name: perf stat failed ($(tail -1 "$tmp/$name.perf" 2>/dev/null))" >>"$tmp/syscalls.txt"; return 0; }
  read -r rps _ _ req _ <<<"$(parse_wrk "$tmp/$name.perf.wrk")"
  # perf -x, lines: count,unit,event,…   ("<not supported>" counts are skipped)
  awk -F, -v name="$name" -v req="$req" '
    $1 ~ /^[0-9]+$/ { ev = $3; sub(/.*sys_enter_?/, "", ev); if (ev == "") ev = "all"; c[ev] = $1; order[++n] = ev }
    END {
      if (req == 0 || !("all" in c)) { print "  " name ": no count"; exit }
      line = sprintf("  %-12s %5.2f syscalls/req:", name, c["all"] / req); known = 0
      for (i = 1; i <= n; i++) { e = order[i]; if (e == "all" || c[e] == 0) continue
        known += c[e]; if (c[e] / req >= 0.01) line = line sprintf(" %s %.2f", e, c[e] / req) }
      printf "%s, other %.2f\n", line, (c["all"] - known) / req }' "$tmp/$name.perf" >>"$tmp/syscalls.txt"
}

declare -A R_RPS R_P50 R_P99 R_ERR R_CPU R_BUSY R_SPLIT R_OTHERS R_EFF R_CLEAN R_ALL
results_order=()

warm_up() { # NAME
  say "$1: warm-up ${warmup_s}s (discarded) …"
  wrk_load "${target_url[$1]}" "$warmup_s" "$tmp/$1.warmup.wrk"
}

declare -A rounds_of   # target -> its measured rounds, one line each
measure_round() { # NAME ROUND
  local name=$1 round=$2 url=${target_url[$1]} pgid=${target_pgid[$1]} t0 t1 c0 c1 b0 b1
  say "$name: measuring ${duration_s}s (round $round/$ROUNDS) …"
  b0=$(backend_requests); c0=$(cpu_busy); t0=$([ -n "$pgid" ] && group_ticks "$pgid" || echo "0 0")
  [ -z "$pgid" ] || thread_ticks "$pgid" >"$tmp/$name.threads0"
  wrk_load "$url" "$duration_s" "$tmp/$name.$round.wrk"
  t1=$([ -n "$pgid" ] && group_ticks "$pgid" || echo "0 0"); c1=$(cpu_busy); b1=$(backend_requests)
  [ -z "$pgid" ] || thread_ticks "$pgid" >"$tmp/$name.threads1"
  read -r rps p50 p99 req err <<<"$(parse_wrk "$tmp/$name.$round.wrk")"
  # proxy CPU over the run: % of one CPU, user/system split
  local cpu="-" cpu_pct=0
  if [ -n "$pgid" ]; then
    read -r cpu cpu_pct <<<"$(awk -v a="$t0" -v b="$t1" -v hz="$clk_tck" -v d="$duration_s" 'BEGIN {
      split(a, x, " "); split(b, y, " "); u = (y[1] - x[1]) / hz / d * 100; s = (y[2] - x[2]) / hz / d * 100
      printf "%.0f%%(%.0fu/%.0fs) %.0f\n", u + s, u, s, u + s }')"
  fi
  # CPU time others took on the proxy's pinned CPUs (busy there minus the proxy's own use): a
  # build or test running meanwhile shows here and makes the run suspect
  local others=0
  if [ -n "$pgid" ] && [ -n "$proxy_cpus" ]; then
    others=$(awk -v a="$c0" -v b="$c1" -v n="$PROXY_THREADS" -v own="$cpu_pct" 'BEGIN { split(a, x, " "); split(b, y, " "); sum = 0
      for (i = 1; i <= n; i++) { split(x[i], p, ":"); split(y[i], q, ":"); if (q[2] > p[2]) sum += (q[1] - p[1]) * 100 / (q[2] - p[2]) }
      o = sum - own; printf "%.0f", (o > 0 ? o : 0) }')
  fi
  # busy % of each CPU over the run (anything running there, not only our processes)
  local busy
  busy=$(awk -v a="$c0" -v b="$c1" 'BEGIN { n = split(a, x, " "); split(b, y, " "); out = ""
    for (i = 1; i <= n; i++) { split(x[i], p, ":"); split(y[i], q, ":")
      out = out (i > 1 ? "/" : "") sprintf("%.0f", (q[2] - p[2]) ? (q[1] - p[1]) * 100 / (q[2] - p[2]) : 0) }
    print out }')
  # share of the requests each backend received (health checks included, a few per second)
  local split
  split=$(awk -v a="$b0" -v b="$b1" 'BEGIN { n = split(a, x, " "); split(b, y, " "); t = 0
    for (i = 1; i <= n; i++) { d[i] = y[i] - x[i]; t += d[i] }
    out = ""; for (i = 1; i <= n; i++) out = out (i > 1 ? "/" : "") sprintf("%.0f", t ? d[i] * 100 / t : 0); print out }')
  # requests per CPU-second of the proxy: what it would serve with a core to itself; steadier
  # than req/s when other work takes part of its CPU
  local eff=-
  if [ "$cpu_pct" -gt 0 ]; then eff=$(awk -v r="$rps" -v c="$cpu_pct" 'BEGIN { printf "%.0f", r * 100 / c }'); fi
  rounds_of[$name]+="$rps $p50 $p99 $err $cpu $busy $split $others $eff"$'\n'
  R_ALL[$name]="${R_ALL[$name]:-}${R_ALL[$name]:+, }$(printf '%.0f' "$rps")$( [ "$others" -lt 15 ] || echo '*')"
}

summarize() { # NAME: the median round by req/s (the lower middle for an even count), taken from
  # the clean rounds (others took < 15% of the proxy's CPU) when there are any, else from all
  local name=$1 line rows n clean
  rows=$(printf '%s' "${rounds_of[$name]}" | awk '$8 < 15')
  clean=$(printf '%s' "$rows" | grep -c . || true)
  [ "$clean" -gt 0 ] || rows=$(printf '%s' "${rounds_of[$name]}")
  n=$(printf '%s\n' "$rows" | grep -c .)
  line=$(printf '%s\n' "$rows" | sort -g -k1,1 | sed -n "$(( (n + 1) / 2 ))p")
  read -r R_RPS[$name] R_P50[$name] R_P99[$name] R_ERR[$name] R_CPU[$name] R_BUSY[$name] R_SPLIT[$name] R_OTHERS[$name] R_EFF[$name] <<<"$line"
  # and the median of req/CPU-s of the same rounds on its own
  R_EFF[$name]=$(printf '%s\n' "$rows" | awk '{ print $9 }' | sort -g | sed -n "$(( (n + 1) / 2 ))p")
  R_CLEAN[$name]="$clean/$ROUNDS"
  [ -n "${target_pgid[$name]}" ] || R_CLEAN[$name]=-
  results_order+=("$name")
}

# ---------------------------------------------------------------------------------------------
# Profile: one more scalestack run under JFR, then where the time went.
profile_scalestack() {
  local pid=$1 jdk jfrfile=$tmp/scalestack.jfr out
  out=/tmp/lb-bench-scalestack-$(date +%Y%m%d-%H%M%S).jfr
  jdk=$(dirname "$(dirname "$(readlink -f "/proc/$pid/exe")")")
  [ -x "$jdk/bin/jcmd" ] && [ -x "$jdk/bin/jfr" ] || { say "profile: no jcmd/jfr beside $jdk/bin/java: skipped"; return 0; }
  say "scalestack: recording ${profile_s}s with JFR (settings=profile) under the same load …"
  # jdk.CPUTimeSample (JDK 25+, Linux) samples by CPU time, including native and kernel time of
  # Java threads; older JDKs reject it, so retry without
  if ! "$jdk/bin/jcmd" "$pid" JFR.start name=lbbench settings=profile "filename=$jfrfile" \
        jdk.CPUTimeSample#enabled=true jdk.CPUTimeSample#throttle=5ms >"$tmp/jfr-start.out" 2>&1 \
      || grep -qi 'error\|exception' "$tmp/jfr-start.out"; then
    "$jdk/bin/jcmd" "$pid" JFR.start name=lbbench settings=profile "filename=$jfrfile" >"$tmp/jfr-start.out" 2>&1 \
      || { cat "$tmp/jfr-start.out" >&2; say "profile: JFR.start failed: skipped"; return 0; }
  fi
  thread_ticks "$pid" >"$tmp/profile.threads0"
  wrk_load "http://127.0.0.1:$port_scalestack/" "$profile_s" "$tmp/scalestack.profile.wrk"
  thread_ticks "$pid" >"$tmp/profile.threads1"
  "$jdk/bin/jcmd" "$pid" JFR.stop name=lbbench >"$tmp/jfr-stop.out" 2>&1 || { cat "$tmp/jfr-stop.out" >&2; say "profile: JFR.stop failed"; return 0; }
  cp "$jfrfile" "$out"
  read -r rps p50 p99 req err <<<"$(parse_wrk "$tmp/scalestack.profile.wrk")"
  local jfr=$jdk/bin/jfr
  echo
  echo "== scalestack profile: JFR, ${profile_s}s of the same wrk load (req/s under recording: $(printf '%.0f' "$rps")); recording kept in $out"
  echo
  echo "-- CPU per thread over the recorded run (from /proc; 100% = one core)"
  echo "  $(thread_cpu "$tmp/profile.threads0" "$tmp/profile.threads1" "$profile_s")"
  echo
  if "$jfr" summary "$jfrfile" 2>/dev/null | grep -q 'jdk.CPUTimeSample *[1-9]'; then
    echo "-- hot methods by CPU time, top frame (jfr view cpu-time-hot-methods)"
    "$jfr" view --width 160 cpu-time-hot-methods "$jfrfile" 2>&1 | sed -n '1,30p' | sed '/^$/d'
    echo
  fi
  echo "-- hot methods, top frame of execution samples: Java code only (jfr view hot-methods)"
  "$jfr" view --width 160 hot-methods "$jfrfile" 2>&1 | sed -n '1,20p' | sed '/^$/d'
  echo
  # inclusive: the share of samples in which each method is anywhere on the stack
  local ev=jdk.ExecutionSample
  "$jfr" summary "$jfrfile" 2>/dev/null | grep -q 'jdk.CPUTimeSample *[1-9]' && ev=jdk.CPUTimeSample
  "$jfr" print --json --stack-depth 96 --events "$ev" "$jfrfile" >"$tmp/samples.json" 2>/dev/null || true
  if [ -s "$tmp/samples.json" ]; then
    local n
    n=$(jq '.recording.events | length' "$tmp/samples.json")
    echo "-- self time by package: top frame of $n $ev samples"
    jq -r '.recording.events[] | (.values.stackTrace.frames[0].method.type.name // "?") | gsub("/"; ".")
             | sub("\\.[^.]*$"; "")' "$tmp/samples.json" \
      | sort | uniq -c | sort -rn | head -15 | awk -v n="$n" '{ printf "  %5.1f%%  %s\n", $1 * 100 / n, $2 }'
    echo
    echo "-- inclusive: % of samples with the method anywhere on the stack (the event-loop scaffolding above 90% left out)"
    jq -r '.recording.events[] | [.values.stackTrace.frames[]? | "\(.method.type.name).\(.method.name)" | gsub("/"; ".")] | unique | .[]' "$tmp/samples.json" \
      | sort | uniq -c | sort -rn \
      | awk -v n="$n" '$1 * 100 / n <= 90 && ++k <= 40 { printf "  %5.1f%%  %s\n", $1 * 100 / n, $2 }'
    echo
    echo "-- samples by thread"
    jq -r '.recording.events[] | .values.sampledThread.javaName // .values.eventThread.javaName // "?"' "$tmp/samples.json" \
      | sort | uniq -c | sort -rn | head -10 | awk -v n="$n" '{ c = $1; $1 = ""; printf "  %5.1f%% %s\n", c * 100 / n, $0 }'
    echo
  fi
  # jdk.ThreadAllocationStatistics: each thread's allocated bytes so far, at the start and the end
  # of the recording; the recorded wrk run is the only traffic then
  local alloc
  alloc=$("$jfr" print --json --events jdk.ThreadAllocationStatistics "$jfrfile" 2>/dev/null \
    | jq -r '[.recording.events[] | select(.values.thread.javaName // "" | startswith("lb-io"))
              | {t: .values.thread.javaName, a: .values.allocated}] | group_by(.t)
             | map((map(.a) | max) - (map(.a) | min)) | add // 0' 2>/dev/null || echo 0)
  echo "-- allocation: $(awk -v a="$alloc" -v r="$req" 'BEGIN { if (r > 0 && a > 0) printf "%.0f bytes per request on the event loop(s) (%.2f GB in %d requests)", a / r, a / 1e9, r; else print "no jdk.ThreadAllocationStatistics" }')"
  # (no allocation-by-class view: its weighted samples put a different class on top in every run)
  echo
  echo "-- GC (jfr view gc-pauses)"
  "$jfr" view --width 120 gc-pauses "$jfrfile" 2>&1 | sed -n '1,14p' | sed '/^$/d'
}

# ---------------------------------------------------------------------------------------------
# Run
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "$proxy_cpus" ] || say "not pinning (PIN=$PIN, $ncpu CPUs, $PROXY_THREADS proxy threads): numbers are noisier"
if wants scalestack || wants scalestack-tcp; then build_scalestack "$SCALESTACK" "$BUILD_TIMEOUT"; fi

if [ "$WAIT_QUIET" -gt 0 ]; then
  say "waiting up to ${WAIT_QUIET}s for a quiet machine (every CPU < 10% busy for 5 s) …"
  quiet_deadline=$((SECONDS + WAIT_QUIET)) quiet=0
  while [ "$SECONDS" -lt "$quiet_deadline" ]; do
    c0=$(cpu_busy); sleep 5; c1=$(cpu_busy)
    if awk -v a="$c0" -v b="$c1" 'BEGIN { n = split(a, x, " "); split(b, y, " "); m = 0
         for (i = 1; i <= n; i++) { split(x[i], p, ":"); split(y[i], q, ":"); if (q[2] > p[2] && (q[1] - p[1]) * 100 / (q[2] - p[2]) > m) m = (q[1] - p[1]) * 100 / (q[2] - p[2]) }
         exit !(m < 10) }'; then quiet=1; break; fi
  done
  [ "$quiet" = 1 ] && say "quiet: starting" || say "still busy after ${WAIT_QUIET}s: measuring anyway (see the * marks)"
fi
start_backends

# Every target is started and warmed up first, then the measured rounds go round the targets in
# turn (direct, nginx, haproxy, … then again), so a neighbour's burst of CPU use on this shared
# machine hits one round of each rather than every round of one. An idle proxy costs nothing.
declare -A target_url target_pgid
active=()
for t in $TARGETS; do
  case $t in
    direct)
      target_pgid[direct]="" target_url[direct]="http://127.0.0.1:$(port_backend 1)/" ;;
    nginx)
      start_nginx_proxy; target_pgid[nginx]=$target_pid target_url[nginx]="http://127.0.0.1:$port_nginx/" ;;
    haproxy)
      start_haproxy http "$port_haproxy" haproxy; target_pgid[haproxy]=$target_pid target_url[haproxy]="http://127.0.0.1:$port_haproxy/" ;;
    haproxy-tcp)
      start_haproxy tcp "$port_haproxy_tcp" haproxy-tcp
      target_pgid[haproxy-tcp]=$target_pid target_url[haproxy-tcp]="http://127.0.0.1:$port_haproxy_tcp/" ;;
    nginx-tcp)
      if ! have_stream_module; then
        say "nginx-tcp: no /usr/lib/nginx/modules/ngx_stream_module.so (package libnginx-mod-stream): skipped"; continue
      fi
      start_nginx_tcp; target_pgid[nginx-tcp]=$target_pid target_url[nginx-tcp]="http://127.0.0.1:$port_nginx_tcp/" ;;
    scalestack)
      say "scalestack: starting …"
      start_scalestack; target_pgid[scalestack]=$target_pid target_url[scalestack]="http://127.0.0.1:$port_scalestack/" ;;
    scalestack-tcp)
      say "scalestack-tcp: starting (lb --mode tcp) …"
      start_scalestack_tcp
      target_pgid[scalestack-tcp]=$target_pid target_url[scalestack-tcp]="http://127.0.0.1:$port_scalestack_tcp/" ;;
  esac
  active+=("$t")
  warm_up "$t"
done
for round in $(seq 1 "$ROUNDS"); do
  for t in "${active[@]}"; do measure_round "$t" "$round"; done
done
for t in "${active[@]}"; do summarize "$t"; done

scalestack_threads_note=""
if [ -n "${target_pgid[scalestack]:-}" ]; then
  scalestack_threads_note=$(scalestack_threads "${target_pgid[scalestack]}")
  curl -s --max-time 2 "http://127.0.0.1:$port_admin/backends" >"$tmp/scalestack-backends.json" || true
fi
if [ "$PROFILE" = 1 ]; then
  for t in "${active[@]}"; do
    [ -n "${target_pgid[$t]}" ] || continue
    say "$t: counting system calls (perf stat, 5s) …"
    count_syscalls "$t" "${target_url[$t]}" "${target_pgid[$t]}"
  done
  if [ -n "${target_pgid[scalestack]:-}" ]; then profile_scalestack "${target_pgid[scalestack]}" >"$tmp/profile.txt"; fi
fi

# ---------------------------------------------------------------------------------------------
# Report
ratio() { # A B -> A/B with ×, or "-"
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f×", a / b }'
}

echo
echo "== scalestack load balancer vs nginx and HAProxy — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), load average at start: $load_before"
echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(haproxy -v | head -1 | awk '{ print "HAProxy " $3 }'); $(wrk -v 2>&1 | head -1 | awk '{ print "wrk " $2 }')"
echo "          scalestack on ${scalestack_java:-java (not run)}; scalestack commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git -C "$root" status --porcelain -- balancer cli 2>/dev/null)" ] && echo ' + uncommitted changes in balancer/ or cli/')"
echo "settings: wrk -t $WRK_THREADS -c $CONNECTIONS -d ${duration_s}s --latency (each target warmed up ${warmup_s}s, discarded; then $ROUNDS round(s) taking the targets in turn, median by req/s reported), GET / -> 100-byte JSON"
[ "$NICE" = 0 ] || echo "          backends, proxies and wrk at nice $NICE"
access_lines=$(grep -c 'balancer.access' "$tmp/scalestack-lb.log" 2>/dev/null || true)
if [ "$ACCESS_LOG" = 1 ]; then
  echo "          access logs: on for nginx (file), HAProxy (stdout, option httplog) and scalestack (${access_lines:-0} lines in its log file)"
elif [ "${access_lines:-0}" -gt 0 ]; then
  echo "          access logs: off for nginx and HAProxy; scalestack wrote one per request ($access_lines lines; 'lb' has no switch for it: --access-log turns the others' on)"
else
  echo "          access logs: off"
fi
echo "          $BACKENDS nginx backends (1 worker each, keep-alive), $ALGORITHM, $PROXY_THREADS proxy thread(s): nginx worker_processes $PROXY_THREADS, HAProxy nbthread $PROXY_THREADS, scalestack ${scalestack_threads_note:-(not run)}"
[ -n "$scalestack_io_note" ] && echo "          scalestack: $scalestack_io_note"
[ -f "$tmp/scalestack.threads1" ] && echo "          scalestack CPU by thread, last measured round: $(thread_cpu "$tmp/scalestack.threads0" "$tmp/scalestack.threads1" "$duration_s")"
if [ -n "$proxy_cpus" ]; then
  echo "pinning:  taskset: proxy on CPU ${proxy_cpus/#0-0/0}; wrk and backends on CPU ${load_cpus/#1-1/1} (so 'direct' is the ceiling a proxy can reach here)"
else
  echo "pinning:  none"
fi
echo
printf '%-15s %8s %8s %8s %6s %15s %9s %8s %8s %6s %10s %9s\n' target req/s p50/ms p99/ms errors "proxy CPU" "req/CPU-s" "CPU busy" backends clean "vs HAProxy" "vs nginx"
suspect=0
for n in "${results_order[@]}"; do
  ref_h=haproxy ref_n=nginx
  case $n in *-tcp) ref_h=haproxy-tcp ref_n=nginx-tcp ;; esac
  label=$n
  if [ "${R_OTHERS[$n]:-0}" -ge 15 ]; then label="$n*"; suspect=1; fi
  printf '%-15s %8.0f %8.2f %8.2f %6s %15s %9s %8s %8s %6s %10s %9s\n' "$label" "${R_RPS[$n]}" "${R_P50[$n]}" "${R_P99[$n]}" "${R_ERR[$n]}" \
    "${R_CPU[$n]}" "${R_EFF[$n]}" "${R_BUSY[$n]}" "${R_SPLIT[$n]}" "${R_CLEAN[$n]}" "$(ratio "${R_RPS[$n]}" "${R_RPS[$ref_h]:-}")" "$(ratio "${R_RPS[$n]}" "${R_RPS[$ref_n]:-}")"
done
if [ "$suspect" = 1 ]; then
  echo "* no clean round: in every round other processes took >= 15% of a core on the proxy's CPU (its busy %"
  echo "  minus the proxy's own CPU time); req/s and latency are then low/high by an unknown amount, and"
  echo "  req/CPU-s is the figure to compare; rerun on a quiet machine (--wait-quiet, --nice) for the rest."
fi
echo
if [ -n "${R_RPS[scalestack]:-}" ]; then
  echo "scalestack/HAProxy: req/s $(ratio "${R_RPS[scalestack]}" "${R_RPS[haproxy]:-}"), req/CPU-s $(ratio "${R_EFF[scalestack]}" "${R_EFF[haproxy]:-}"), p50 $(ratio "${R_P50[scalestack]}" "${R_P50[haproxy]:-}"), p99 $(ratio "${R_P99[scalestack]}" "${R_P99[haproxy]:-}") (latency: above 1× is slower)"
  echo "scalestack/nginx:   req/s $(ratio "${R_RPS[scalestack]}" "${R_RPS[nginx]:-}"), req/CPU-s $(ratio "${R_EFF[scalestack]}" "${R_EFF[nginx]:-}"), p50 $(ratio "${R_P50[scalestack]}" "${R_P50[nginx]:-}"), p99 $(ratio "${R_P99[scalestack]}" "${R_P99[nginx]:-}")"
fi
echo "L4 (TCP):"
for n in haproxy-tcp nginx-tcp scalestack-tcp; do
  [ -n "${R_RPS[$n]:-}" ] && printf '  %-15s %10.0f req/s  p50 %.2f ms  p99 %.2f ms\n' "$n" "${R_RPS[$n]}" "${R_P50[$n]}" "${R_P99[$n]}"
done
if [ -n "${R_RPS[scalestack-tcp]:-}" ]; then
  echo "scalestack-tcp/HAProxy-tcp: req/s $(ratio "${R_RPS[scalestack-tcp]}" "${R_RPS[haproxy-tcp]:-}"), req/CPU-s $(ratio "${R_EFF[scalestack-tcp]}" "${R_EFF[haproxy-tcp]:-}"), p50 $(ratio "${R_P50[scalestack-tcp]}" "${R_P50[haproxy-tcp]:-}"), p99 $(ratio "${R_P99[scalestack-tcp]}" "${R_P99[haproxy-tcp]:-}") (latency: above 1× is slower)"
  echo "scalestack-tcp/nginx-tcp:   req/s $(ratio "${R_RPS[scalestack-tcp]}" "${R_RPS[nginx-tcp]:-}"), req/CPU-s $(ratio "${R_EFF[scalestack-tcp]}" "${R_EFF[nginx-tcp]:-}")"
fi
if [ "$ROUNDS" -gt 1 ]; then
  echo "all rounds (req/s, in order; * = others busy on the proxy's CPU):"
  for n in "${results_order[@]}"; do printf '  %-12s %s\n' "$n" "${R_ALL[$n]}"; done
  echo "all rounds (req/CPU-s):"
  for n in "${results_order[@]}"; do
    if [ "${R_EFF[$n]}" != - ]; then
      printf '  %-12s %s\n' "$n" "$(printf '%s' "${rounds_of[$n]}" | awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $9 }')"
    fi
  done
fi
echo
echo "columns: p50/p99 from wrk --latency at saturation (closed loop: $CONNECTIONS connections always busy); errors = socket"
echo "         errors + non-2xx; proxy CPU = CPU time of the proxy's processes over the run (100% = one core; user/system);"
echo "         req/CPU-s = req/s divided by that: requests per second of the proxy's CPU (median of the rounds);"
echo "         CPU busy = each CPU's busy % over the run, whoever ran there; backends = % of backend requests each got;"
echo "         clean = rounds in which others took < 15% of the proxy's CPU; the median is taken from those if any."
if [ -f "$tmp/syscalls.txt" ]; then
  echo
  echo "== system calls per request (perf stat over 5 s of the same load, all the proxy's threads; PROFILE=1)"
  cat "$tmp/syscalls.txt"
fi
if [ "$PROFILE" = 1 ] && [ -f "$tmp/profile.txt" ]; then cat "$tmp/profile.txt"; fi
failed=0
