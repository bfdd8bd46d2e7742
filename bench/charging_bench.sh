#!/bin/bash
# charging_bench.sh: what online charging costs koryod's calls, and how many
# durable credit operations charging makes per second, in one run (issue 5).
#
# Usage: bench/charging_bench.sh [--quick] [--help]
#
# Calls: two koryods side by side, each on its own UDP port of 127.0.0.1,
# identical (fresh data dir on disk, store.sync = full as shipped, Koryolink
# profile, WORKERS workers, log.level = warn, the same imported users) but
# for one line: "charging = on" (charged) or "charging = off" (uncharged).
# The users are bench/sip/gen_users.pl's, citizens (plan citizen_basic: 200
# free minutes a month, then KPW); a call to another citizen is rated
# "class:citizen", allowance first, one unit of 60 s. Each server's callers
# and callees are registered first (bench/sip/reg_digest.xml; the callees by
# a SIPp UAS, bench/sip/uas_call.xml). Then SIPp (with the clock shim
# bench/sip_clock_shim.c) keeps CALL_INFLIGHT calls going through the proxy
# in a closed loop (bench/sip/uac_call.xml: INVITE, 100, 180, 200, ACK,
# HOLD_MS hold, BYE, 200; as in bench/sip_bench.sh's call mode), CALL_N
# calls per run, over ROUNDS rounds alternating the servers (A B, B A, ...)
# so that both see the same noise. With charging on, each INVITE goes on only
# once its credit reservation is durable (fsynced through the group commit),
# and each BYE settles the call (a second durable row).
# Per run: calls per second (successful ones, from SIPp's response-time log,
# the first 10 % left out as warm-up), p50 and p99 INVITE-to-200 time, failed
# calls (a charged call refused for credit is one: the setup checks that
# every caller has the allowance or credit for the whole run, and adds
# allowance by the API if not), SIPp's retransmissions (non-zero: a message
# lost or 500 ms late, the run was overloaded and its figure is not valid),
# UDP datagrams dropped (server socket / SIPp's), the server's CPU seconds
# (/proc, all threads) and SIPp's CPU share.
# Result: medians with ranges, the ratio charged / uncharged (of the medians,
# and per round), and the cost of charging, 1 - ratio, in %; target (issue
# 5): at most 20 %. After the runs the servers are stopped and their
# ledgers read: the charged one must hold one call_end row per successful
# call, the uncharged one none.
#
# Credit operations: koryo-bench-ocs-load (bench/ocs_load.c), a standalone
# program over koryod's charging engine and group commit, OCS_INFLIGHT call
# sessions in flight (reserve slice 0, then end) over the Koryolink profile's
# 900 subscribers, each operation counted once its done callback reports it
# durable; OCS_SECONDS measured per run, OCS_ROUNDS rounds alternating a
# store on disk (DISK_DIR, store.sync = full) and on tmpfs (/dev/shm: what
# the fsyncs cost). Reported: operations per second, p50 and p99 latency to
# the durable answer, commits per second and rows per commit.
#
# Everything runs in a network namespace that has only loopback (needs root):
# a stray send fails instead of leaving the machine.
#
# Builds nothing: make bench (or cmake --build) first. Environment (defaults
# in brackets):
#   BUILD [build-bench]: KORYOD, KORYO, SHIM, OCS_LOAD [BUILD/koryod,
#     BUILD/koryo, BUILD/libkoryo-sip-clock-shim.so,
#     BUILD/koryo-bench-ocs-load]   SIPP [sipp]
#   ROUNDS [7]  CALL_USERS [1000] (callers, and as many callees)
#   CALL_N [13000] calls per run  CALL_INFLIGHT [800]  HOLD_MS [200]
#   WORKERS [2] per koryod  DISK_DIR [/var/tmp] (must not be tmpfs)
#   OCS_ROUNDS [3]  OCS_SECONDS [5]  OCS_INFLIGHT [800]  OCS_THREADS [2]
#   RUN_TIMEOUT [120] s per SIPp run  BUDGET [330] s: no run starts after
#   that  KEEP [0]: 1 keeps the logs (kept anyway after a failure, a failed
#   call or a retransmission)
# --quick: ROUNDS=1, CALL_N=2600, OCS_ROUNDS=1, OCS_SECONDS=3 (under a
# minute). The default run takes about 3 minutes on 2 cores, at most 6.
# Prints a result block for docs/performance.md on stdout, progress on
# stderr. Not a test: it fails only when something does not work (a server
# does not start, SIPp cannot run, a setup registration fails, the ledger
# does not match the calls), never because the target is missed.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ARGS=("$@")
QUICK=${QUICK:-0}
INNER=0
for a in "$@"; do
  case "$a" in
  --help | -h)
    sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  --quick) QUICK=1 ;;
  --inner) INNER=1 ;;
  *)
    echo "charging_bench: unknown argument $a (try --help)" >&2
    exit 2
    ;;
  esac
