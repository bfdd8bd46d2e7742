#!/bin/bash
# coldstart_bench.sh: koryod's cold start and memory with 5,000,000 subscribers.
#
# Fills a fresh store with SUBSCRIBERS rows through the import API (in chunks
# streamed from bench/gen_subscribers.sh), stops koryod, then starts it RUNS
# times on that store and measures, each time:
#   * seconds from exec until GET /health answers,
#   * seconds from exec until the log says `registry loaded: N subscribers in X s`
#     (and koryod's own X),
#   * VmRSS and VmHWM once the registry is loaded.
# Prints min and median for each, against the issue's targets: RSS <= 1.5 GB,
# cold start <= 20 s.
#
# Builds nothing. Environment:
#   KORYOD, KORYO     binaries (default build/koryod, build/koryo under the tree)
#   SUBSCRIBERS       store size (default 5000000)
#   CHUNK             rows per import request (default 1000000)
#   RUNS              cold starts (default 3)
#   WORKERS           koryod workers (default 2)
#   IMPORT_TIMEOUT    seconds allowed per import chunk (default 1800)
#   START_TIMEOUT     seconds allowed per start (default 300)
#   BENCH_TMPDIR      where the temporary data dir goes (default /tmp)
# Loopback only; the temporary directory is removed at exit.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KORYOD=${KORYOD:-$SRC/build/koryod}
KORYO=${KORYO:-$SRC/build/koryo}
SUBSCRIBERS=${SUBSCRIBERS:-5000000}
CHUNK=${CHUNK:-1000000}
RUNS=${RUNS:-3}
WORKERS=${WORKERS:-2}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-1800}
START_TIMEOUT=${START_TIMEOUT:-300}
STOP_TIMEOUT=${STOP_TIMEOUT:-120}
FIRST_SUFFIX=5000000000
PROFILE=$SRC/profiles/koryolink
TARGET_RSS_MB=1536
TARGET_START_S=20

BENCH=coldstart_bench
. "$SRC/bench/lib.sh"
[ -x "$KORYOD" ] || die "no koryod at $KORYOD (set KORYOD)"
[ -x "$KORYO" ] || die "no koryo at $KORYO (set KORYO)"
command -v curl >/dev/null || die "curl is needed"

bench_tmpdir "${BENCH_TMPDIR:-/tmp}/koryo-coldstart-bench"

status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

API_PORT=$(free_port)
koryod_config "$T/koryod.conf" "$T/data" "$API_PORT" info

# ---- fill the store ----------------------------------------------------------
say "filling a store with $SUBSCRIBERS subscribers in chunks of $CHUNK"
koryod_start "$T/koryod.conf" "$T/fill.log" --profile "$PROFILE"
f0=$(now)
done_rows=0
while [ "$done_rows" -lt "$SUBSCRIBERS" ]; do
  n=$((SUBSCRIBERS - done_rows))
  [ "$n" -le "$CHUNK" ] || n=$CHUNK
  rc=0
  "$SRC/bench/gen_subscribers.sh" "$n" $((FIRST_SUFFIX + done_rows)) |
    timeout "$IMPORT_TIMEOUT" "$KORYO" import subscribers --no-progress - >"$T/import.out" 2>&1 || rc=$?
  if [ $rc -ne 0 ] || ! grep -q "imported $n subscribers" "$T/import.out"; then
    cat "$T/import.out" >&2
    tail -20 "$T/fill.log" >&2
    [ $rc -eq 124 ] && die "an import chunk did not finish within ${IMPORT_TIMEOUT}s"
    die "import failed (status $rc)"
  fi
  done_rows=$((done_rows + n))
  say "  $done_rows imported ($(sub "$f0" "$(now)") s)"
done
fill_s=$(sub "$f0" "$(now)")
koryod_stop
store_mb=$(du -sm "$T/data" | cut -f1)

