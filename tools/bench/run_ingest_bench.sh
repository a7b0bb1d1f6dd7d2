#!/usr/bin/env bash
# Runs every mode of ingest_bench (tools/bench/ingest_bench.cc) in sequence
# against a fresh trainyard-metrics process each, and prints a markdown
# summary of the issue's goals to paste into tools/bench/README.md.
#
# Builds nothing: build ingest_bench and trainyard-metrics first, in Release,
# e.g.
#   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   ninja -C build-bench -j2 ingest_bench trainyard-metrics
#   BUILD_DIR=build-bench tools/bench/run_ingest_bench.sh
#
# Settings (environment):
#   BUILD_DIR            build tree holding both binaries (default: build)
#   OUT                  directory for the logs (default: a new one in /var/tmp)
#   MODES                subset of "webhooks grpc curve events memory"
#   DURATION             seconds per webhooks / grpc run (default 10)
#   WEBHOOK_CONNECTIONS  connection counts to try (default "8 32 64")
#   GRPC_RUNS            "threads:jobs_per_call" pairs (default "2:1 4:1 4:125")
#   CURVE_PRELOAD_BATCH  events per IngestEvents call when preloading the
#                        curve jobs (default 1000). A server that keeps only
#                        the last METRICS event's points of a job per call
#                        (the bug of commits 208073d..eed49f9, see README.md)
#                        makes the curve rows "invalid"; CURVE_PRELOAD_BATCH=1
#                        works around it (the 1M preload then takes ~10 min)
#   CALLS                timed calls per job in curve / events (default 500)
#   MAX_LOAD             wait (up to 10 min) before each run until the 1-min
#                        load average is below this (default: don't wait)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
BENCH="$BUILD_DIR/tools/bench/ingest_bench"
SERVER="$BUILD_DIR/services/metrics/trainyard-metrics"
MODES=${MODES:-"webhooks grpc curve events memory"}
DURATION=${DURATION:-10}
WEBHOOK_CONNECTIONS=${WEBHOOK_CONNECTIONS:-"8 32 64"}
GRPC_RUNS=${GRPC_RUNS:-"2:1 4:1 4:125"}
CURVE_PRELOAD_BATCH=${CURVE_PRELOAD_BATCH:-1000}
CALLS=${CALLS:-500}
MAX_LOAD=${MAX_LOAD:-}

for f in "$BENCH" "$SERVER"; do
  if [[ ! -x "$f" ]]; then
    echo "missing $f: build it first (see the top of $0)" >&2
    exit 2
  fi
done
OUT=${OUT:-$(mktemp -d /var/tmp/ingest_bench_runs.XXXXXX)}
mkdir -p "$OUT"
RESULTS="$OUT/results"
: >"$RESULTS"

load1() { cut -d' ' -f1 /proc/loadavg; }

wait_for_load() {
  [[ -z "$MAX_LOAD" ]] && return 0
  local waited=0
  while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l >= m) }'; do
    if ((waited >= 600)); then
      echo "# load still $(load1) after 10 min; running anyway" >&2
      return 0
    fi
    sleep 15
    waited=$((waited + 15))
  done
}

# run NAME ARGS...: one ingest_bench run, log in $OUT/NAME.log, its RESULT
# line appended to $RESULTS as "NAME <fields>".
run() {
  local name=$1
  shift
  wait_for_load
  echo "## $name: ingest_bench $* (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  local rc=0
  "$BENCH" --server_binary="$SERVER" "$@" >"$OUT/$name.log" 2>&1 || rc=$?
  sed 's/^/    /' "$OUT/$name.log" >&2
  local line
  line=$(grep '^RESULT ' "$OUT/$name.log" | tail -n1 || true)
  if [[ -z "$line" ]]; then
    echo "## $name failed (exit $rc); see $OUT/$name.log" >&2
    echo "$name FAILED" >>"$RESULTS"
  else
    echo "$name ${line#RESULT }" >>"$RESULTS"
  fi
}

START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)

for mode in $MODES; do
  case "$mode" in
    webhooks)
      for c in $WEBHOOK_CONNECTIONS; do
        run "webhooks-$c" --mode=webhooks --connections="$c" --duration="$DURATION"
      done
      ;;
    grpc)
      for pair in $GRPC_RUNS; do
        t=${pair%%:*}
        j=${pair##*:}
        run "grpc-$t-$j" --mode=grpc --threads="$t" --jobs_per_call="$j" \
          --duration="$DURATION"
      done
      ;;
    curve)
      run curve --mode=curve --calls="$CALLS" --preload_batch="$CURVE_PRELOAD_BATCH"
      ;;
    events)
      run events --mode=events --calls="$CALLS"
      ;;
    memory)
      run memory --mode=memory
      ;;
    *)
      echo "unknown mode $mode" >&2
      exit 2
      ;;
  esac
done

# ---- Summary ----------------------------------------------------------------

# field LINE KEY: the value of KEY=... in a results line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
# check VALUE OP LIMIT: "met" or "**missed**".
check() {
  if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
        if (v == "") exit 1;
        if (op == ">=") exit !(v + 0 >= l + 0);
        exit !(v + 0 <= l + 0) }'; then
    echo "met"
  else
    echo "**missed**"
  fi
}
fmt_k() { awk -v v="$1" 'BEGIN { printf "%.1fK", v / 1000 }'; }
split_of() {
  echo "$(field "$1" server_cores) / $(field "$1" gen_cores)"
}

