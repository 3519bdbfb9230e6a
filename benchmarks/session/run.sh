#!/usr/bin/env bash
# benchmarks/session/run.sh: scalestack's SessionFilter against Spring Session (spring-session-data-redis
# in Spring Boot 3.4's default configuration), the same Spring Boot app and endpoints, the same Redis,
# the same wrk load, in one run: Redis commands and round trips per request, p50/p99 and req/s, as
# ratios. See README.md beside this file.
#
#   benchmarks/session/run.sh                      # about 5 minutes after the build
#   ROUNDS=5 DURATION=20s benchmarks/session/run.sh
#   benchmarks/session/run.sh --scenarios read --users 200
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Installs redis-server, redis-tools, wrk and curl from Debian packages
# when missing (root). Traffic goes only to 127.0.0.1; every process it starts is stopped on exit,
# Ctrl-C or failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/session/run.sh
bench=session-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-20s}
ROUNDS=${ROUNDS:-3}
USERS=${USERS:-1000}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-1}
WRITE_PERCENT=${WRITE_PERCENT:-10}
NEAR_CACHE=${NEAR_CACHE:-10000}
SCENARIOS=${SCENARIOS:-read mixed}
PIN=${PIN:-auto}
PORT_BASE=${PORT_BASE:-18300}
JVM_OPTS=${JVM_OPTS:--Xms256m -Xmx256m -XX:+UseSerialGC}
BUILD=${BUILD:-1}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<EOF
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --duration D         one measured wrk run (default $DURATION; s or m suffix)
  --warmup D           a discarded wrk run (mixed load) on each app after it starts (default $WARMUP)
  --rounds N           measured runs per store and scenario, taking the stores in turn; medians of
                       req/s, p50 and p99 are reported, commands are summed over the rounds (default $ROUNDS)
  --users N            users logged in on each app before the load, each with its own cookie;
                       the load rotates through them (default $USERS)
  --connections N      wrk connections: a closed loop of N requests always in flight (default $CONNECTIONS)
  --wrk-threads N      wrk threads (default $WRK_THREADS)
  --write-percent N    share of POST /cart (read the session, set an attribute) in the mixed
                       scenario; the rest is GET /me (default $WRITE_PERCENT)
  --near-cache N       sessions the scalestack app's near cache holds; 0 turns it off, so that
                       every session-using request reads Redis (default $NEAR_CACHE)
  --scenarios "S …"    subset/order of: read (GET /me only) mixed (GET /me and POST /cart)
                       (default "$SCENARIOS")
  --pin auto|on|off    taskset: both apps on CPU 0, Redis and wrk on the others (default $PIN;
                       auto pins when the machine has 2 CPUs or more)
  --port-base P        Spring Session app on P+1, scalestack app on P+2, Redis on P+79, all on
                       127.0.0.1 (default $PORT_BASE)
  --jvm-opts "O"       JVM flags of both apps, identical (default "$JVM_OPTS")
  --no-build           use benchmarks/session/app/target/session-bench-app.jar as it is (BUILD=0)
  --nice N             run Redis, the apps and wrk at this nice value (default ${NICE:-0})
  --no-install         fail instead of apt-get installing missing tools (INSTALL=0)
  --keep               keep the temporary directory (logs, wrk output, MONITOR samples) (KEEP=1)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=${2:?}; shift ;;
    --warmup) WARMUP=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --users) USERS=${2:?}; shift ;;
    --connections) CONNECTIONS=${2:?}; shift ;;
    --wrk-threads) WRK_THREADS=${2:?}; shift ;;
    --write-percent) WRITE_PERCENT=${2:?}; shift ;;
    --near-cache) NEAR_CACHE=${2:?}; shift ;;
    --scenarios) SCENARIOS=${2:?}; shift ;;
    --pin) PIN=${2:?}; shift ;;
    --port-base) PORT_BASE=${2:?}; shift ;;
    --jvm-opts) JVM_OPTS=${2:?}; shift ;;
    --no-build) BUILD=0 ;;
    --nice) NICE=${2:?}; shift ;;
    --no-install) INSTALL=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: '$1' (expected: a flag listed by --help)" ;;
  esac
  shift
done