done

BUILD=${BUILD:-$SRC/build-bench}
KORYOD=${KORYOD:-$BUILD/koryod}
KORYO=${KORYO:-$BUILD/koryo}
SHIM=${SHIM:-$BUILD/libkoryo-sip-clock-shim.so}
OCS_LOAD=${OCS_LOAD:-$BUILD/koryo-bench-ocs-load}
# SIPp runs in a directory of its own: every path it or LD_PRELOAD sees
# must be absolute
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
KORYOD=$(abs "$KORYOD") KORYO=$(abs "$KORYO") SHIM=$(abs "$SHIM") OCS_LOAD=$(abs "$OCS_LOAD")
SIPP=${SIPP:-sipp}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} CALL_N=${CALL_N:-2600} OCS_ROUNDS=${OCS_ROUNDS:-1} OCS_SECONDS=${OCS_SECONDS:-3}
else
  ROUNDS=${ROUNDS:-7} CALL_N=${CALL_N:-13000} OCS_ROUNDS=${OCS_ROUNDS:-3} OCS_SECONDS=${OCS_SECONDS:-5}
fi
CALL_USERS=${CALL_USERS:-1000}
CALL_INFLIGHT=${CALL_INFLIGHT:-800}
HOLD_MS=${HOLD_MS:-200}
WORKERS=${WORKERS:-2}
OCS_INFLIGHT=${OCS_INFLIGHT:-800}
OCS_THREADS=${OCS_THREADS:-2}
DISK_DIR=${DISK_DIR:-/var/tmp}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
BUDGET=${BUDGET:-330}
START_TIMEOUT=${START_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-120}
DOMAIN=koryo.local
PROFILE=$SRC/profiles/koryolink
SCEN=$SRC/bench/sip
SERVERS="charged uncharged"

BENCH=charging_bench # lib.sh's messages
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"

for v in ROUNDS CALL_USERS CALL_N CALL_INFLIGHT HOLD_MS WORKERS OCS_ROUNDS OCS_SECONDS OCS_INFLIGHT \
  OCS_THREADS RUN_TIMEOUT BUDGET; do
  case "${!v}" in '' | *[!0-9]*) die "$v must be a number, not '${!v}'" ;; esac
  [ "${!v}" -gt 0 ] || die "$v must be above 0"
done
[ "$HOLD_MS" -ge 100 ] || die "HOLD_MS must be at least 100 (ACK and BYE would cross at the proxy)"
[ "$HOLD_MS" -lt 60000 ] || die "HOLD_MS must be below 60000 (a call is one charging unit here)"
[ "$(stat -f -c %T "$DISK_DIR")" != tmpfs ] || die "DISK_DIR $DISK_DIR is on tmpfs; give a directory on a disk"

# ---- outside: checks, then the same script in a loopback-only namespace -------
if [ "$INNER" = 0 ]; then
  for b in "$KORYOD" "$KORYO" "$SHIM" "$OCS_LOAD"; do
    [ -e "$b" ] || die "no $b (set BUILD, KORYOD, KORYO, SHIM or OCS_LOAD; make bench builds them)"
  done
  command -v "$SIPP" >/dev/null || die "no sipp (scripts/deps.sh test installs sip-tester)"
  for c in perl curl jq sqlite3 ss /usr/bin/time ip timeout; do
    command -v "$c" >/dev/null || die "$c is needed (scripts/deps.sh bench)"
  done
  perl -MDigest::MD5 -e 1 2>/dev/null || die "perl's Digest::MD5 is needed (scripts/deps.sh bench)"
  [ "$(id -u)" = 0 ] || die "needs root, for the network namespace"
  [ "$(cat /proc/sys/net/core/rmem_max)" -ge 4194304 ] ||
    say "net.core.rmem_max is $(cat /proc/sys/net/core/rmem_max), below 4194304: expect retransmissions (sysctl -w net.core.rmem_max=4194304)"
  NS=koryo-charging-bench-$$
  ip netns add "$NS" || die "cannot create network namespace $NS"
  trap 'ip netns delete "$NS" 2>/dev/null || true' EXIT
  ip netns exec "$NS" ip link set lo up
  rc=0
  QUICK=$QUICK ip netns exec "$NS" bash "$0" --inner "${ARGS[@]}" || rc=$?
  exit $rc
