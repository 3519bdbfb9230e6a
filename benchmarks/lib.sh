# benchmarks/lib.sh: shell functions shared by the benchmark scripts (sourced, not run).
#
# The sourcing script sets `me` (its path, for messages) and `bench` (a short name: the prefix
# of its progress lines and of its temporary directory), and may set NICE (default 0), KEEP
# (default 0) and INSTALL (default 1) before calling bench_init. Every service it starts with
# `start` runs in a session and process group of its own and is stopped on exit, on failure and
# on Ctrl-C; the temporary directory is removed unless the run failed or KEEP=1.

die() { echo "$me: $*" >&2; exit 2; }
say() { echo "$bench: $*" >&2; }

# bench_init: the temporary directory ($tmp) and the traps that clean up. Sets failed=1 until the
# script sets failed=0 at its very end.
bench_init() {
  NICE=${NICE:-0} KEEP=${KEEP:-0} INSTALL=${INSTALL:-1}
  tmp=$(mktemp -d "/tmp/$bench.XXXXXX")
  chmod 755 "$tmp"   # nginx workers run as nobody when started by root
  declare -gA pid_of # service name -> pid
  groups=()          # process-group ids (each service is started with setsid: pgid == pid)
  made_policy=0      # whether we created /usr/sbin/policy-rc.d (removed again on exit)
  failed=1
  trap bench_cleanup EXIT
  trap 'say "interrupted"; exit 130' INT
  trap 'say "terminated"; exit 143' TERM
}

stop_group() { # PGID: TERM, then KILL after 5 s
  local pgid=$1 i
  kill -0 -- "-$pgid" 2>/dev/null || return 0
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 -- "-$pgid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}

bench_cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#groups[@]} - 1; i >= 0; i--)); do stop_group "${groups[$i]}"; done
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ "$KEEP" = 1 ] || [ "$failed" = 1 ]; then
    say "kept $tmp (configs, logs, wrk output)"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}

# start NAME CPUS CMD…: a service in its own session and process group, pinned to CPUS (if any),
# its output in $tmp/NAME.out. Sets $started to its pid (== pgid).
start() {
  local name=$1 cpus=$2; shift 2
  if [ -n "$cpus" ]; then
    setsid nice -n "$NICE" taskset -c "$cpus" "$@" >"$tmp/$name.out" 2>&1 </dev/null &
  else
    setsid nice -n "$NICE" "$@" >"$tmp/$name.out" 2>&1 </dev/null &
  fi
  started=$!
  groups+=("$started")
  pid_of[$name]=$started
  own_session "$started" || fail_with_log "$name" "$name: exited at once"
  prioritize "$started"
}

# stop NAME: stops a service started with `start` and forgets it.
stop() {
  local pgid=${pid_of[$1]:-}
  [ -n "$pgid" ] || return 0
  stop_group "$pgid"
  forget "$pgid"
  unset "pid_of[$1]"
}

# own_session PID: wait until PID leads its own session and process group. setsid execs (this
# script's children are never group leaders), so the pid becomes the new group's id once setsid
# has run; a moment may pass before it has. Fails if PID has exited.
own_session() {
  local pgid i
  for i in $(seq 1 100); do
    pgid=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f3)
    [ -n "$pgid" ] || return 1
    [ "$pgid" != "$1" ] || return 0
    sleep 0.02
  done
  die "internal: pid $1: process group $pgid, expected $1 (setsid forked?)"
}

forget() { # PGID: no longer ours to stop (it has ended, or was stopped)
  local i keep=()
  for i in "${groups[@]}"; do [ "$i" = "$1" ] || keep+=("$i"); done
  groups=("${keep[@]}")
}

# With Linux CFS autogroups (kernel.sched_autogroup_enabled=1) a nice value orders a process only
# within its own session, and every service here is a session of its own (setsid): so NICE is
# given to the session's autogroup too, or it would change nothing against other sessions' work.
prioritize() { # PID
  [ "$NICE" != 0 ] || return 0
  [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f4)" = "$1" ] || return 0
  if [ -w "/proc/$1/autogroup" ]; then echo "$NICE" >"/proc/$1/autogroup" 2>/dev/null || true; fi
}