echo
echo "### ingest_bench summary"
echo
echo "Run $START_TIME on $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
  "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (+ local changes)');" \
  "loadavg $START_LOAD at start, $(cut -d' ' -f1-3 /proc/loadavg) at end. Logs: $OUT."
echo
echo "| goal | run | measured | target | result | CPU server / generator (cores) | load1 |"
echo "|---|---|---|---|---|---|---|"
while read -r name rest; do
  line=" $rest"
  if [[ "$rest" == FAILED ]]; then
    echo "| | $name | run failed, see $OUT/$name.log | | **missed** | | |"
    continue
  fi
  load=$(field "$line" load1)
  case "$name" in
    webhooks-*)
      rps=$(field "$line" req_s)
      p99=$(field "$line" p99_ms)
      r1=$(check "$rps" ">=" 20000)
      r2=$(check "$p99" "<=" 10)
      result=$([[ $r1 == met && $r2 == met ]] && echo met || echo "**missed**")
      echo "| webhooks >= 20K req/s, p99 <= 10 ms | $(field "$line" connections) connections | $(fmt_k "$rps") req/s, p50 $(field "$line" p50_ms) / p99 $p99 ms, errors $(field "$line" errors), stored $(field "$line" stored_ratio); server CPU $(field "$line" server_us_per_req) us/request | 20K req/s, 10 ms | $result | $(split_of "$line") | $load |"
      ;;
    grpc-*)
      pts=$(field "$line" points_s)
      ratio=$(field "$line" stored_ratio)
      result=$(check "$pts" ">=" 500000)
      if [[ $result == met ]] && ! awk -v r="$ratio" 'BEGIN { exit !(r >= 0.9999) }'; then
        result="**missed** (points lost)"
      fi
      echo "| gRPC IngestEvents >= 500K points/s | $(field "$line" threads) threads, $(field "$line" jobs_per_call) job(s)/call | $(fmt_k "$pts") points/s acknowledged, $(field "$line" calls_s) calls/s, p99 $(field "$line" p99_ms) ms, stored $ratio of acknowledged; server CPU $(field "$line" server_us_per_event) us/event | 500K points/s | $result | $(split_of "$line") | $load |"
      ;;
    curve)
      bg=$(field "$line" bg_points_s)
      for size in small large; do
        want=$([[ $size == small ]] && echo 2 || echo 20)
        p99=$(field "$line" ${size}_p99_ms)
        stored=$(field "$line" ${size}_stored)
        points=$(field "$line" ${size}_points)
        result=$(check "$p99" "<=" "$want")
        note=""
        [[ "$stored" != "$points" ]] && note=" (only $stored of $points points stored: not the goal's job)" && result="**invalid**"
        awk -v b="$bg" 'BEGIN { exit !(b < 45000) }' && note="$note (background reached only $(fmt_k "$bg") points/s)"
        echo "| loss curve, $points-point job, p99 <= $want ms under 50K points/s | 1000 points, full range | p50 $(field "$line" ${size}_p50_ms) / p99 $p99 ms (idle p99 $(field "$line" idle_${size}_p99_ms) ms, server CPU $(field "$line" ${size}_cpu_ms) ms/call); any unary call (GetProgress) p99 $(field "$line" floor_p99_ms) ms, idle $(field "$line" idle_floor_p99_ms) ms; ingest $(fmt_k "$bg") points/s$note | $want ms | $result | $(split_of "$line") | $load |"
      done
      ;;
    events)
      p99=$(field "$line" p99_ms)
      echo "| event log page, p99 <= 10 ms | $(field "$line" events) events, 50/page, WARNING+STATUS, keyword | p50 $(field "$line" p50_ms) / p99 $p99 ms; first call after preload $(field "$line" first_ms) ms, after restart $(field "$line" restart_first_ms) ms; server CPU $(field "$line" cpu_ms) ms/call | 10 ms | $(check "$p99" "<=" 10) | $(split_of "$line") | $load |"
      ;;
    memory)
      worst=$(for k in rss_mib rss_touched_mib rss_settled_mib hwm_mib restart_touched_rss_mib series_rss_mib; do field "$line" $k; done | sort -g | tail -n1)
      stored=$(field "$line" stored)
      points=$(field "$line" points)
      result=$(check "$worst" "<=" 1024)
      [[ "$stored" != "$points" ]] && result="**invalid** (only $stored of $points points stored)"
      echo "| RSS <= 1 GiB, 1,000 jobs x 10K points | $(field "$line" jobs) jobs, $points points | RSS $(field "$line" rss_mib) MiB after ingest, $(field "$line" rss_touched_mib) after GetProgress on all, peak $(field "$line" hwm_mib); after restart $(field "$line" restart_rss_mib) idle, $(field "$line" restart_touched_rss_mib) touched, $(field "$line" series_rss_mib) with every series loaded; disk $(field "$line" disk_mib) MiB; ingest $(fmt_k "$(field "$line" ingest_points_s)") points/s | 1024 MiB | $result | $(split_of "$line") (ingest) | $load |"
      ;;
  esac
done <"$RESULTS"