check_duration DURATION "$DURATION"; check_duration WARMUP "$WARMUP"
check_count ROUNDS "$ROUNDS" 20
check_count USERS "$USERS" 100000
[[ $NEAR_CACHE =~ ^[0-9]+$ ]] && [ "$NEAR_CACHE" -le 10000000 ] || die "NEAR_CACHE: '$NEAR_CACHE' (expected: an integer in 0..10000000)"
check_count CONNECTIONS "$CONNECTIONS" 1000
check_count WRK_THREADS "$WRK_THREADS" 64
check_count PORT_BASE "$PORT_BASE" 65000
[[ $WRITE_PERCENT =~ ^[0-9]+$ ]] && [ "$WRITE_PERCENT" -le 100 ] || die "WRITE_PERCENT: '$WRITE_PERCENT' (expected: an integer in 0..100)"
[ "$WRK_THREADS" -le "$CONNECTIONS" ] || die "WRK_THREADS: $WRK_THREADS (expected: <= CONNECTIONS, $CONNECTIONS)"
NICE=${NICE:-0}
[[ $NICE =~ ^-?[0-9]+$ ]] && [ "$NICE" -ge -20 ] && [ "$NICE" -le 19 ] || die "NICE: '$NICE' (expected: an integer in -20..19)"
case $PIN in auto|on|off) ;; *) die "PIN: '$PIN' (expected: auto, on or off)" ;; esac
case $BUILD in 0|1) ;; *) die "BUILD: '$BUILD' (expected: 0 or 1)" ;; esac
[ -n "$SCENARIOS" ] || die "SCENARIOS: empty (expected: read, mixed or both)"
for s in $SCENARIOS; do
  case $s in read|mixed) ;; *) die "SCENARIOS: '$s' (expected: read or mixed)" ;; esac
done
duration_s=$(seconds_of "$DURATION")
warmup_s=$(seconds_of "$WARMUP")
STORES=(spring-session scalestack)

bench_init
pin_cpus 1 "$PIN" # proxy_cpus: the apps (CPU 0); load_cpus: Redis and wrk (the rest)
port_app_spring=$((PORT_BASE + 1)) port_app_scalestack=$((PORT_BASE + 2)) port_redis=$((PORT_BASE + 79))
declare -A port_of=([spring-session]=$port_app_spring [scalestack]=$port_app_scalestack)

ensure_tools redis-server=redis-server redis-cli=redis-tools wrk=wrk curl=curl
ports_free "$port_app_spring" "$port_app_scalestack" "$port_redis"

java_bin=${JAVA_HOME:+$JAVA_HOME/bin/java}
if [ -z "$java_bin" ] || [ ! -x "$java_bin" ]; then java_bin=$(command -v java || true); fi
[ -n "$java_bin" ] || die "java: not found (expected: a JDK 21+ on PATH or in JAVA_HOME)"
java_major=$("$java_bin" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
[ "$java_major" -ge 21 ] || die "java: $java_bin is older than 21 (expected: JAVA_HOME pointing at a JDK 21+)"
# JDK 23+ warns about sun.misc.Unsafe memory access, which Netty (Lettuce, both stores) uses
unsafe_flag=""; [ "$java_major" -ge 23 ] && unsafe_flag="--sun-misc-unsafe-memory-access=allow"

# ---------------------------------------------------------------------------------------------
# Build: the session module and the app in one reactor (benchmarks/session/pom.xml aggregates the
# project and the app), so the app takes scalestack-session from the reactor; nothing is installed
# into ~/.m2 or any other Maven repository.
jar=$here/app/target/session-bench-app.jar
if [ "$BUILD" = 1 ]; then
  say "building the session module and the benchmark app (./mvnw -f benchmarks/session/pom.xml package -pl :scalestack-session-bench-app -am, tests skipped) …"
  export JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$java_bin")")")}
  # From scratch: Spring Boot's repackage, given the jar it repackaged last time (the jar plugin
  # leaves an up-to-date jar alone), keeps that jar's nested scalestack-session rather than the
  # one just built, so a changed session module would go unmeasured.
  rm -rf "$here/app/target"
  (cd "$root" && timeout --foreground -k 10 "$BUILD_TIMEOUT" ./mvnw -B -ntp -DskipTests -f benchmarks/session/pom.xml \
    package -pl :scalestack-session-bench-app -am) >"$tmp/build.log" 2>&1 \
    || { grep -E '\[ERROR\]' "$tmp/build.log" | head -40 >&2; die "build failed (full output in $tmp/build.log)"; }
fi
[ -f "$jar" ] || die "app: $jar missing (expected: built; run without --no-build)"