# ---- cold starts ---------------------------------------------------------------
: >"$T/results"
for ((r = 1; r <= RUNS; r++)); do
  log="$T/start$r.log"
  # watch /health and the log together, so each time is taken when it happens
  T_EXEC=$(now)
  "$KORYOD" -c "$T/koryod.conf" >"$log" 2>&1 &
  KORYOD_PID=$!
  health_s="" loaded_s="" line=""
  deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if [ -z "$health_s" ] && curl -fsS --max-time 1 "$KORYO_API/health" >/dev/null 2>&1; then
      health_s=$(sub "$T_EXEC" "$(now)")
    fi
    if [ -z "$line" ]; then
      line=$(grep -m1 -o 'registry loaded: [0-9]* subscribers in [0-9.]* s' "$log" || true)
      [ -z "$line" ] || loaded_s=$(sub "$T_EXEC" "$(now)")
    fi
    [ -z "$health_s" ] || [ -z "$line" ] || break
    kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$log" >&2; die "koryod exited during start"; }
    sleep 0.02
  done
  [ -n "$health_s" ] || { cat "$log" >&2; die "run $r: /health did not answer within ${START_TIMEOUT}s"; }
  [ -n "$line" ] || { cat "$log" >&2; die "run $r: no 'registry loaded' line within ${START_TIMEOUT}s"; }
  n_loaded=$(echo "$line" | awk '{ print $3 }')
  own_s=$(echo "$line" | awk '{ print $6 }')
  [ "$n_loaded" -eq "$SUBSCRIBERS" ] || say "run $r: koryod loaded $n_loaded subscribers, expected $SUBSCRIBERS"
  rss=$(status_kb "$KORYOD_PID" VmRSS)
  hwm=$(status_kb "$KORYOD_PID" VmHWM)
  koryod_stop
  echo "$health_s $loaded_s $own_s $rss $hwm" >>"$T/results"
  say "run $r: /health ${health_s}s, registry line ${loaded_s}s (koryod: ${own_s}s), VmRSS $((rss / 1024)) MB, VmHWM $((hwm / 1024)) MB"
done

# minmed COLUMN SCALE FORMAT: "min / median" of a results column
minmed() {
  sort -g -k"$1","$1" "$T/results" | awk -v c="$1" -v s="$2" -v f="$3" '
    { v[NR] = $c / s }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf f " / " f, v[1], m }'
}
worst_start=$(awk '{ s = ($1 > $2) ? $1 : $2; if (s > w) w = s } END { printf "%.3f", w }' "$T/results")
med_hwm_mb=$(minmed 5 1024 "%.0f" | awk '{ print $3 }')
med_start=$(awk '{ print ($1 > $2) ? $1 : $2 }' "$T/results" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "meets" : "MISSES" }'; }
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

cat <<EOF
### Cold start: $SUBSCRIBERS subscribers
Host: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); koryod workers = $WORKERS, embedded store (${store_mb} MB on disk), Koryolink profile.
Store filled through the import API in chunks of $CHUNK rows (\`bench/gen_subscribers.sh\` | \`koryo import subscribers -\`) in ${fill_s} s.
Command: \`koryod -c koryod.conf\` on the filled store, $RUNS runs (run by bench/coldstart_bench.sh)

| measure ($RUNS runs) | min / median |
|---|---|
| exec to /health answering | $(minmed 1 1 "%.2f") s |
| exec to \`registry loaded\` in the log | $(minmed 2 1 "%.2f") s |
| registry load as koryod reports it | $(minmed 3 1 "%.2f") s |
| VmRSS after load | $(minmed 4 1024 "%.0f") MB |
| VmHWM after load | $(minmed 5 1024 "%.0f") MB |

Targets: cold start <= ${TARGET_START_S} s: $(verdict "$med_start" $TARGET_START_S) (median ${med_start} s, worst ${worst_start} s); RSS <= 1.5 GB: $(verdict "$med_hwm_mb" $TARGET_RSS_MB) (median VmHWM ${med_hwm_mb} MB).
EOF
