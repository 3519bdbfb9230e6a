#!/usr/bin/env bash
# benchmarks/imaging/run.sh: single-threaded Gaussian blur and sharpen of one 12-megapixel RGB
# image (4000x3000, gradients, rings and noise), scalestack's imaging module (`scalestack image
# … --repeat N`, the operation's own time, median of the runs after the first) against libvips
# (`vips gaussblur` / `vips sharpen` on its native .v format, VIPS_CONCURRENCY=1, median wall time
# of several runs minus that of `vips copy`, i.e. vips' start-up, load and save). Then how close
# the two blurs are. See README.md beside this file.
#
#   benchmarks/imaging/run.sh                 # about a minute after the build
#   RUNS=9 benchmarks/imaging/run.sh --cpu 0
#
# Every setting is an environment variable and a flag (flags win); --help lists them.
# Not part of ./mvnw verify. Installs libvips-tools (Debian) when `vips` is missing and we are root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
me=benchmarks/imaging/run.sh
bench=imaging-bench
# shellcheck source=../lib.sh
. "$root/benchmarks/lib.sh"

RUNS=${RUNS:-5}
REPEAT=${REPEAT:-7}
SIGMA=${SIGMA:-2}
AMOUNT=${AMOUNT:-1}
WIDTH=${WIDTH:-4000}
HEIGHT=${HEIGHT:-3000}
CPU=${CPU:-$(( $(nproc) - 1 ))}
SCALESTACK=${SCALESTACK:-$root/scalestack}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}

usage() {
  cat <<USAGE
usage: $me [flags]       (each flag also reads the environment variable in capitals)
  --runs N         vips runs per command, the median counts (default $RUNS)
  --repeat N       scalestack repetitions in one JVM; the median of all but the first counts (default $REPEAT)
  --sigma S        Gaussian sigma in pixels (default $SIGMA)
  --amount A       sharpen amount of scalestack's unsharp mask (default $AMOUNT)
  --width W        test image width (default $WIDTH)
  --height H       test image height (default $HEIGHT)
  --cpu N          the one CPU both tools are pinned to (taskset), "" for none (default $CPU)
  --keep           keep the temporary directory (images, outputs)
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --sigma) SIGMA=$2; shift 2 ;;
    --amount) AMOUNT=$2; shift 2 ;;
    --width) WIDTH=$2; shift 2 ;;
    --height) HEIGHT=$2; shift 2 ;;
    --cpu) CPU=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown flag: $1" ;;
  esac
