#!/bin/bash
# gsup_bench.sh: GSUP throughput and latency of koryod against osmo-hlr 1.5, the
# HLR it replaces, with the same subscribers, the same load client
# (koryo-gsup-load, bench/gsup_load.c) and the same durability, in one run.
#
# Matrix: store {disk, tmpfs} x procedure {sai, ul-cs} x server {koryod, osmo-hlr}.
#   disk   both stores on the disk under DISK_DIR; koryod with store.sync = full,
#          osmo-hlr as shipped (SQLite WAL with synchronous = FULL: one fdatasync
#          per SQN advance). Every SQN advance is synced before the answer.
#   tmpfs  both stores on /dev/shm (same settings; syncs cost nothing there), so
#          the servers are CPU-bound.
#   sai    SendAuthInfo, VECTORS vectors requested (default 1)
#   ul-cs  UpdateLocation CS with its InsertSubscriberData exchange
# For each store both servers run side by side (osmo-hlr 1.5 cannot change its
# port, so it gets its own loopback address OSMO_HLR_IP:4222; koryod a free port
# on 127.0.0.1) and the runs alternate A B, B A, A B, ... for ROUNDS rounds.
# Each run: the client connects CONNS connections, does the IPA handshake,
# keeps WINDOW requests in flight for WARMUP + DURATION seconds over
# SUBSCRIBERS subscribers and reports the measured part. Figures are medians
# over the rounds with their range; ratios are koryod / osmo-hlr.
#
# Builds nothing. Environment (defaults in brackets):
#   BUILD [build-bench]: KORYOD, KORYO, LOAD [BUILD/koryod, koryo, koryo-gsup-load]
#   OSMO_HLR [/usr/bin/osmo-hlr]  HLR_SQL [/usr/share/doc/osmo-hlr/sql/hlr.sql]
#   SUBSCRIBERS [10000] ROUNDS [3] DURATION [10] WARMUP [2] CONNS [4]
#   WINDOW [32] VECTORS [1] WORKERS [2] STORES ["disk tmpfs"] MODES ["sai ul-cs"]
#   SERVERS ["koryod osmo-hlr"] (one alone, to check a server or the client)
#   DISK_DIR [/var/tmp] (must not be tmpfs)  OSMO_HLR_IP [127.0.0.2]
# Prints a result block for docs/performance.md on stdout, progress on stderr.
# Not a test: it fails only when something does not work (a server does not
# start, the client cannot run), never because a target is missed.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$SRC/build-bench}
KORYOD=${KORYOD:-$BUILD/koryod}
KORYO=${KORYO:-$BUILD/koryo}
LOAD=${LOAD:-$BUILD/koryo-gsup-load}
OSMO_HLR=${OSMO_HLR:-/usr/bin/osmo-hlr}
HLR_SQL=${HLR_SQL:-/usr/share/doc/osmo-hlr/sql/hlr.sql}
SUBSCRIBERS=${SUBSCRIBERS:-10000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-4}
WINDOW=${WINDOW:-32}
VECTORS=${VECTORS:-1}
WORKERS=${WORKERS:-2}
STORES=${STORES:-disk tmpfs}
MODES=${MODES:-sai ul-cs}
SERVERS=${SERVERS:-koryod osmo-hlr}
DISK_DIR=${DISK_DIR:-/var/tmp}
OSMO_HLR_IP=${OSMO_HLR_IP:-127.0.0.2}
START_TIMEOUT=${START_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-600}
PROFILE=$SRC/profiles/koryolink
FIRST_IMSI=467059900000000 # 46705 99 + 8 digits: clear of the demo and bench SIMs

BENCH=gsup_bench
. "$SRC/bench/lib.sh"
has() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
need=("$LOAD")
has koryod && need+=("$KORYOD" "$KORYO")
has osmo-hlr && need+=("$OSMO_HLR")
for b in "${need[@]}"; do
  [ -x "$b" ] || die "no executable $b (set KORYOD, KORYO, LOAD, OSMO_HLR or BUILD)"
