#!/bin/bash
# import_bench.sh: time `koryo import subscribers` for 1,000,000 rows against a
# fresh koryod (Koryolink profile, embedded store) on loopback.
#
# Builds nothing. Environment:
#   KORYOD, KORYO     binaries (default build/koryod, build/koryo under the tree)
#   ROWS              rows to import (default 1000000)
#   WORKERS           koryod workers (default 2)
#   IMPORT_TIMEOUT    seconds before the import is abandoned (default 1800)
#   BENCH_TMPDIR      where the temporary data dir goes (default /tmp)
# Prints a result block for docs/performance.md. Not a test: it fails only when
# something does not work, never because the machine is slow.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KORYOD=${KORYOD:-$SRC/build/koryod}
KORYO=${KORYO:-$SRC/build/koryo}
ROWS=${ROWS:-1000000}
WORKERS=${WORKERS:-2}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-1800}
START_TIMEOUT=${START_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-60}
PROFILE=$SRC/profiles/koryolink

die() { echo "import_bench: $*" >&2; exit 1; }
[ -x "$KORYOD" ] || die "no koryod at $KORYOD (set KORYOD)"
[ -x "$KORYO" ] || die "no koryo at $KORYO (set KORYO)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed"
command -v curl >/dev/null || die "curl is needed"

T=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/koryo-import-bench.XXXXXX")
KORYOD_PID=""

koryod_stop() {
  [ -n "$KORYOD_PID" ] || return 0
  local pid=$KORYOD_PID i
  KORYOD_PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "import_bench: koryod (pid $pid) did not exit ${STOP_TIMEOUT}s after SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  koryod_stop || true
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
  done
}

# status_kb PID FIELD: a VmXXX value from /proc/PID/status, in kB
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# cpu_s PID: user+system CPU seconds of PID so far
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

API_PORT=$(free_port)
mkdir -p "$T/data"
cat >"$T/koryod.conf" <<EOF
data_dir = $T/data
api.listen = 127.0.0.1:$API_PORT
workers = $WORKERS
log.level = info
EOF
export KORYO_API="http://127.0.0.1:$API_PORT"
export KORYO_TOKEN_FILE="$T/data/api.token"

echo "import_bench: generating $ROWS rows" >&2
g0=$(date +%s.%N)
"$SRC/bench/gen_subscribers.sh" "$ROWS" >"$T/subscribers.csv"
g1=$(date +%s.%N)
bytes=$(stat -c %s "$T/subscribers.csv")

echo "import_bench: starting koryod on 127.0.0.1:$API_PORT" >&2
"$KORYOD" -c "$T/koryod.conf" --profile "$PROFILE" >>"$T/koryod.log" 2>&1 &
KORYOD_PID=$!
up=0
deadline=$((SECONDS + START_TIMEOUT))
while [ $SECONDS -lt $deadline ]; do
  if curl -fsS --max-time 1 "$KORYO_API/health" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; die "koryod exited during start"; }
  sleep 0.1
done
[ $up = 1 ] || { cat "$T/koryod.log" >&2; die "koryod did not answer /health within ${START_TIMEOUT}s"; }
i=0
while [ ! -s "$KORYO_TOKEN_FILE" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

cpu0=$(cpu_s "$KORYOD_PID")
echo "import_bench: importing" >&2
t0=$(date +%s.%N)
rc=0
/usr/bin/time -v -o "$T/time.txt" timeout "$IMPORT_TIMEOUT" \
  "$KORYO" import subscribers --no-progress "$T/subscribers.csv" >"$T/import.out" 2>"$T/import.err" || rc=$?
t1=$(date +%s.%N)
if [ $rc -ne 0 ]; then
  cat "$T/import.out" "$T/import.err" >&2
  tail -20 "$T/koryod.log" >&2
  [ $rc -eq 124 ] && die "import did not finish within ${IMPORT_TIMEOUT}s"
  die "koryo import failed (status $rc)"
fi
grep -q "imported $ROWS subscribers" "$T/import.out" ||
  die "unexpected answer from koryo import: $(cat "$T/import.out")"
cpu1=$(cpu_s "$KORYOD_PID")
hwm=$(status_kb "$KORYOD_PID" VmHWM)
rss=$(status_kb "$KORYOD_PID" VmRSS)
cli_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$T/time.txt")
koryod_stop
store_mb=$(du -sm "$T/data" | cut -f1)

secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
rate=$(awk -v n="$ROWS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
gsecs=$(awk -v a="$g0" -v b="$g1" 'BEGIN { printf "%.1f", b - a }')
kcpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

cat <<EOF
### Bulk import: $ROWS subscribers
Host: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); koryod workers = $WORKERS, embedded store, Koryolink profile.
Input: \`bench/gen_subscribers.sh $ROWS\` ($(mb $((bytes / 1024))) MB CSV, generated in ${gsecs} s).
Command: \`koryo import subscribers --no-progress subscribers.csv\` (run by bench/import_bench.sh)

| measure | value |
|---|---|
| wall time | ${secs} s |
| rows/s | ${rate} |
| koryo CLI peak RSS | $(mb "$cli_kb") MB |
| koryod peak RSS (VmHWM) | $(mb "$hwm") MB |
| koryod RSS after import (VmRSS) | $(mb "$rss") MB |
| koryod CPU during import | ${kcpu} s |
| data dir after import | ${store_mb} MB |
EOF