# ---------------------------------------------------------------------------------------------
# Redis: one server for both apps, in memory only
say "starting Redis on 127.0.0.1:$port_redis …"
rcli() { redis-cli -h 127.0.0.1 -p "$port_redis" "$@"; }
start redis "$load_cpus" redis-server --bind 127.0.0.1 --port "$port_redis" --save '' --appendonly no \
  --protected-mode yes --daemonize no --logfile ''
for _ in $(seq 1 100); do [ "$(rcli ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(rcli ping 2>/dev/null)" = PONG ] || fail_with_log redis "redis: no PONG on 127.0.0.1:$port_redis within 10 s"
redis_version=$(rcli info server | awk -F: '/^redis_version:/ { sub(/\r/, "", $2); print $2 }')

# ---------------------------------------------------------------------------------------------
# The apps: the same jar, JVM flags and CPUs; only --store differs
for store in "${STORES[@]}"; do
  say "starting the app with --store=$store on 127.0.0.1:${port_of[$store]} …"
  # shellcheck disable=SC2086 # JVM_OPTS is a list of flags
  start "$store" "$proxy_cpus" "$java_bin" $JVM_OPTS $unsafe_flag -jar "$jar" --store="$store" \
    --server.port="${port_of[$store]}" --redis-uri="redis://127.0.0.1:$port_redis" --near-cache-sessions="$NEAR_CACHE"
done
for store in "${STORES[@]}"; do wait_for "$store" "http://127.0.0.1:${port_of[$store]}/public" 180; done
declare -A layer_of
for store in "${STORES[@]}"; do
  for _ in $(seq 1 50); do grep -q 'session layer:' "$tmp/$store.out" && break; sleep 0.1; done
  layer_of[$store]=$(sed -n 's/.*session layer: //p' "$tmp/$store.out" | head -1)
done