done
[ -r "$HLR_SQL" ] || die "no osmo-hlr schema at $HLR_SQL (set HLR_SQL)"
command -v sqlite3 >/dev/null || die "sqlite3 is needed"
command -v curl >/dev/null || die "curl is needed"
case "$SUBSCRIBERS" in '' | *[!0-9]*) die "SUBSCRIBERS must be a number" ;; esac
[ "$SUBSCRIBERS" -ge 100 ] && [ "$SUBSCRIBERS" -le 99999999 ] || die "SUBSCRIBERS must be 100..99999999"
[ "$(stat -f -c %T "$DISK_DIR")" != tmpfs ] || die "DISK_DIR $DISK_DIR is on tmpfs; give a directory on a disk"

STORE_DIR=""
HLR_PID=""
stop_servers() {
  koryod_stop
  if [ -n "$HLR_PID" ]; then stop_pid "$HLR_PID" osmo-hlr; HLR_PID=""; fi
  if [ -n "$STORE_DIR" ]; then rm -rf "$STORE_DIR"; STORE_DIR=""; fi
}
bench_stop() { stop_servers; }
bench_tmpdir "${TMPDIR:-/tmp}/koryo-gsup-bench"

# wait_port IP PORT PID NAME LOG: until the port accepts, the process alive
wait_port() {
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    port_open "$1" "$2" && return 0
    kill -0 "$3" 2>/dev/null || { tail -20 "$5" >&2; die "$4 exited during start"; }
    sleep 0.1
  done
  tail -20 "$5" >&2
  die "$4 did not listen on $1:$2 within ${START_TIMEOUT}s"
}

# The subscribers, once, as a koryo import CSV (docs/import.md); osmo-hlr gets
# the same IMSIs, MSISDNs, K and OPc. K/OPc: fixed pseudo-random hex.
say "generating $SUBSCRIBERS subscribers"
awk -v n="$SUBSCRIBERS" 'BEGIN {
  print "imsi,msisdn,class,status,k,opc"
  x = 20240611
  for (i = 0; i < n; i++) {
    k = ""; o = ""
    for (j = 0; j < 8; j++) { x = (x * 16807) % 2147483647; k = k sprintf("%04x", x % 65536) }
    for (j = 0; j < 8; j++) { x = (x * 16807) % 2147483647; o = o sprintf("%04x", x % 65536) }
    printf "4670599%08d,8501999%08d,citizen,active,%s,%s\n", i, i, k, o
  }
}' >"$T/subscribers.csv"
# osmo-hlr rows: subscriber + auc_3g (algo 5 = MILENAGE, IND bit length 5 as koryod's default)
awk -F, 'NR == 1 { print "BEGIN;"; next }
{
  id = NR - 1
  printf "INSERT INTO subscriber(id, imsi, msisdn) VALUES(%d, \x27%s\x27, \x27%s\x27);\n", id, $1, $2
  printf "INSERT INTO auc_3g(subscriber_id, algo_id_3g, k, opc, sqn, ind_bitlen) VALUES(%d, 5, \x27%s\x27, \x27%s\x27, 0, 5);\n", id, $5, $6
}
END { print "COMMIT;" }' "$T/subscribers.csv" >"$T/hlr-subscribers.sql"

GSUP_PORT=""
start_servers() { # STORE
  local store=$1 base
  if [ "$store" = tmpfs ]; then base=/dev/shm; else base=$DISK_DIR; fi
  STORE_DIR=$(mktemp -d "$base/koryo-gsup-bench-$store.XXXXXX")

  has koryod || { start_osmo_hlr "$store"; return; }
  # koryod
  local api_port
  api_port=$(free_port)
  GSUP_PORT=$(free_port)
  while [ "$GSUP_PORT" = "$api_port" ]; do GSUP_PORT=$(free_port); done
  koryod_config "$STORE_DIR/koryod.conf" "$STORE_DIR/koryod" "$api_port" warn \
    "gsup.listen = 127.0.0.1:$GSUP_PORT" "store.sync = full"
  koryod_start "$STORE_DIR/koryod.conf" "$T/koryod-$store.log" --profile "$PROFILE"
  say "$store: importing $SUBSCRIBERS subscribers into koryod (pid $KORYOD_PID)"
  timeout "$IMPORT_TIMEOUT" "$KORYO" import subscribers --no-progress "$T/subscribers.csv" >"$T/import.out" 2>&1 ||
    { cat "$T/import.out" >&2; die "koryo import failed"; }
  grep -q "imported $SUBSCRIBERS subscribers" "$T/import.out" ||
    die "unexpected answer from koryo import: $(cat "$T/import.out")"
  wait_port 127.0.0.1 "$GSUP_PORT" "$KORYOD_PID" koryod "$T/koryod-$store.log"
  say "$store: koryod pid $KORYOD_PID on 127.0.0.1:$GSUP_PORT, data under $STORE_DIR"
  has osmo-hlr && start_osmo_hlr "$store"
  return 0
}

