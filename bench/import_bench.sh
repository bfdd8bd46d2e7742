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

BENCH=import_bench
. "$SRC/bench/lib.sh"
[ -x "$KORYOD" ] || die "no koryod at $KORYOD (set KORYOD)"
[ -x "$KORYO" ] || die "no koryo at $KORYO (set KORYO)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed"
command -v curl >/dev/null || die "curl is needed"

bench_tmpdir "${BENCH_TMPDIR:-/tmp}/koryo-import-bench"

# status_kb PID FIELD: a VmXXX value from /proc/PID/status, in kB
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# cpu_s PID: user+system CPU seconds of PID so far
cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

API_PORT=$(free_port)
koryod_config "$T/koryod.conf" "$T/data" "$API_PORT" info

say "generating $ROWS rows"
g0=$(date +%s.%N)
"$SRC/bench/gen_subscribers.sh" "$ROWS" >"$T/subscribers.csv"
g1=$(date +%s.%N)
bytes=$(stat -c %s "$T/subscribers.csv")

say "starting koryod on 127.0.0.1:$API_PORT"
koryod_start "$T/koryod.conf" "$T/koryod.log" --profile "$PROFILE"

cpu0=$(cpu_s "$KORYOD_PID")
say "importing"
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