done
check_count --runs "$RUNS" 100
check_count --repeat "$REPEAT" 1000
[ "$REPEAT" -ge 2 ] || die "--repeat: $REPEAT (expected: 2..1000; the first run warms the JIT up and does not count)"
check_count --width "$WIDTH" 20000
check_count --height "$HEIGHT" 20000
[[ $SIGMA =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v s="$SIGMA" 'BEGIN { exit !(s > 0 && s <= 100) }' || die "--sigma: '$SIGMA' (expected: a number in (0, 100])"
[[ $AMOUNT =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--amount: '$AMOUNT' (expected: a number in [0, 100])"
if [ -n "$CPU" ]; then
  [[ $CPU =~ ^[0-9]+$ ]] && [ "$CPU" -lt "$(nproc)" ] || die "--cpu: '$CPU' (expected: 0..$(( $(nproc) - 1 )) or \"\")"
fi

bench_init
if ! command -v vips >/dev/null && [ "$INSTALL" = 1 ] && [ "$(id -u)" = 0 ]; then
  # is there a package to install at all? (an empty cache says "Candidate: (none)" until an update)
  if ! apt-cache policy libvips-tools 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    say "apt-cache policy libvips-tools: no candidate yet; ensure_tools runs apt-get update first"
  fi
fi
ensure_tools vips=libvips-tools
find_java21
build_scalestack "$SCALESTACK" "$BUILD_TIMEOUT"

pin=()
[ -n "$CPU" ] && pin=(taskset -c "$CPU")
megapixels=$(awk -v w="$WIDTH" -v h="$HEIGHT" 'BEGIN { printf "%.2f", w * h / 1e6 }')
# radius ceil(3 sigma), as scalestack's kernel; vips stops where exp(-x²/2σ²) < min_ampl:
# exp(-4.5) = 0.011109 keeps x = 3σ (for integer 3σ) and drops the next
radius=$(awk -v s="$SIGMA" 'BEGIN { r = 3 * s; printf "%d", (r == int(r)) ? r : int(r) + 1 }')
min_ampl=$(awk -v r="$radius" -v s="$SIGMA" 'BEGIN { printf "%.6f", exp(-r * r / (2 * s * s)) * 0.999 }')

say "vips $(vips --version | head -1); scalestack via $SCALESTACK; pinned to CPU ${CPU:-none}; load $(cut -d' ' -f1-3 /proc/loadavg)"
say "test image ${WIDTH}x${HEIGHT} ($megapixels MP) …"
"$java_bin" "$here/ImagingBench.java" generate "$WIDTH" "$HEIGHT" "$tmp/in.ppm"
vips copy "$tmp/in.ppm" "$tmp/in.v"
vips pngsave "$tmp/in.v" "$tmp/in.png" --compression 1
rm -f "$tmp/in.ppm"

# scalestack_op NAME ARGS…: the median of repetitions 2..REPEAT, in ms
scalestack_op() {
  local name=$1; shift
  "${pin[@]}" "$SCALESTACK" image "$name" "$@" --repeat "$REPEAT" "$tmp/in.png" "$tmp/ss-$name.png" >"$tmp/ss-$name.out" 2>&1 \
    || { cat "$tmp/ss-$name.out" >&2; die "scalestack image $name failed (output above)"; }
  sed -n "s|^$name \([0-9]*\)/[0-9]*: \([0-9.]*\) ms$|\1 \2|p" "$tmp/ss-$name.out" | awk '$1 > 1 { print $2 }' | tee "$tmp/ss-$name.ms" | percentile 50
}

# vips_median ARGS…: the median wall time of RUNS runs of `vips ARGS…`, in ms
vips_median() {
  local i t
  for i in $(seq 1 "$RUNS"); do
    t=$( { TIMEFORMAT=%R; time VIPS_CONCURRENCY=1 "${pin[@]}" vips "$@" >/dev/null 2>"$tmp/vips.err"; } 2>&1 ) \
      || { cat "$tmp/vips.err" >&2; die "vips $* failed"; }
    awk -v t="$t" 'BEGIN { printf "%.1f\n", t * 1000 }'
  done | percentile 50
}

say "scalestack blur and sharpen, $REPEAT repetitions each …"
ss_blur=$(scalestack_op blur --sigma "$SIGMA")
ss_sharpen=$(scalestack_op sharpen --sigma "$SIGMA" --amount "$AMOUNT")
say "scalestack blur runs (ms): $(tr '\n' ' ' <"$tmp/ss-blur.ms")"
say "scalestack sharpen runs (ms): $(tr '\n' ' ' <"$tmp/ss-sharpen.ms")"

say "vips, $RUNS runs each …"
vips_copy=$(vips_median copy "$tmp/in.v" "$tmp/copy.v")
vips_blur02=$(vips_median gaussblur "$tmp/in.v" "$tmp/blur02.v" "$SIGMA")
vips_blur3s=$(vips_median gaussblur "$tmp/in.v" "$tmp/blur3s.v" "$SIGMA" --min-ampl "$min_ampl")
vips_sharpen=$(vips_median sharpen "$tmp/in.v" "$tmp/sharpen.v" --sigma "$SIGMA")

row() { # OP TOOL MS [RATIO_AGAINST_MS]
  awk -v op="$1" -v tool="$2" -v ms="$3" -v base="${4:-}" -v mp="$megapixels" 'BEGIN {
    ratio = (base == "" || base <= 0) ? "" : sprintf("%.2f", ms / base)
    printf "%-9s %-52s %9.1f %9.1f %s\n", op, tool, ms, (ms > 0 ? mp / (ms / 1000) : 0), ratio }'
}
net() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

{
  echo
  echo "single-threaded, ${WIDTH}x${HEIGHT} RGB ($megapixels MP), sigma $SIGMA, CPU ${CPU:-unpinned}; medians"
  printf "%-9s %-52s %9s %9s %s\n" op tool ms "MP/s" "scalestack/this"
  row copy "vips copy in.v out.v (start-up + load + save)" "$vips_copy"
  row blur "scalestack (radius $radius = 3 sigma)" "$ss_blur"
  row blur "vips gaussblur, min_ampl $min_ampl (radius $radius), net" "$(net "$vips_blur3s" "$vips_copy")" 
  row blur "vips gaussblur, min_ampl $min_ampl, wall" "$vips_blur3s"
  row blur "vips gaussblur, default min_ampl 0.2, net" "$(net "$vips_blur02" "$vips_copy")"
  row blur "vips gaussblur, default min_ampl 0.2, wall" "$vips_blur02"
  row sharpen "scalestack (unsharp mask on RGB, amount $AMOUNT)" "$ss_sharpen"
  row sharpen "vips sharpen --sigma $SIGMA (L* of LAB), net" "$(net "$vips_sharpen" "$vips_copy")"
  row sharpen "vips sharpen --sigma $SIGMA (L* of LAB), wall" "$vips_sharpen"
} >"$tmp/table.txt"
# the ratio column: scalestack's median over each vips figure
awk -v b="$ss_blur" -v s="$ss_sharpen" '
  /^blur .*vips/    { printf "%s %.2f\n", $0, b / $(NF - 1); next }
  /^sharpen .*vips/ { printf "%s %.2f\n", $0, s / $(NF - 1); next }
  { print }' "$tmp/table.txt"

say "closeness of the blurs (PNG of each, per channel |scalestack - vips|; inner = without a ${radius}-pixel border) …"
vips pngsave "$tmp/blur3s.v" "$tmp/vips-blur3s.png" --compression 1
vips pngsave "$tmp/blur02.v" "$tmp/vips-blur02.png" --compression 1
# the reference: vips in floating point with the same 3-sigma kernel, rounded to the nearest level
vips gaussblur "$tmp/in.v" "$tmp/blurf.v" "$SIGMA" --min-ampl "$min_ampl" --precision float
vips round "$tmp/blurf.v" "$tmp/blurf-rint.v" rint
vips cast "$tmp/blurf-rint.v" "$tmp/blurf-u8.v" uchar
vips pngsave "$tmp/blurf-u8.v" "$tmp/vips-blurf.png" --compression 1
echo
echo "scalestack blur vs vips gaussblur --precision float, min_ampl $min_ampl (same radius $radius), rounded:"
"$java_bin" "$here/ImagingBench.java" compare "$tmp/ss-blur.png" "$tmp/vips-blurf.png" "$radius"
echo "scalestack blur vs vips gaussblur (default integer precision) min_ampl $min_ampl (same radius $radius):"
"$java_bin" "$here/ImagingBench.java" compare "$tmp/ss-blur.png" "$tmp/vips-blur3s.png" "$radius"
echo "scalestack blur vs vips gaussblur default min_ampl 0.2 (shorter kernel):"
"$java_bin" "$here/ImagingBench.java" compare "$tmp/ss-blur.png" "$tmp/vips-blur02.png" "$radius"
failed=0