start_osmo_hlr() { # STORE
  local store=$1
  port_open "$OSMO_HLR_IP" 4222 && die "something already listens on $OSMO_HLR_IP:4222 (set OSMO_HLR_IP)"
  sqlite3 "$STORE_DIR/hlr.db" <"$HLR_SQL"
  sqlite3 "$STORE_DIR/hlr.db" <"$T/hlr-subscribers.sql"
  sed "s/@BIND_IP@/$OSMO_HLR_IP/g" "$SRC/bench/osmo-hlr.cfg.in" >"$STORE_DIR/osmo-hlr.cfg"
  (cd "$STORE_DIR" && exec "$OSMO_HLR" -l "$STORE_DIR/hlr.db" -c "$STORE_DIR/osmo-hlr.cfg") \
    >>"$T/osmo-hlr-$store.log" 2>&1 &
  HLR_PID=$!
  wait_port "$OSMO_HLR_IP" 4222 "$HLR_PID" osmo-hlr "$T/osmo-hlr-$store.log"
  say "$store: osmo-hlr pid $HLR_PID on $OSMO_HLR_IP:4222, db under $STORE_DIR"
}

# run STORE MODE SERVER ROUND: one client run, one line appended to results
run() {
  local store=$1 mode=$2 server=$3 round=$4 addr pid out rc=0 line
  if [ "$server" = koryod ]; then addr=127.0.0.1:$GSUP_PORT pid=$KORYOD_PID; else addr=$OSMO_HLR_IP:4222 pid=$HLR_PID; fi
  kill -0 "$pid" 2>/dev/null || die "$server (pid $pid) is gone"
  out=$T/run-$store-$mode-$server-$round.txt
  # a pause between runs: the server sees the previous run's connections (same
  # IPA names) closed before the next ones arrive, and settles
  sleep 1
  timeout $((WARMUP + ${DURATION%.*} + 60)) "$LOAD" -q -s "$addr" -m "$mode" -c "$CONNS" -w "$WINDOW" \
    -n "$SUBSCRIBERS" -i "$FIRST_IMSI" -v "$VECTORS" -d "$DURATION" -W "$WARMUP" -P "$pid" \
    -N "gsup-bench-$server" >"$out" 2>&1 || rc=$?
  line=$(grep '^RESULT ' "$out" || true)
  [ -n "$line" ] || { cat "$out" >&2; die "$server $mode: the load client failed (status $rc)"; }
  # RESULT mode=.. ops=.. secs=.. ops_s=.. p50_us=.. p99_us=.. errors=.. unexpected=.. unanswered=.. server_cpu_s=.. ops_per_cpu_s=..
  echo "$line" | awk -v st="$store" -v sv="$server" -v r="$round" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print st, v["mode"], sv, r, v["ops_s"], v["p50_us"], v["p99_us"], v["errors"] + v["unexpected"] + v["unanswered"], v["ops_per_cpu_s"], v["server_cpu_s"]
  }' >>"$T/results"
  say "$(printf '%-5s %-5s %-8s round %d: %s' "$store" "$mode" "$server" "$round" "$(echo "$line" | cut -d' ' -f4-)")"
}

t_begin=$SECONDS
for store in $STORES; do
  start_servers "$store"
  for mode in $MODES; do
    for ((r = 1; r <= ROUNDS; r++)); do
      order=$SERVERS
      ((r % 2)) || order=$(echo "$SERVERS" | awk '{ for (i = NF; i >= 1; i--) printf "%s%s", $i, (i > 1 ? " " : "") }')
      for server in $order; do run "$store" "$mode" "$server" "$r"; done
    done
  done
  stop_servers