fail_with_log() { # NAME MESSAGE
  echo "$me: $2" >&2
  if [ -f "$tmp/$1.out" ]; then echo "--- last lines of $tmp/$1.out:" >&2; tail -20 "$tmp/$1.out" >&2; fi
  exit 1
}

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true; }

wait_for() { # NAME URL SECONDS: until URL answers 200, or fail
  local name=$1 url=$2 deadline=$((SECONDS + $3))
  while [ "$(http_code "$url")" != 200 ]; do
    if [ -n "${pid_of[$name]:-}" ] && ! kill -0 "${pid_of[$name]}" 2>/dev/null; then fail_with_log "$name" "$name: exited before answering $url"; fi
    [ "$SECONDS" -lt "$deadline" ] || fail_with_log "$name" "$name: $url did not answer 200 within $3 s"
    sleep 0.2
  done
}

# ensure_tools COMMAND=PACKAGE…: installs the Debian package of each missing command (root, apt-get),
# without letting the packages start their system services.
ensure_tools() {
  local pair need=() p
  for pair in "$@"; do command -v "${pair%%=*}" >/dev/null || need+=("${pair#*=}"); done
  [ ${#need[@]} -gt 0 ] || return 0
  if [ "$INSTALL" != 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing: ${need[*]} (expected: installed, or run as root on Debian/Ubuntu with INSTALL=1)"
  fi
  say "installing ${need[*]} (apt-get update, then apt-get install) …"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # the packages' postinst would start the system nginx/haproxy on port 80; 101 = "not allowed"
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get update -qq >"$tmp/apt.log" 2>&1 || { tail -5 "$tmp/apt.log" >&2; die "apt-get update failed (log above)"; }
  for p in "${need[@]}"; do
    [ "$p" = nginx-light ] && ! apt-cache show nginx-light >/dev/null 2>&1 && p=nginx
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >>"$tmp/apt.log" 2>&1 \
      || { tail -5 "$tmp/apt.log" >&2; die "apt-get install $p failed (log above)"; }
  done
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; made_policy=0; fi
}

# nginx configuration pieces: everything private to a directory
nginx_paths() { # DIR
  cat <<EOF
pid $1/nginx.pid;
error_log $1/error.log warn;
EOF
}
nginx_http_paths() { # DIR
  local m
  for m in client_body proxy fastcgi uwsgi scgi; do
    # nginx -V lists --without-http_X_module for modules compiled out; their directive would not parse
    if [ "$m" = client_body ] || [ "$m" = proxy ] || ! nginx -V 2>&1 | grep -q "without-http_${m}_module"; then
      echo "  ${m}_temp_path $1/${m}_temp;"
    fi
  done
}
run_nginx() { # NAME CPUS DIR: start nginx on DIR/nginx.conf in the foreground of its own group
  local name=$1 cpus=$2 dir=$3
  nginx -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$tmp/$name.out" 2>&1 || fail_with_log "$name" "$name: nginx -t rejected $dir/nginx.conf"
  start "$name" "$cpus" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;'
}

# Validation of settings: one line naming the setting, its value and what was expected.
seconds_of() { # 10s | 2m | 10 -> seconds
  case $1 in
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}
check_duration() { [[ $2 =~ ^[1-9][0-9]*[sm]?$ ]] || die "$1: '$2' (expected: a positive duration like 10s or 1m)"; }
check_count() { [[ $2 =~ ^[1-9][0-9]*$ ]] && [ "$2" -le "$3" ] || die "$1: '$2' (expected: an integer in 1..$3)"; }

# wrk_run URL SECONDS OUTFILE CONNECTIONS THREADS [CPUS [WRK_ARGS...]]: one bounded wrk run with
# --latency, in a session of its own like the services (so NICE reaches it), stopped by the trap
# on Ctrl-C. WRK_ARGS go before the URL (-s script.lua); after a `--` among them, the rest goes
# after the URL, to the script.
wrk_run() {
  local url=$1 secs=$2 out=$3 conns=$4 threads=$5 cpus=${6:-} cmd wpid rc=0 opts=() script_args=()
  shift 6 2>/dev/null || shift $#
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; script_args=(-- "$@"); break; fi
    opts+=("$1"); shift
  done
  cmd=(timeout --foreground -k 5 $((secs + 30)) nice -n "$NICE" wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 5s --latency
    "${opts[@]}" "$url" "${script_args[@]}")
  [ -n "$cpus" ] && cmd=(taskset -c "$cpus" "${cmd[@]}")
  setsid "${cmd[@]}" >"$out" 2>&1 </dev/null &
  wpid=$!
  groups+=("$wpid")
  if own_session "$wpid"; then prioritize "$wpid"; fi
  wait "$wpid" || rc=$?
  forget "$wpid"
  [ "$rc" = 0 ] || { cat "$out" >&2; die "wrk failed against $url (exit $rc, output above)"; }
}

to_ms() { # wrk's 1.23ms / 456.78us / 1.20s / 1.00m -> ms
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
    if (f < 0) print "?"; else printf "%.3f", n * f }'
}

parse_wrk() { # OUTFILE -> "rps p50ms p99ms requests errors"
  local f=$1 rps p50 p99 req err
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")
  req=$(awk '/requests in/ { print $1 }' "$f")
  # socket errors (connect, read, write, timeout) plus non-2xx/3xx answers
  err=$(awk '/Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 } /Non-2xx or 3xx responses:/ { e += $5 } END { print e + 0 }' "$f")
  [ -n "$rps" ] && [ -n "$req" ] || { cat "$f" >&2; die "could not parse wrk output $f (shown above)"; }
  echo "$rps $p50 $p99 $req $err"
}

# pin_cpus PROXY_THREADS PIN: sets proxy_cpus (0..N-1) and load_cpus (the rest) when the machine has
# more CPUs than proxy threads and PIN is not off; both empty otherwise
pin_cpus() {
  local n=$1 pin=$2 ncpu
  ncpu=$(nproc)
  proxy_cpus="" load_cpus=""
  if [ "$pin" != off ] && [ "$ncpu" -gt "$n" ]; then
    proxy_cpus="0-$((n - 1))"
    load_cpus="$n-$((ncpu - 1))"
  elif [ "$pin" = on ]; then
    die "PIN: on (expected: more CPUs than PROXY_THREADS; this machine has $ncpu, PROXY_THREADS is $n)"
  fi
}

# build_scalestack LAUNCHER TIMEOUT: builds the project if needed (the launcher does), keeping
# `lb --help` in $tmp/lb-help.txt
build_scalestack() {
  say "building scalestack if needed ($1 lb --help) …"
  timeout --foreground -k 10 "$2" "$1" lb --help >"$tmp/lb-help.txt" 2>"$tmp/lb-build.err" \
    || { cat "$tmp/lb-build.err" >&2; die "scalestack: '$1 lb --help' failed (build or start-up, output above)"; }
}

# port_free PORT…: fail unless every port is free on this machine
ports_free() {
  local p
  for p in "$@"; do
    if ss -Hltn "sport = :$p" | grep -q .; then die "PORT_BASE: $PORT_BASE (expected: port $p free on 127.0.0.1; choose another --port-base)"; fi
  done
}

# find_java21: sets java_bin to a JDK 21+ java ($JAVA_HOME, the PATH's, then /usr/lib/jvm/*), for the
# single-file Java load drivers, or fails
find_java21() {
  local candidate version
  java_bin=""
  for candidate in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java || echo /nonexistent)")")")" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    version=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
    if [ "${version:-0}" -ge 21 ]; then java_bin=$candidate/bin/java; return 0; fi
  done
  die "no JDK 21 or newer found (set JAVA_HOME)"
}

# field KEY < lines: the VALUE of each " KEY=VALUE" (results lines of the load drivers)
field() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p"; }

# percentile P < numbers: the nearest-rank P-th percentile ("-" for none)
percentile() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'; }