fi

# ---- inside the namespace ---------------------------------------------------------
[ -z "$(ip -4 route show | grep -v '^local\|127.0.0.0' || true)" ] ||
  die "the namespace has routes: $(ip -4 route show)"
HZ=$(getconf CLK_TCK)

declare -A PID_OF API_OF TOKEN_OF DATA_OF SIP_PORT UAC_PORT UAS_PORT
UAS_PID=""
stop_uas() {
  [ -n "$UAS_PID" ] || return 0
  local pid=$UAS_PID i
  UAS_PID=""
  # SIGUSR1: SIPp stops taking calls, ends those under way, exits
  kill -USR1 "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# stop_servers: both koryods (and one still starting, in KORYOD_PID)
stop_servers() {
  local s
  for s in "${!PID_OF[@]}"; do
    [ -n "${PID_OF[$s]}" ] || continue
    stop_pid "${PID_OF[$s]}" "koryod ($s)"
    PID_OF[$s]=""
  done
  koryod_stop
}
bench_stop() {
  stop_uas
  stop_servers
}
bench_tmpdir "${TMPDIR:-/tmp}/koryo-charging-bench"
KEEP=${KEEP:-0}
OCS_DIR=""
trap 'rc=$?; bench_stop || true
  for s in "${!DATA_OF[@]}"; do rm -rf "${DATA_OF[$s]}"; done
  [ -z "$OCS_DIR" ] || rm -rf "$OCS_DIR"
  if [ $rc -eq 0 ] && [ "$KEEP" = 0 ]; then rm -rf "$T"; else echo "$BENCH: logs kept in $T" >&2; fi' EXIT

USED_PORTS=" "
# udp_port: a port free for UDP and TCP on 127.0.0.1, not handed out before
udp_port() {
  local p
  while :; do
    p=$(free_port)
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    [ -z "$(ss -Hlnu "sport = :$p" 2>/dev/null)" ] || continue
    USED_PORTS="$USED_PORTS$p "
    echo "$p"
    return
  done
}
# wait_udp PORT PID NAME LOG: until something listens on UDP 127.0.0.1:PORT
wait_udp() {
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    [ -z "$(ss -Hlnu "sport = :$1" 2>/dev/null)" ] || return 0
    kill -0 "$2" 2>/dev/null || { tail -20 "$4" >&2; die "$3 exited during start"; }
    sleep 0.1
  done
  tail -20 "$4" >&2
  die "$3 did not listen on UDP 127.0.0.1:$1 within ${START_TIMEOUT}s"
}
# server_cpu PID: CPU seconds (user + system) of PID, all its threads
server_cpu() { awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
# udp_drops PORT: datagrams dropped on the UDP sockets bound to PORT;
# udp_drops_all: on every UDP socket of the namespace, closed ones included
udp_drops_all() { awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
udp_drops() {
  awk -v port="$(printf '%04X' "$1")" 'NR > 1 { split($2, a, ":"); if (a[2] == port) d += $NF } END { print d + 0 }' /proc/net/udp
}
# api SERVER METHOD PATH [BODY]: the server's operator API (JSON on stdout)
api() {
  local s=$1 method=$2 path=$3 body=${4:-}
  local args=(-fsS --max-time 10 -X "$method" -H "Authorization: Bearer $(cat "${TOKEN_OF[$s]}")")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "${API_OF[$s]}$path"
}

# ---- users and servers ----------------------------------------------------------------
USERS=$((2 * CALL_USERS + 100)) # gen_users.pl's minimum: callers, callees, a few more
say "generating $USERS users"
mkdir -p "$T/users"
perl "$SCEN/gen_users.pl" "$T/users" "$USERS" "$CALL_USERS" 1 "$DOMAIN" >"$T/users/summary" ||
  die "bench/sip/gen_users.pl failed"

for s in $SERVERS; do
  SIP_PORT[$s]=$(udp_port) UAC_PORT[$s]=$(udp_port) UAS_PORT[$s]=$(udp_port)
done

# start_koryod SERVER on|off
start_koryod() {
  local s=$1 charging=$2 api_port
  api_port=$(free_port)
  DATA_OF[$s]=$(mktemp -d "$DISK_DIR/koryo-charging-bench-$s.XXXXXX")
  koryod_config "$T/$s.conf" "${DATA_OF[$s]}" "$api_port" warn \
    "sip.listen = 127.0.0.1:${SIP_PORT[$s]}" "sip.domain = $DOMAIN" "store.sync = full" "charging = $charging"
  koryod_start "$T/$s.conf" "$T/$s.log" --profile "$PROFILE"
  PID_OF[$s]=$KORYOD_PID
  KORYOD_PID="" # stopped by stop_servers from here on
  API_OF[$s]=$KORYO_API TOKEN_OF[$s]=$KORYO_TOKEN_FILE
  say "$s: importing $((USERS + 1)) subscribers into koryod (pid ${PID_OF[$s]}, charging = $charging)"
  timeout "$IMPORT_TIMEOUT" "$KORYO" import subscribers --no-progress "$T/users/koryod.csv" >"$T/import-$s.out" 2>&1 ||
    { cat "$T/import-$s.out" >&2; die "koryo import failed"; }
  grep -q "imported $((USERS + 1)) subscribers" "$T/import-$s.out" ||
    die "unexpected answer from koryo import: $(cat "$T/import-$s.out")"
  wait_udp "${SIP_PORT[$s]}" "${PID_OF[$s]}" "koryod ($s)" "$T/$s.log"
}

SIPP_COMMON=(-i 127.0.0.1 -t u1 -nostdin -nd -buff_size 4194304 -key domain "$DOMAIN" -key expires 3600)

# setup_register SERVER PORT FILE NAME: registers every user of FILE from
# PORT; all must succeed
setup_register() {
  local s=$1 port=$2 file=$3 name=$4 n rc=0 d
  d=$T/setup-$1-$4
  n=$(($(wc -l <"$file") - 1))
  mkdir -p "$d"
  (cd "$d" && timeout "$RUN_TIMEOUT" "$SIPP" "127.0.0.1:${SIP_PORT[$s]}" "${SIPP_COMMON[@]}" -p "$port" \
    -sf "$SCEN/reg_digest.xml" -inf "$file" -m "$n" -l 50 -r 100000 -recv_timeout 10000 \
    -trace_err -error_file "$d/err" -trace_stat -stf "$d/stat.csv" >"$d/out" 2>&1) || rc=$?
  if [ $rc -ne 0 ]; then
    head -40 "$d/err" >&2 2>/dev/null || true
    tail -20 "$d/out" >&2
    die "$s: registering the $name ($n users from port $port) failed, SIPp status $rc"
  fi
  say "$s: $n $name registered from 127.0.0.1:$port"
}

# first_caller_allowance: seconds of allowance of the first caller on the
# charged server (its account brought up to date by the GET)
FIRST_CALLER=$(awk -F, 'NR == 2 { print $1 }' "$T/users/koryod.csv")
first_caller_allowance() { api charged GET "/v1/charging/accounts/$FIRST_CALLER" | jq -er '.allowance.seconds'; }

# ensure_credit: every caller can pay for all its calls of the whole bench
# (SIPp takes the callers in order, CALL_N per run: ceil(CALL_N / CALL_USERS)
# calls each per run, 60 s each), or allowance is added to each by the API
ensure_credit() {
  local per_caller need have i imsi add
  per_caller=$(((CALL_N + CALL_USERS - 1) / CALL_USERS))
  need=$((60 * (per_caller * ROUNDS + 2)))
  have=$(first_caller_allowance) || die "cannot read account $FIRST_CALLER on the charged koryod"
  if [ "$have" -ge "$need" ]; then
    say "charged: each caller has $have s of allowance, the bench uses at most $need s"
    return 0
  fi
  add=$((need - have + 600))
  say "charged: each caller has $have s of allowance, the bench needs $need s: adding $add s to each of the $CALL_USERS callers"
  for ((i = 0; i < CALL_USERS; i++)); do
    imsi=$(printf '4670598%08d' "$i")
    api charged POST "/v1/charging/accounts/$imsi/adjustments" \
      "{\"op_id\":\"charging-bench-$imsi\",\"seconds\":$add,\"reason\":\"charging_bench: allowance for the run\"}" \
      >/dev/null || die "cannot adjust account $imsi"
  done
}

# start_uas SERVER DIR: the SIPp UAS on the callees' port
start_uas() {
  local s=$1 d=$2 i
  (cd "$d" && exec "$SIPP" "${SIPP_COMMON[@]}" -p "${UAS_PORT[$s]}" -sf "$SCEN/uas_call.xml" \
    -trace_err -error_file "$d/uas-err" -trace_stat -stf "$d/uas-stat.csv" -fd 3600 >"$d/uas-out" 2>&1) &
  UAS_PID=$!
  for ((i = 0; i < 50; i++)); do
    [ -z "$(ss -Hlnu "sport = :${UAS_PORT[$s]}" 2>/dev/null)" ] && { sleep 0.1; continue; }
    return 0
  done
  cat "$d/uas-out" >&2
  die "the SIPp UAS did not listen on ${UAS_PORT[$s]}"
}

# last_stat FILE COLUMN: a column of SIPp's final statistics line
last_stat() { tail -1 "$1" | awk -F';' -v c="$2" '{ print $c + 0 }'; }

# run SERVER ROUND: one measured SIPp call run; appends a line to $T/results
run() {
  local s=$1 r=$2 d=$T/run-$1-$2 pid=${PID_OF[$1]} rc=0
  local cpu0 cpu1 ok failed retrans client uas_failed=0 rtt rate pcts p50 p99 cpu wall
  local sdrop0 sdrop1 cdrop0 cdrop1 sdrops cdrops
  [ $SECONDS -lt "$BUDGET" ] || die "over the time budget (${BUDGET}s) before $s round $r"
  kill -0 "$pid" 2>/dev/null || die "koryod ($s, pid $pid) is gone"
  mkdir -p "$d"
  start_uas "$s" "$d"
  sleep 0.5 # the server settles after the previous run
  cpu0=$(server_cpu "$pid")
  sdrop0=$(udp_drops "${SIP_PORT[$s]}")
  cdrop0=$(udp_drops_all)
  (cd "$d" && LD_PRELOAD=$SHIM /usr/bin/time -f 'TIME %e %U %S' -o "$d/time" \
    timeout "$RUN_TIMEOUT" "$SIPP" "127.0.0.1:${SIP_PORT[$s]}" "${SIPP_COMMON[@]}" -p "${UAC_PORT[$s]}" \
    -sf "$SCEN/uac_call.xml" -inf "$T/users/pairs.csv" -m "$CALL_N" -l "$CALL_INFLIGHT" -r 100000 \
    -recv_timeout 10000 -d "$HOLD_MS" -trace_err -error_file "$d/err" -trace_stat -stf "$d/stat.csv" \
    -fd 3600 -trace_rtt -rtt_freq 1000 >"$d/out" 2>&1) || rc=$?
  cpu1=$(server_cpu "$pid")
  sdrop1=$(udp_drops "${SIP_PORT[$s]}")
  cdrop1=$(udp_drops_all)
  sdrops=$((sdrop1 - sdrop0)) cdrops=$((cdrop1 - cdrop0 - sdrop1 + sdrop0))
  stop_uas
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    tail -20 "$d/out" >&2
    head -20 "$d/err" >&2 2>/dev/null || true
    die "$s round $r: SIPp status $rc (124: over ${RUN_TIMEOUT}s)"
  fi
  [ -s "$d/stat.csv" ] || { tail -20 "$d/out" >&2; die "$s round $r: SIPp wrote no statistics"; }
  ok=$(last_stat "$d/stat.csv" 16)
  failed=$(last_stat "$d/stat.csv" 18)
  retrans=$(last_stat "$d/stat.csv" 58)
  [ ! -s "$d/uas-stat.csv" ] || uas_failed=$(last_stat "$d/uas-stat.csv" 18)
  client=$(awk '$1 == "TIME" { printf "%.2f", $3 + $4 }' "$d/time")
  wall=$(awk '$1 == "TIME" { print $2 }' "$d/time")
  # rate over the successful calls after the first 10 %; percentiles over all
  rtt=("$d"/*_rtt.csv)
  rate=0 p50=0 p99=0
  if [ -f "${rtt[0]}" ]; then
    rate=$(awk -F';' 'NR > 1 && $1 != "" { t[++n] = $1 }
      END {
        if (n < 10) { print 0; exit }
        i0 = int(n / 10) + 1; span = (t[n] - t[i0]) / 1000
        print (span > 0) ? (n - i0) / span : 0
      }' "${rtt[0]}")
    pcts=$(awk -F';' 'NR > 1 && $2 != "" { print $2 }' "${rtt[0]}" | sort -n | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "0 0"; exit }
      i = int(NR * 0.50 + 0.5); if (i < 1) i = 1; j = int(NR * 0.99 + 0.5); if (j < 1) j = 1
      print v[i], v[j] }')
    read -r p50 p99 <<<"$pcts"
  fi
  cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')
  echo "$s $r $rate $p50 $p99 $ok $failed $retrans $cpu $client $wall $uas_failed $sdrops $cdrops" >>"$T/results"
  say "$(printf '%-9s round %d: %6.0f calls/s  p50 %6.2f ms  p99 %7.2f ms  ok %d failed %d retrans %d uas-failed %d  UDP drops server %d SIPp %d  server %.2f cpu-s  sipp %.1f cpu-s / %.1f s' \
    "$s" "$r" "$rate" "$p50" "$p99" "$ok" "$failed" "$retrans" "$uas_failed" "$sdrops" "$cdrops" "$cpu" "$client" "$wall")"
  if [ "$failed" -gt 0 ] || [ "$uas_failed" -gt 0 ] || [ "$retrans" -gt 0 ]; then
    KEEP=1
    say "  SIPp's errors are in $d/err and uas-err; the first:"
    grep -v '^The following events' "$d/err" 2>/dev/null | head -c 600 >&2 || true
    echo >&2
  fi
}

# ocs_run STORE ROUND: one run of koryo-bench-ocs-load; appends to $T/ocs-results
ocs_run() {
  local kind=$1 r=$2 base line
  [ $SECONDS -lt "$BUDGET" ] || die "over the time budget (${BUDGET}s) before the credit operations ($kind, round $r)"
  case $kind in disk) base=$DISK_DIR ;; tmpfs) base=/dev/shm ;; esac
  OCS_DIR=$(mktemp -d "$base/koryo-ocs-load.XXXXXX")
  timeout $((OCS_SECONDS + 90)) "$OCS_LOAD" -d "$OCS_DIR" -p "$PROFILE" -n "$OCS_INFLIGHT" -t "$OCS_THREADS" \
    -s "$OCS_SECONDS" -w 1 -y full >"$T/ocs-$kind-$r.out" 2>&1 ||
    { cat "$T/ocs-$kind-$r.out" >&2; die "koryo-bench-ocs-load failed ($kind, round $r)"; }
  rm -rf "$OCS_DIR"
  OCS_DIR=""
  line=$(sed -n 's/^RESULT //p' "$T/ocs-$kind-$r.out")
  [ -n "$line" ] || die "koryo-bench-ocs-load printed no result ($kind, round $r)"
  echo "$kind $r $line" >>"$T/ocs-results"
  say "credit operations, store on $kind, round $r: $(sed -n 's/^durable credit operations: //p' "$T/ocs-$kind-$r.out"); $(sed -n 's/^latency request to durable answer: //p' "$T/ocs-$kind-$r.out")"
}

# ---- setup ---------------------------------------------------------------------------------
t_begin=$SECONDS
start_koryod charged on
start_koryod uncharged off
ensure_credit
allow0=$(first_caller_allowance)
for s in $SERVERS; do
  setup_register "$s" "${UAC_PORT[$s]}" "$T/users/callers.csv" callers
  setup_register "$s" "${UAS_PORT[$s]}" "$T/users/callees.csv" callees
done

# ---- calls: rounds alternating the servers ---------------------------------------------------
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then o="charged uncharged"; else o="uncharged charged"; fi
  for s in $o; do run "$s" "$r"; done
done
allow1=$(first_caller_allowance)

# ---- the ledgers: one call_end per successful call on the charged server, none on the other
stop_servers
declare -A CALLS_OK ENDS
for s in $SERVERS; do
  CALLS_OK[$s]=$(awk -v s="$s" '$1 == s { n += $6 } END { print n + 0 }' "$T/results")
  ENDS[$s]=$(sqlite3 "${DATA_OF[$s]}/koryo.db" "SELECT count(*) FROM ocs_ledger WHERE kind = 'call_end'") ||
    die "cannot read the ledger of $s"
done
say "ledger: charged ${ENDS[charged]} calls settled for ${CALLS_OK[charged]} successful; uncharged ${ENDS[uncharged]}"
[ "${ENDS[uncharged]}" = 0 ] || die "the uncharged koryod charged ${ENDS[uncharged]} calls"
# SIPp counts a call successful at its last message; the server settles at
# the BYE: the two agree unless a BYE's 200 was lost (then a retransmission)
[ "${ENDS[charged]}" -ge "${CALLS_OK[charged]}" ] ||
  die "the charged koryod settled ${ENDS[charged]} calls for ${CALLS_OK[charged]} successful ones"
calls_first=$(((allow0 - allow1) / 60))

# ---- credit operations: disk and tmpfs alternating ------------------------------------------
for ((r = 1; r <= OCS_ROUNDS; r++)); do
  if ((r % 2)); then o="disk tmpfs"; else o="tmpfs disk"; fi
  for k in $o; do ocs_run "$k" "$r"; done
done
elapsed=$((SECONDS - t_begin))

# ---- report --------------------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
sipp_version=$(dpkg-query -W -f '${Version}' sip-tester 2>/dev/null || echo unknown)
cmd="ROUNDS=$ROUNDS CALL_USERS=$CALL_USERS CALL_N=$CALL_N CALL_INFLIGHT=$CALL_INFLIGHT HOLD_MS=$HOLD_MS WORKERS=$WORKERS OCS_ROUNDS=$OCS_ROUNDS OCS_SECONDS=$OCS_SECONDS OCS_INFLIGHT=$OCS_INFLIGHT OCS_THREADS=$OCS_THREADS bench/charging_bench.sh"
cat <<EOF
### Charging: calls with and without, credit operations
Host: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); SIPp and both koryods on the same cores, UDP on loopback in a network namespace; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end.
koryod: two, identical but for charging = on / off: workers = $WORKERS, log.level = warn, store on disk ($(df -T "$DISK_DIR" | awk 'NR == 2 { print $2 }'), store.sync = full), Koryolink profile + $((USERS + 1)) imported subscribers (citizens: 200 free minutes a month).
Client: SIPp $sipp_version with the CLOCK_MONOTONIC shim, closed loop, $CALL_INFLIGHT calls in flight, hold $HOLD_MS ms, $CALL_N calls per run, $ROUNDS round(s) alternating (A B, B A, ...); medians, range in brackets; ${elapsed} s in all.
Ledger after the runs: the charged koryod settled ${ENDS[charged]} calls for ${CALLS_OK[charged]} successful (its first caller's allowance went down by $calls_first minutes), the uncharged one ${ENDS[uncharged]}.
Command: \`$cmd\`

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
function cell(s, f) { return sprintf(f " (" f "–" f ")", median(s), lo(s), hi(s)) }
# server round rate p50 p99 ok failed retrans cpu client wall uas_failed sdrops cdrops
{
  s = $1
  add(rate, s, $3); add(p50, s, $4); add(p99, s, $5); add(cpu, s, $9)
  add(uscall, s, ($6 > 0) ? 1e6 * $9 / $6 : 0)
  add(share, s, ($11 > 0) ? 100 * $10 / $11 : 0)
  bad[s] += $7 + $12; rtx[s] += $8; sdrop[s] += $13; cdrop[s] += $14
  r_of[s, $2] = $3
  if ($2 > rounds) rounds = $2
}
END {
  print "| koryod | calls per second | p50 ms | p99 ms | server CPU-s per run | server CPU µs per call | SIPp CPU % | SIPp retransmissions | UDP drops server / SIPp | failed |"
  print "|---|---|---|---|---|---|---|---|---|---|"
  n = split("charged uncharged", order, " ")
  for (i = 1; i <= n; i++) {
    s = order[i]
    if (!(s in rate)) continue
    printf "| %s | %s | %s | %s | %s | %s | %s | %d | %d / %d | %d |\n", (s == "charged") ? "charging = on" : "charging = off",
      cell(rate[s], "%.0f"), cell(p50[s], "%.2f"), cell(p99[s], "%.2f"), cell(cpu[s], "%.2f"), cell(uscall[s], "%.0f"),
      cell(share[s], "%.0f"), rtx[s], sdrop[s], cdrop[s], bad[s]
  }
  rs = ""
  for (r = 1; r <= rounds; r++)
    if (r_of["uncharged", r] + 0 > 0) rs = rs (rs == "" ? "" : " ") (r_of["charged", r] / r_of["uncharged", r])
  mu = median(rate["uncharged"]); ratio = (mu > 0) ? median(rate["charged"]) / mu : 0
  cost = 100 * (1 - ratio)
  valid = (bad["charged"] + bad["uncharged"] + rtx["charged"] + rtx["uncharged"] == 0)
  print ""
  print "| charged / uncharged calls per second: ratio of medians (per-round range) | cost of charging | target | met | CPU µs per call, charged − uncharged |"
  print "|---|---|---|---|---|"
  printf "| %.3f (%.3f–%.3f) | %.1f %% (%.1f–%.1f %%) | ≤ 20 %% | %s | %+.0f µs |\n", ratio, lo(rs), hi(rs), cost,
    100 * (1 - hi(rs)), 100 * (1 - lo(rs)), !valid ? "not valid (failures or retransmissions)" : (cost <= 20) ? "yes" : "no",
    median(uscall["charged"]) - median(uscall["uncharged"])
}' "$T/results"

echo
echo "Credit operations (koryo-bench-ocs-load: ocs_call_reserve slice 0 then ocs_call_end, $OCS_INFLIGHT sessions in flight, $OCS_THREADS driver threads, Koryolink's 900 subscribers, store.sync = full, ${OCS_SECONDS} s measured per run after 1 s, $OCS_ROUNDS round(s); each operation counted when charging reports it durable):"
echo
awk '
function median(s,    a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(s,    a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function hi(s,    a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
function add(k, name, v) { key = k SUBSEP name; val[key] = (key in val) ? val[key] " " v : v }
function cell(k, name, f) { key = k SUBSEP name; return sprintf(f " (" f "–" f ")", median(val[key]), lo(val[key]), hi(val[key])) }
# kind round key=value...
{
  for (i = 3; i <= NF; i++) { split($i, kv, "="); add($1, kv[1], kv[2]); if (kv[1] == "refused") refused[$1] += kv[2] }
  if ($1 == "disk" || $1 == "tmpfs") seen[$1] = 1
  ops = 0; cpu = 0
  for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "ops_per_s") ops = kv[2]; if (kv[1] == "cpu_s") cpu = kv[2]; if (kv[1] == "seconds") secs = kv[2] }
  add($1, "per_cpu", (cpu > 0) ? ops * secs / cpu : 0)
}
END {
  print "| store | operations per second | of which reserve / end | p50 ms | p99 ms | commits per second | rows per commit | operations per CPU-second | refused |"
  print "|---|---|---|---|---|---|---|---|---|"
  n = split("disk tmpfs", order, " ")
  for (i = 1; i <= n; i++) {
    k = order[i]
    if (!(k in seen)) continue
    printf "| %s | %s | %.0f / %.0f | %s | %s | %s | %s | %s | %d |\n", (k == "disk") ? "disk (fsync)" : "tmpfs",
      cell(k, "ops_per_s", "%.0f"), median(val[k SUBSEP "reserve_per_s"]), median(val[k SUBSEP "end_per_s"]),
      cell(k, "p50_ms", "%.2f"), cell(k, "p99_ms", "%.2f"), cell(k, "commits_per_s", "%.0f"),
      cell(k, "rows_per_commit", "%.1f"), cell(k, "per_cpu", "%.0f"), refused[k]
  }
}' "$T/ocs-results"