# ---------------------------------------------------------------------------------------------
# Logins: USERS users per app (POST /login?user=userN), one curl for all, keeping each SESSION cookie
login_users() { # STORE -> $tmp/cookies.STORE, one "SESSION=…" per line
  local store=$1 port=${port_of[$1]} cfg=$tmp/login.$1.curl n i
  for i in $(seq 1 "$USERS"); do
    printf 'url = "http://127.0.0.1:%s/login?user=user%s"\noutput = "/dev/null"\n' "$port" "$i"
  done >"$cfg"
  curl -s -X POST --max-time 600 -K "$cfg" -D "$tmp/login.$store.headers" || die "$store: logins failed (curl)"
  # one cookie per response: the last SESSION Set-Cookie of each
  awk '/^HTTP\// { if (c != "") print c; c = "" }
       tolower($1) == "set-cookie:" && $2 ~ /^SESSION=/ { c = $2; sub(/;.*/, "", c) }
       END { if (c != "") print c }' "$tmp/login.$store.headers" | tr -d '\r' >"$tmp/cookies.$store"
  n=$(wc -l <"$tmp/cookies.$store")
  [ "$n" = "$USERS" ] || die "$store: $n session cookies from $USERS logins (expected one each; headers in $tmp/login.$store.headers)"
  [ "$(curl -s --max-time 5 -H "Cookie: $(head -1 "$tmp/cookies.$store")" "http://127.0.0.1:$port/me")" = user1 ] \
    || die "$store: GET /me with user1's cookie did not answer 'user1'"
  [ "$(http_code "http://127.0.0.1:$port/me")" = 401 ] || die "$store: GET /me without a cookie did not answer 401"
}
for store in "${STORES[@]}"; do
  say "$store: logging in $USERS users …"
  login_users "$store"
done
keys_spring=$(rcli --scan --pattern 'spring:session:*' | wc -l)
keys_scalestack=$(rcli --scan --pattern 'scalestack:session:*' | wc -l)

# ---------------------------------------------------------------------------------------------
# The load: wrk with a Lua script rotating through the users' cookies. Scenario read: GET /me only;
# mixed: WRITE_PERCENT of every 100 requests are POST /cart?item=N (read the session, set "cart").
cat >"$tmp/session.lua" <<'EOF'
-- args: cookie file, write percent. Every wrk thread starts at another user.
local cookies, n, k, writes = {}, 0, 0, 0
function init(args)
  for line in io.lines(args[1]) do n = n + 1; cookies[n] = line end
  writes = tonumber(args[2])
  k = (id or 0) * 7919
end
function setup(thread)
  thread:set("id", (setup_count or 0)); setup_count = (setup_count or 0) + 1
end
function request()
  k = k + 1
  local headers = { ["Cookie"] = cookies[k % n + 1] }
  if writes > 0 and k % 100 < writes then
    return wrk.format("POST", "/cart?item=" .. k, headers)
  end
  return wrk.format("GET", "/me", headers)
end
EOF

write_percent_of() { [ "$1" = mixed ] && echo "$WRITE_PERCENT" || echo 0; }

# wrk_lua STORE SCENARIO SECONDS OUTFILE CONNECTIONS: the rotating-cookie load on one app (../lib.sh's wrk_run)
wrk_lua() {
  local store=$1 scenario=$2 secs=$3 out=$4 conns=$5 threads=$WRK_THREADS
  [ "$threads" -le "$conns" ] || threads=$conns
  wrk_run "http://127.0.0.1:${port_of[$store]}" "$secs" "$out" "$conns" "$threads" "$load_cpus" \
    -s "$tmp/session.lua" -- "$tmp/cookies.$store" "$(write_percent_of "$scenario")"
}

# Redis's own count of calls per command (INFO commandstats: cmdstat_NAME:calls=N,…), "NAME N" lines
command_calls() { rcli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1 \2/p' | sort; }
calls_delta() { # BEFORE AFTER -> "NAME N" for each command whose count changed, our own INFO left out
  awk 'NR == FNR { b[$1] = $2; next } $1 != "info" && $2 - b[$1] > 0 { print $1, $2 - b[$1] }' "$1" "$2"
}

# ---------------------------------------------------------------------------------------------
# Which commands each app sends itself and which run inside its Lua scripts: INFO commandstats counts
# both under their own names. A short sample under MONITOR (its lines say "[db lua]" for a script's
# commands, "[db host:port]" for a client's) tells them apart, per store and scenario; the measured
# runs then count as round trips every command except those seen only inside scripts.
audit() { # STORE SCENARIO
  local store=$1 scenario=$2 f=$tmp/monitor.$1.$2 out=$tmp/wrk-audit.$1.$2 req
  start "monitor-$store-$scenario" "$load_cpus" redis-cli -h 127.0.0.1 -p "$port_redis" monitor
  sleep 0.5
  wrk_lua "$store" "$scenario" 2 "$out" 2
  sleep 0.3
  stop "monitor-$store-$scenario"
  mv "$tmp/monitor-$store-$scenario.out" "$f"
  req=$(parse_wrk "$out" | awk '{ print $4 }')
  # "NAME client|lua COUNT"
  awk '$2 ~ /^\[/ { src = ($3 == "lua]") ? "lua" : "client"; name = tolower($4); gsub(/"/, "", name); n[name " " src]++ }
       END { for (k in n) print k, n[k] }' "$f" | sort >"$f.counts"
  audit_req[$store.$scenario]=$req
  audit_client[$store.$scenario]=$(awk -v r="$req" '$2 == "client" { s += $3 } END { printf "%.2f", s / r }' "$f.counts")
  audit_lua[$store.$scenario]=$(awk -v r="$req" '$2 == "lua" { s += $3 } END { printf "%.2f", s / r }' "$f.counts")
  audit_detail[$store.$scenario]=$(awk -v r="$req" '{ printf "%s%s %s %.2f", (NR > 1 ? ", " : ""), $1, ($2 == "lua" ? "(in script)" : "(sent)"), $3 / r }' "$f.counts")
  # commands seen only inside scripts, space-separated
  script_only[$store.$scenario]=$(awk '{ seen[$1] = seen[$1] " " $2 } END { for (c in seen) if (seen[c] !~ /client/) printf "%s ", c }' "$f.counts")
}
declare -A audit_req audit_client audit_lua audit_detail script_only

# ---------------------------------------------------------------------------------------------
# Warm-up, audit, then the measured rounds (the stores in turn within each round)
for store in "${STORES[@]}"; do
  say "$store: warming up (${warmup_s}s, mixed load) …"
  wrk_lua "$store" mixed "$warmup_s" "$tmp/wrk-warmup.$store" "$CONNECTIONS"
done
for scenario in $SCENARIOS; do
  for store in "${STORES[@]}"; do
    say "$store/$scenario: sampling commands under MONITOR (2 s, 2 connections) …"
    audit "$store" "$scenario"
  done
done

declare -A rounds_of # store.scenario -> lines "rps p50 p99 requests errors commands roundtrips"
for scenario in $SCENARIOS; do
  for round in $(seq 1 "$ROUNDS"); do
    for store in "${STORES[@]}"; do
      say "$store/$scenario: round $round/$ROUNDS (${duration_s}s, $CONNECTIONS connections) …"
      b=$tmp/calls.$store.$scenario.$round.before a=$tmp/calls.$store.$scenario.$round.after
      command_calls >"$b"
      wrk_lua "$store" "$scenario" "$duration_s" "$tmp/wrk.$store.$scenario.$round" "$CONNECTIONS"
      command_calls >"$a"
      calls_delta "$b" "$a" >"$tmp/calls.$store.$scenario.$round"
      read -r rps p50 p99 req err < <(parse_wrk "$tmp/wrk.$store.$scenario.$round")
      cmds=$(awk '{ s += $2 } END { print s + 0 }' "$tmp/calls.$store.$scenario.$round")
      trips=$(awk -v only=" ${script_only[$store.$scenario]} " 'index(only, " " $1 " ") == 0 { s += $2 } END { print s + 0 }' "$tmp/calls.$store.$scenario.$round")
      rounds_of[$store.$scenario]+="$rps $p50 $p99 $req $err $cmds $trips"$'\n'
    done
  done
done

# ---------------------------------------------------------------------------------------------
# Report
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { printf '%s' "${rounds_of[$1]}" | awk -v c="$2" 'NF { print $c }'; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
declare -A R_RPS R_P50 R_P99 R_ERR R_CPR R_TPR R_REQ
for scenario in $SCENARIOS; do
  for store in "${STORES[@]}"; do
    k=$store.$scenario
    R_RPS[$k]=$(col "$k" 1 | median); R_P50[$k]=$(col "$k" 2 | median); R_P99[$k]=$(col "$k" 3 | median)
    R_REQ[$k]=$(col "$k" 4 | sum); R_ERR[$k]=$(col "$k" 5 | sum)
    R_CPR[$k]=$(awk -v c="$(col "$k" 6 | sum)" -v r="${R_REQ[$k]}" 'BEGIN { printf "%.3f", c / r }')
    R_TPR[$k]=$(awk -v c="$(col "$k" 7 | sum)" -v r="${R_REQ[$k]}" 'BEGIN { printf "%.3f", c / r }')
  done
done

spring_session_jar=$(unzip -l "$jar" 2>/dev/null | sed -n 's|.*BOOT-INF/lib/\(spring-session-data-redis-[^/]*\)\.jar|\1|p' | head -1)
spring_boot_jar=$(unzip -l "$jar" 2>/dev/null | sed -n 's|.*BOOT-INF/lib/\(spring-boot-[0-9][^/]*\)\.jar|\1|p' | head -1)
echo
echo "== scalestack SessionFilter vs Spring Session on Redis — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:  $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: Redis $redis_version; ${spring_boot_jar:-spring-boot ?}; ${spring_session_jar:-spring-session-data-redis ?}; $("$java_bin" -version 2>&1 | head -1); $(wrk -v 2>&1 | head -1 | awk '{ print "wrk " $2 }'); scalestack commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "$proxy_cpus" ]; then pinning="both apps on CPU ${proxy_cpus/#0-0/0}, Redis and wrk on CPU ${load_cpus/#1-1/1}"; else pinning="no pinning"; fi
echo "apps:     one jar, JVM flags '$JVM_OPTS', Tomcat defaults; $pinning$([ "$NICE" = 0 ] || echo "; Redis, apps and wrk at nice $NICE")"
for store in "${STORES[@]}"; do echo "          $store: ${layer_of[$store]:-?}"; done
echo "load:     $USERS users logged in per app (Redis keys: spring:session:* $keys_spring, scalestack:session:* $keys_scalestack),"
echo "          each request with the next user's cookie; wrk -t $WRK_THREADS -c $CONNECTIONS -d ${duration_s}s --latency, $ROUNDS round(s)"
echo "          per store and scenario, stores in turn; each app warmed up ${warmup_s}s first (discarded)"
echo "          scalestack near cache: $([ "$NEAR_CACHE" = 0 ] && echo "off" || echo "$NEAR_CACHE sessions (reads served from a copy that Redis invalidates)")"
echo "          read = GET /me only; mixed = $WRITE_PERCENT% POST /cart?item=N (sets an attribute), the rest GET /me"
echo
printf '%-9s %-15s %9s %8s %8s %7s %10s %12s\n' scenario store req/s p50/ms p99/ms errors cmds/req "round trips/req"
goal_all=1
for scenario in $SCENARIOS; do
  s=spring-session.$scenario c=scalestack.$scenario
  for store in "${STORES[@]}"; do
    k=$store.$scenario
    printf '%-9s %-15s %9.0f %8.2f %8.2f %7s %10s %12s\n' "$scenario" "$store" "${R_RPS[$k]}" "${R_P50[$k]}" "${R_P99[$k]}" "${R_ERR[$k]}" "${R_CPR[$k]}" "${R_TPR[$k]}"
  done
  printf '%-9s %-15s %9s %8s %8s %7s %10s %12s\n' "$scenario" "ratio sc/ss" "$(ratio "${R_RPS[$c]}" "${R_RPS[$s]}")" "$(ratio "${R_P50[$c]}" "${R_P50[$s]}")" \
    "$(ratio "${R_P99[$c]}" "${R_P99[$s]}")" "" "$(ratio "${R_CPR[$c]}" "${R_CPR[$s]}")" "$(ratio "${R_TPR[$c]}" "${R_TPR[$s]}")"
done
echo
echo "goal (issue 4): at most a third of Spring Session's Redis commands per request, and a p99 no higher"
for scenario in $SCENARIOS; do
  s=spring-session.$scenario c=scalestack.$scenario
  # ratios compared as printed (2 decimals): requests in flight at the edges of a window move the
  # third decimal
  cmd_ok=$(awk -v a="$(ratio "${R_CPR[$c]}" "${R_CPR[$s]}")" 'BEGIN { print (a <= 0.33) ? "met" : "NOT met" }')
  trip_ok=$(awk -v a="$(ratio "${R_TPR[$c]}" "${R_TPR[$s]}")" 'BEGIN { print (a <= 0.33) ? "met" : "NOT met" }')
  p99_ok=$(awk -v a="${R_P99[$c]}" -v b="${R_P99[$s]}" 'BEGIN { print (a <= b) ? "met" : "NOT met" }')
  [ "$cmd_ok" = met ] && [ "$p99_ok" = met ] || goal_all=0
  echo "  $scenario: commands/request (all, scripts' included) $(ratio "${R_CPR[$c]}" "${R_CPR[$s]}") -> $cmd_ok; round trips/request $(ratio "${R_TPR[$c]}" "${R_TPR[$s]}") -> $trip_ok; p99 $(ratio "${R_P99[$c]}" "${R_P99[$s]}") -> $p99_ok"
done
echo "  overall: $([ "$goal_all" = 1 ] && echo "MET" || echo "NOT MET") (commands counted with the scripts' inner commands, the strict reading)"
echo
echo "commands per request, from a 2 s sample of each scenario under Redis MONITOR (2 connections; sent = round trip):"
for scenario in $SCENARIOS; do
  for store in "${STORES[@]}"; do
    k=$store.$scenario
    printf '  %-6s %-15s sent %s, in scripts %s: %s\n' "$scenario" "$store" "${audit_client[$k]}" "${audit_lua[$k]}" "${audit_detail[$k]}"
  done
done
echo "all rounds (req/s, p99 ms, commands/request):"
for scenario in $SCENARIOS; do
  for store in "${STORES[@]}"; do
    printf '  %-6s %-15s %s\n' "$scenario" "$store" "$(printf '%s' "${rounds_of[$store.$scenario]}" | awk 'NF { printf "%s%.0f/%.2f/%.3f", (n++ ? ", " : ""), $1, $3, $6 / $4 }')"
  done
done
echo
echo "columns: req/s, p50, p99: medians over the rounds of wrk --latency at saturation (closed loop, $CONNECTIONS connections);"
echo "         errors: socket errors + non-2xx (a 401 would mean a lost session), summed; cmds/req: Redis INFO"
echo "         commandstats calls of every command around each run (our INFO left out), summed over the rounds,"
echo "         over wrk's requests; commands a Lua script runs count under their own names, so EVALSHA and its"
echo "         HGETALL are 2; round trips/req: the same without the commands seen only inside scripts in the"
echo "         MONITOR sample (${script_only[scalestack.${SCENARIOS%% *}]:-none}for scalestack): the commands the app sent."
echo "         ratio sc/ss: scalestack / Spring Session (latency and commands: below 1 is better)."
failed=0