done
elapsed=$((SECONDS - t_begin))

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
hlr_version=$(dpkg-query -W -f '${Version}' osmo-hlr 2>/dev/null || echo unknown)
disk_fs=$(df -T "$DISK_DIR" | awk 'NR == 2 { print $2 }')
if [ "$VECTORS" = 0 ]; then vec="the server's default vector count (5)"; else vec="$VECTORS vector(s) requested"; fi

cat <<EOF
### GSUP: koryod against osmo-hlr $hlr_version
Host: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); client and both servers on the same host, loopback.
koryod: workers = $WORKERS, store.sync = full, log.level = warn, Koryolink profile. osmo-hlr: as shipped (SQLite WAL, synchronous FULL: one fdatasync per SQN advance), logging at error.
Stores: "disk" = $DISK_DIR ($disk_fs), "tmpfs" = /dev/shm. $SUBSCRIBERS subscribers (class citizen, MILENAGE with OPc), the same in both.
Client: koryo-gsup-load (bench/gsup_load.c, libosmogsm codec), $CONNS connections, $WINDOW requests in flight, SAI with $vec, UL CS answering the ISD;
${WARMUP} s warm-up + ${DURATION} s measured per run, $ROUNDS rounds alternating (A B, B A, ...); medians, range in brackets; ${elapsed} s in all.
Command: \`STORES="$STORES" MODES="$MODES" SERVERS="$SERVERS" SUBSCRIBERS=$SUBSCRIBERS ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS WINDOW=$WINDOW VECTORS=$VECTORS WORKERS=$WORKERS bench/gsup_bench.sh\`

EOF

awk '
function median(s,    a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(s,    a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function hi(s,    a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
function add(arr, k, v) { arr[k] = (k in arr) ? arr[k] " " v : v }
function cell(s) { return sprintf("%.0f (%.0f–%.0f)", median(s), lo(s), hi(s)) }
{
  k = $1 SUBSEP $2 SUBSEP $3
  if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
  add(ops, k, $5); add(p50, k, $6); add(p99, k, $7); add(opc, k, $9); bad[k] += $8
  add(ops_r, $1 SUBSEP $2 SUBSEP $3 SUBSEP $4, $5)
  rounds[$1 SUBSEP $2] = ($4 > rounds[$1 SUBSEP $2]) ? $4 : rounds[$1 SUBSEP $2]
}
END {
  print "| store | procedure | server | ops/s | p50 µs | p99 µs | ops per server CPU-second | errors |"
  print "|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, f, SUBSEP)
    printf "| %s | %s | %s | %s | %s | %s | %s | %d |\n", f[1], (f[2] == "sai" ? "SendAuthInfo" : "UpdateLocation CS"), f[3], cell(ops[k]), cell(p50[k]), cell(p99[k]), cell(opc[k]), bad[k]
  }
  hdr = 0
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, f, SUBSEP)
    if (f[3] != "koryod") continue
    kk = f[1] SUBSEP f[2] SUBSEP "koryod"; ko = f[1] SUBSEP f[2] SUBSEP "osmo-hlr"
    if (!(ko in ops)) continue
    if (!hdr++) {
      print ""
      print "| store | procedure | koryod / osmo-hlr, ops/s: median (per-round range) | ops per CPU-second, ratio of medians | target | met |"
      print "|---|---|---|---|---|---|"
    }
    rs = ""
    for (r = 1; r <= rounds[f[1] SUBSEP f[2]]; r++) {
      a = ops_r[f[1] SUBSEP f[2] SUBSEP "koryod" SUBSEP r]; b = ops_r[f[1] SUBSEP f[2] SUBSEP "osmo-hlr" SUBSEP r]
      if (b + 0 > 0) rs = rs (rs == "" ? "" : " ") (a / b)
    }
    mo = median(ops[ko]); ratio = (mo > 0) ? median(ops[kk]) / mo : 0
    mc = median(opc[ko]); cr = (mc > 0) ? median(opc[kk]) / mc : 0
    target = (f[1] == "disk") ? 10 : 3
    printf "| %s | %s | %.1f× (%.1f–%.1f) | %.1f× | ≥ %d× | %s |\n", f[1], (f[2] == "sai" ? "SendAuthInfo" : "UpdateLocation CS"), ratio, lo(rs), hi(rs), cr, target, (ratio >= target && bad[kk] == 0) ? "yes" : "no"
  }
}' "$T/results"
