#!/bin/bash
# sip_bench.sh: koryod's SIP registrar and proxy against Kamailio 5.6, the
# same load from the same client (SIPp), in one run.
#
# Usage: bench/sip_bench.sh [--quick] [--help]
#
# Modes (each a closed loop: SIPp keeps IN_FLIGHT calls going, -r 100000 -l N):
#   register  REGISTER with digest (401 challenge, answer, 200), over the
#             "registering" users; a registration = both round trips
#   call      INVITE / 100 / 180 / 200 / ACK, HOLD_MS hold, BYE / 200 through
#             the proxy (record-routed) to a SIPp UAS that registered the
#             callees first; the callers are registered too
#   message   a text/plain MESSAGE from a registered subscriber to another
#             one, MSG_USERS senders and as many recipients (SIPp's UAS),
#             each message to a different one of the recipients. Kamailio
#             relays it statefully to the recipient, whose 200 is the answer.
#             koryod's SMS centre checks it, stores it durably (group commit,
#             fsync) and answers 202, then delivers it to the recipient's
#             contact as a MESSAGE of its own, which the UAS answers 200.
#             The rate counts the final answers (202 or 200); for koryod the
#             run then waits (DRAIN_TIMEOUT at most) until koryod's
#             /metrics count every accepted message delivered
#             (koryo_sms_delivered_total), and reports the wait, the count
#             the UAS answered, and the rate end to end (delivered over
#             SIPp's run plus the wait). The server's CPU is read after it.
#             An accepted message not delivered by then counts as lost (a
#             failure: the mode is not valid).
#   aka       REGISTER with Digest AKAv1-MD5 (koryod only: Kamailio has no
#             AuC), over AKA_SIMS imported SIMs, each from a loopback
#             address of its own (SIPp -t ui), as phones are
# Servers, side by side, each on its own UDP port of 127.0.0.1:
#   koryod    fresh data dir, Koryolink profile, WORKERS workers (default 2,
#             koryod's default), log.level = warn, charging = off (Kamailio
#             charges nothing: the comparison stays like for like; what
#             charging costs is bench/charging_bench.sh's); USERS subscribers
#             imported with a sip_password (docs/import.md). KORYOD_STORE: "disk" (as
#             shipped: store.sync = full, the data dir under DISK_DIR; every
#             REGISTER's 200 waits for its binding to be fsynced) or "tmpfs"
#             (/dev/shm: CPU-bound, like Kamailio's usrloc in memory)
#   kamailio  bench/sip/kamailio.cfg.in: children = WORKERS, 1024 MB shared
#             memory, auth_db on SQLite with precomputed HA1, usrloc in memory,
#             registrar save(), lookup() and stateful relay, record-route,
#             dialog; the same USERS with the same passwords
# Each mode runs ROUNDS rounds alternating the servers (A B, B A, ...); the
# figures are medians over the rounds with their range, and the ratios
# koryod / Kamailio. Per run: operations per second (successful ones, from
# SIPp's per-call response-time log, the first 10 % left out as warm-up),
# p50 and p99 response time, SIPp's retransmissions (non-zero: a message was
# lost or late by 500 ms, the run was overloaded and its figure is not valid),
# failed calls, the server's CPU seconds from /proc (all its processes and
# threads) and SIPp's own CPU seconds (a client near 100 % of a core is the
# limit, not the server).
# Targets: koryod >= 1.5x Kamailio on REGISTER, >= 1.0x on calls (issue 4);
# MESSAGE accepted per second (koryod storing every message durably before
# its 202, Kamailio relaying) >= 1.0x (issue 6); with no SIPp
# retransmission and, for MESSAGE, every accepted message delivered.
# Also per run, for MESSAGE: the host's busy cores and how many of them
# other processes than the server and SIPp used (other jobs on a shared
# host: noise), and koryod's busiest threads (% of one core each).
#
# Also per run: datagrams the kernel dropped because a receive buffer was
# full, on the server's socket(s) and on SIPp's (the usual cause of
# retransmissions: 800 INVITEs at once need MBs of socket buffer; SIPp asks
# for 4 MB, Kamailio's config probes up to 4 MB, both capped by
# net.core.rmem_max).
#
# SIPp reads CLOCK_MONOTONIC_COARSE (4 ms steps); it runs with the LD_PRELOAD
# shim bench/sip_clock_shim.c for microsecond response times. SIPp 3.6.1
# answers about 3 % of AKA challenges wrongly (RES with a 0x00 byte): the aka
# mode logs each rejection and sorts them: RES with a zero byte (SIPp's bug,
# checked with koryo auc-gen), koryod's limiter (403 with Retry-After, or to
# the first REGISTER), anything else (an error).
#
# Everything runs in a network namespace that has only loopback (needs root):
# a stray send fails instead of leaving the machine.
#
# Builds nothing: make bench (or cmake --build) first. Environment (defaults
# in brackets):
#   BUILD [build-bench]: KORYOD, KORYO, SHIM [BUILD/koryod, BUILD/koryo,
#     BUILD/libkoryo-sip-clock-shim.so]   KAMAILIO [/usr/sbin/kamailio]
#   SIPP [sipp]   SERVERS ["koryod kamailio"]   MODES ["register call message aka"]
#   ROUNDS [7]  USERS [10000]  CALL_USERS [1000] (callers, and as many callees)
#   MSG_USERS [25000] MESSAGE senders, and as many recipients (imported and
#     registered only when MODES has message, after the USERS); koryod's
#     profile refuses more than 30 messages a minute from one sender (its
#     sms_limits.csv), and SIPp takes the senders in order, MSG_N per run
#   DRAIN_TIMEOUT [60] s: how long koryod may take to deliver, after a run
#   PAUSE [0.5] s before each run (e.g. 35: the transactions of the previous
#     run have ended, RFC 3261 timer J is 32 s)
#   AKA_SIMS [2000]
#   REG_N [60000] CALL_N [13000] MSG_N [70000] AKA_N [20000] calls per run
#   REG_INFLIGHT [100] CALL_INFLIGHT [800] MSG_INFLIGHT [100] AKA_INFLIGHT [100]
#   KORYOD_STORE [disk]  DISK_DIR [/var/tmp] (must not be tmpfs)
#   HOLD_MS [200]  WORKERS [2]  KAM_SHM_MB [1024]  RUN_TIMEOUT [120] s per
#   SIPp run   BUDGET [900] s: no run starts after that   KEEP [0]: 1 keeps
#   the logs (kept anyway after a failure, a failed call or a retransmission)
# --quick: ROUNDS=1 and a fifth of the calls per run (under a minute).
# Prints a result block for docs/performance.md on stdout, progress on
# stderr. Not a test: it fails only when something does not work (a server
# does not start, SIPp cannot run, a setup registration fails), never
# because a target is missed.
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
    echo "sip_bench: unknown argument $a (try --help)" >&2
    exit 2
    ;;
  esac
done

BUILD=${BUILD:-$SRC/build-bench}
KORYOD=${KORYOD:-$BUILD/koryod}
KORYO=${KORYO:-$BUILD/koryo}
SHIM=${SHIM:-$BUILD/libkoryo-sip-clock-shim.so}
# SIPp runs in a directory of its own (it writes its response-time log to
# the current one): every path it or LD_PRELOAD sees must be absolute
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
KORYOD=$(abs "$KORYOD") KORYO=$(abs "$KORYO") SHIM=$(abs "$SHIM")
KAMAILIO=${KAMAILIO:-/usr/sbin/kamailio}
KAM_SQL=${KAM_SQL:-/usr/share/kamailio/db_sqlite}
SIPP=${SIPP:-sipp}
SERVERS=${SERVERS:-koryod kamailio}
MODES=${MODES:-register call message aka}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1}
  REG_N=${REG_N:-12000} CALL_N=${CALL_N:-2600} MSG_N=${MSG_N:-14000} AKA_N=${AKA_N:-4000}
else
  ROUNDS=${ROUNDS:-7}
  REG_N=${REG_N:-60000} CALL_N=${CALL_N:-13000} MSG_N=${MSG_N:-70000} AKA_N=${AKA_N:-20000}
fi
USERS=${USERS:-10000}
MSG_USERS=${MSG_USERS:-25000}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-60}
PAUSE=${PAUSE:-0.5}
CALL_USERS=${CALL_USERS:-1000}
AKA_SIMS=${AKA_SIMS:-2000}
REG_INFLIGHT=${REG_INFLIGHT:-100}
CALL_INFLIGHT=${CALL_INFLIGHT:-800}
MSG_INFLIGHT=${MSG_INFLIGHT:-100}
AKA_INFLIGHT=${AKA_INFLIGHT:-100}
HOLD_MS=${HOLD_MS:-200}
WORKERS=${WORKERS:-2}
KAM_SHM_MB=${KAM_SHM_MB:-1024}
KORYOD_STORE=${KORYOD_STORE:-disk}
DISK_DIR=${DISK_DIR:-/var/tmp}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
BUDGET=${BUDGET:-900}
START_TIMEOUT=${START_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-300}
DOMAIN=koryo.local
PROFILE=$SRC/profiles/koryolink
SCEN=$SRC/bench/sip

BENCH=sip_bench # lib.sh's messages
# shellcheck source=bench/lib.sh
. "$SRC/bench/lib.sh"
has() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
has_mode() { case " $MODES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for v in ROUNDS USERS MSG_USERS DRAIN_TIMEOUT CALL_USERS AKA_SIMS REG_N CALL_N MSG_N AKA_N REG_INFLIGHT CALL_INFLIGHT MSG_INFLIGHT \
  AKA_INFLIGHT HOLD_MS WORKERS KAM_SHM_MB RUN_TIMEOUT BUDGET; do
  case "${!v}" in '' | *[!0-9]*) die "$v must be a number, not '${!v}'" ;; esac
  [ "${!v}" -gt 0 ] || die "$v must be above 0"
done
for s in $SERVERS; do case "$s" in koryod | kamailio) ;; *) die "unknown server $s in SERVERS" ;; esac; done
for m in $MODES; do case "$m" in register | call | message | aka) ;; *) die "unknown mode $m in MODES" ;; esac; done
[ "$HOLD_MS" -ge 100 ] || die "HOLD_MS must be at least 100 (ACK and BYE would cross at the proxy)"
case "$PAUSE" in '' | *[!0-9.]*) die "PAUSE must be a number of seconds, not '$PAUSE'" ;; esac
case "$KORYOD_STORE" in
disk)
  STORE_BASE=$DISK_DIR
  [ "$(stat -f -c %T "$DISK_DIR")" != tmpfs ] || die "DISK_DIR $DISK_DIR is on tmpfs; give a directory on a disk"
  ;;
tmpfs) STORE_BASE=/dev/shm ;;
*) die "KORYOD_STORE must be disk or tmpfs" ;;
esac

# ---- outside: checks, then the same script in a loopback-only namespace -------
if [ "$INNER" = 0 ]; then
  need=("$SHIM")
  has koryod && need+=("$KORYOD" "$KORYO")
  has kamailio && need+=("$KAMAILIO")
  for b in "${need[@]}"; do [ -e "$b" ] || die "no $b (set BUILD, KORYOD, KORYO, SHIM or KAMAILIO; make bench builds them)"; done
  command -v "$SIPP" >/dev/null || die "no sipp (scripts/deps.sh test installs sip-tester)"
  for c in perl curl sqlite3 ss pgrep /usr/bin/time ip base64 od; do command -v "$c" >/dev/null || die "$c is needed (scripts/deps.sh bench)"; done
  perl -MDigest::MD5 -e 1 2>/dev/null || die "perl's Digest::MD5 is needed (scripts/deps.sh bench)"
  if has kamailio; then
    [ -r "$KAM_SQL/auth_db-create.sql" ] || die "no Kamailio SQLite schema in $KAM_SQL (kamailio-sqlite-modules)"
  fi
  [ "$(id -u)" = 0 ] || die "needs root, for the network namespace"
  # SIPp (-buff_size) and Kamailio (maxbuffer) ask for 4 MB UDP buffers and
  # get at most net.core.rmem_max: smaller ones drop datagrams in bursts
  # (800 INVITEs at once), and each drop is a 500 ms retransmission
  [ "$(cat /proc/sys/net/core/rmem_max)" -ge 4194304 ] ||
    say "net.core.rmem_max is $(cat /proc/sys/net/core/rmem_max), below 4194304: expect retransmissions (sysctl -w net.core.rmem_max=4194304)"
  NS=koryo-sip-bench-$$
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

KAM_PID=""
UAS_PID=""
stop_uas() {
  [ -n "$UAS_PID" ] || return 0
  local pid=$UAS_PID i
  UAS_PID=""
  # SIGUSR1: SIPp stops taking calls, ends those under way, writes its
  # statistics and exits
  kill -USR1 "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
bench_stop() {
  stop_uas
  koryod_stop
  if [ -n "$KAM_PID" ]; then
    stop_pid "$KAM_PID" kamailio
    KAM_PID=""
  fi
}
bench_tmpdir "${TMPDIR:-/tmp}/koryo-sip-bench"
# Logs and SIPp's files stay when something went wrong (or KEEP=1)
KEEP=${KEEP:-0}
KORYOD_DATA=""
trap 'rc=$?; bench_stop || true; [ -z "$KORYOD_DATA" ] || rm -rf "$KORYOD_DATA"
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
# server_cpu PID: CPU seconds (user + system) of PID and its child processes
# (Kamailio forks its workers; koryod's threads are counted in its own line)
server_cpu() {
  local f=(/proc/"$1"/stat) c
  for c in $(pgrep -P "$1" || true); do f+=("/proc/$c/stat"); done
  cat "${f[@]}" 2>/dev/null | awk -v hz="$HZ" '{ sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%.2f", t / hz }'
}

# thread_ticks PID: "TID TICKS" per thread of PID (user + system)
thread_ticks() {
  local f
  for f in /proc/"$1"/task/*/stat; do cat "$f" 2>/dev/null; done |
    awk '{ tid = $1; sub(/^.*\) /, ""); print tid, $12 + $13 }'
}
# host_ticks: "BUSY TOTAL" jiffies of all CPUs (from /proc/stat; idle and
# iowait are not busy)
host_ticks() { awk '$1 == "cpu" { t = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; print t - $5 - $6, t }' /proc/stat; }
# thread_share BEFORE AFTER SECONDS: the busiest threads' CPU over SECONDS,
# in % of one core, busiest first (e.g. "61 38 12 3")
thread_share() {
  awk -v secs="$3" -v hz="$HZ" 'NR == FNR { b[$1] = $2; next }
    { d = $2 - b[$1]; if (d > 0) print d }' <(echo "$1") <(echo "$2") | sort -rn | head -5 |
    awk -v secs="$3" -v hz="$HZ" '{ printf "%s%.0f", (NR > 1 ? "/" : ""), (secs > 0) ? 100 * $1 / hz / secs : 0 } END { if (NR == 0) printf "-" }'
}

# udp_drops PORT...: datagrams the kernel dropped (receive buffer full) on
# the UDP sockets bound to these ports, since each was opened;
# udp_drops_all: on every UDP socket of the namespace, closed ones included
udp_drops_all() { awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
udp_drops() {
  awk -v ports="$*" 'BEGIN { n = split(ports, p, " "); for (i = 1; i <= n; i++) want[sprintf("%04X", p[i])] = 1 }
    NR > 1 { split($2, a, ":"); if (a[2] in want) d += $NF } END { print d + 0 }' /proc/net/udp
}

# The MESSAGE users exist only when the mode runs (the others import less)
MSG_USERS_NOW=0
has_mode message && MSG_USERS_NOW=$MSG_USERS
say "generating $((USERS + 2 * MSG_USERS_NOW)) users"
mkdir -p "$T/users"
perl "$SCEN/gen_users.pl" "$T/users" "$USERS" "$CALL_USERS" "$AKA_SIMS" "$DOMAIN" "$MSG_USERS_NOW" >"$T/users/summary" ||
  die "bench/sip/gen_users.pl failed"
# koryod refuses (403) a sender's messages beyond the profile's flood limit:
# say so before the runs if the bench would reach it
if has_mode message && has koryod && [ -r "$PROFILE/sms_limits.csv" ]; then
  read -r FLOOD_N FLOOD_S < <(awk -F, 'NR == 2 { print $1 + 0, $2 + 0 }' "$PROFILE/sms_limits.csv") || true
  per_sender=$(((MSG_N + MSG_USERS - 1) / MSG_USERS * ROUNDS))
  if [ "${FLOOD_N:-0}" -gt 0 ] && [ "$per_sender" -gt "$FLOOD_N" ]; then
    say "MESSAGE: up to $per_sender messages per sender over the $ROUNDS rounds, above the profile's flood limit ($FLOOD_N in ${FLOOD_S}s): expect 403s (raise MSG_USERS)"
  fi
fi
say "$(cat "$T/users/summary")"

declare -A SIP_PORT REG_PORT UAC_PORT UAS_PORT AKA_PORT PID_OF
for s in $SERVERS; do
  SIP_PORT[$s]=$(udp_port) REG_PORT[$s]=$(udp_port) UAC_PORT[$s]=$(udp_port)
  UAS_PORT[$s]=$(udp_port) AKA_PORT[$s]=$(udp_port)
done

start_koryod() {
  local api_port
  api_port=$(free_port)
  KORYOD_DATA=$(mktemp -d "$STORE_BASE/koryo-sip-bench-data.XXXXXX")
  koryod_config "$T/koryod.conf" "$KORYOD_DATA" "$api_port" warn \
    "sip.listen = 127.0.0.1:${SIP_PORT[koryod]}" "sip.domain = $DOMAIN" "charging = off"
  koryod_start "$T/koryod.conf" "$T/koryod.log" --profile "$PROFILE"
  say "importing $((USERS + 2 * MSG_USERS_NOW)) subscribers and $AKA_SIMS SIMs into koryod (pid $KORYOD_PID)"
  timeout "$IMPORT_TIMEOUT" "$KORYO" import subscribers --no-progress "$T/users/koryod.csv" >"$T/import.out" 2>&1 ||
    { cat "$T/import.out" >&2; die "koryo import failed"; }
  grep -q "imported $((USERS + 2 * MSG_USERS_NOW + AKA_SIMS)) subscribers" "$T/import.out" ||
    die "unexpected answer from koryo import: $(cat "$T/import.out")"
  wait_udp "${SIP_PORT[koryod]}" "$KORYOD_PID" koryod "$T/koryod.log"
  PID_OF[koryod]=$KORYOD_PID
  say "koryod pid $KORYOD_PID on 127.0.0.1:${SIP_PORT[koryod]}, data in $KORYOD_DATA ($KORYOD_STORE)"
}

start_kamailio() {
  local d=$T/kamailio
  mkdir -p "$d/run"
  {
    cat "$KAM_SQL/standard-create.sql" "$KAM_SQL/auth_db-create.sql"
    cat "$T/users/kamailio.sql"
  } | sqlite3 "$d/kamailio.db" || die "cannot create Kamailio's database"
  sed -e "s|@PORT@|${SIP_PORT[kamailio]}|g" -e "s|@DB@|$d/kamailio.db|g" -e "s|@DOMAIN@|$DOMAIN|g" \
    -e "s|@CHILDREN@|$WORKERS|g" "$SCEN/kamailio.cfg.in" >"$d/kamailio.cfg"
  "$KAMAILIO" -c -f "$d/kamailio.cfg" >"$d/check.log" 2>&1 || { cat "$d/check.log" >&2; die "kamailio -c refused the config"; }
  # -DD: stays in the foreground as this script's child (its workers are
  # its children), so it is stopped and measured by its PID
  "$KAMAILIO" -f "$d/kamailio.cfg" -DD -E -m "$KAM_SHM_MB" -Y "$d/run" -P "$d/run/kamailio.pid" \
    >>"$T/kamailio.log" 2>&1 &
  KAM_PID=$!
  wait_udp "${SIP_PORT[kamailio]}" "$KAM_PID" kamailio "$T/kamailio.log"
  PID_OF[kamailio]=$KAM_PID
  say "kamailio pid $KAM_PID on 127.0.0.1:${SIP_PORT[kamailio]} ($(pgrep -P "$KAM_PID" | wc -l) child processes)"
}

# sipp_cmd SERVER LOCAL_PORT SCENARIO [ARG...]: SIPp as a client of SERVER
# from 127.0.0.1:LOCAL_PORT, with the clock shim (as a command line, on stdout)
SIPP_COMMON=(-i 127.0.0.1 -t u1 -nostdin -nd -buff_size 4194304 -key domain "$DOMAIN" -key expires 3600)

# setup_register SERVER PORT FILE NAME: registers every user of FILE from
# PORT; all must succeed (a failure here is a broken setup, not a figure)
setup_register() {
  local s=$1 port=$2 file=$3 name=$4 n rc=0 d
  d=$T/setup-$1-${4// /-}
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

# start_uas SERVER SCENARIO DIR: the SIPp UAS on the callees' port
start_uas() {
  local s=$1 sf=$2 d=$3 i
  (cd "$d" && exec "$SIPP" "${SIPP_COMMON[@]}" -p "${UAS_PORT[$s]}" -sf "$SCEN/$sf" \
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

# sms_metrics: koryod's SMS centre counters from /metrics, on one line:
# submitted delivered relayed waiting in_flight attempts retries refused
# given_up commits statements responses_5xx has_sms (1: the koryo_sms_
# family is there). "delivered" is
# koryo_sms_delivered_total, or koryo_sip_messages_relayed_total (MESSAGEs
# koryod delivered to a phone) when koryod has no koryo_sms_ family.
sms_metrics() {
  curl -fsS --max-time 5 -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" "$KORYO_API/metrics" |
    awk '$1 !~ /^#/ { v[$1] = $2 }
      END {
        d = ("koryo_sms_delivered_total" in v) ? v["koryo_sms_delivered_total"] : v["koryo_sip_messages_relayed_total"]
        printf "%d %d %d %d %d %d %d %d %d %d %d %d %d\n", v["koryo_sms_submitted_total"], d,
          v["koryo_sip_messages_relayed_total"], v["koryo_sms_waiting"], v["koryo_sms_deliveries_in_flight"],
          v["koryo_sms_delivery_attempts_total"], v["koryo_sms_delivery_retries_total"],
          v["koryo_sms_refused_total"] + v["koryo_sms_no_credit_total"],
          v["koryo_sms_failed_total"] + v["koryo_sms_expired_total"],
          v["koryo_store_queue_batches_total"], v["koryo_store_queue_statements_total"],
          v["koryo_sip_responses_total{class=\"5xx\"}"], ("koryo_sms_submitted_total" in v) }'
}

# run MODE SERVER ROUND: one measured SIPp run; appends a line to $T/results
run() {
  local mode=$1 s=$2 r=$3 d=$T/run-$1-$2-$3 pid=${PID_OF[$2]} port sf inf n inflight extra=() rc=0
  local cpu0 cpu1 ok failed retrans client uas_failed=0 rej=0 rtt stats rate pcts p50 p99 cpu wall opc
  local sdrop0 sdrop1 cdrop0 cdrop1 sdrops cdrops
  local th0 th1 host0 host1 hb0 ht0 hb1 ht1 t0 threads=- hostbusy=0 uas0 uas1 others
  local m0=() m1=() mt t_end drain=0 uas_ok=0 accepted delivered=0 lost=0 e2e=0 sms="- - - - - - - - - - - -"
  [ $SECONDS -lt "$BUDGET" ] || die "over the time budget (${BUDGET}s) before $mode $s round $r"
  kill -0 "$pid" 2>/dev/null || die "$s (pid $pid) is gone"
  mkdir -p "$d"
  case $mode in
  register) port=${REG_PORT[$s]} sf=reg_digest.xml inf=$T/users/register.csv n=$REG_N inflight=$REG_INFLIGHT ;;
  call) port=${UAC_PORT[$s]} sf=uac_call.xml inf=$T/users/pairs.csv n=$CALL_N inflight=$CALL_INFLIGHT extra=(-d "$HOLD_MS") ;;
  message) port=${UAC_PORT[$s]} sf=uac_message.xml inf=$T/users/msg_pairs.csv n=$MSG_N inflight=$MSG_INFLIGHT ;;
  aka) port=${AKA_PORT[$s]} sf=reg_aka.xml inf=$T/users/aka.csv n=$AKA_N inflight=$AKA_INFLIGHT extra=(-t ui -ip_field 2 -max_socket 8192 -trace_logs -log_file "$d/aka.log") ;;
  esac
  case $mode in call) start_uas "$s" uas_call.xml "$d" ;; message) start_uas "$s" uas_message.xml "$d" ;; esac
  sleep "$PAUSE" # the server settles after the previous run
  cpu0=$(server_cpu "$pid")
  sdrop0=$(udp_drops "${SIP_PORT[$s]}")
  cdrop0=$(udp_drops_all)
  if [ "$mode" = message ] && [ "$s" = koryod ]; then
    mt=$(sms_metrics) || die "koryod's /metrics did not answer"
    read -ra m0 <<<"$mt"
  fi
  th0=$(thread_ticks "$pid") host0=$(host_ticks) t0=$EPOCHREALTIME uas0=0
  [ -z "$UAS_PID" ] || uas0=$(server_cpu "$UAS_PID")
  (cd "$d" && LD_PRELOAD=$SHIM /usr/bin/time -f 'TIME %e %U %S' -o "$d/time" \
    timeout "$RUN_TIMEOUT" "$SIPP" "127.0.0.1:${SIP_PORT[$s]}" "${SIPP_COMMON[@]}" -p "$port" \
    -sf "$SCEN/$sf" -inf "$inf" -m "$n" -l "$inflight" -r 100000 -recv_timeout 10000 "${extra[@]}" \
    -trace_err -error_file "$d/err" -trace_stat -stf "$d/stat.csv" -fd 3600 -trace_rtt -rtt_freq 1000 \
    >"$d/out" 2>&1) || rc=$?
  t_end=$EPOCHREALTIME
  # koryod has answered 202 to what it stored: wait until it has delivered
  # as many as it accepted in this run (SIPp's count of 202s, or its own
  # count if higher), or DRAIN_TIMEOUT, before its CPU is read and the UAS
  # stopped
  if [ ${#m0[@]} -gt 0 ]; then
    accepted=0
    [ ! -s "$d/stat.csv" ] || accepted=$(last_stat "$d/stat.csv" 16)
    while :; do
      mt=$(sms_metrics) || die "koryod's /metrics did not answer"
      read -ra m1 <<<"$mt"
      [ $((m1[1] - m0[1])) -lt $((m1[0] - m0[0])) ] || [ $((m1[1] - m0[1])) -lt "$accepted" ] || break
      awk -v a="$t_end" -v b="$EPOCHREALTIME" -v t="$DRAIN_TIMEOUT" 'BEGIN { exit !(b - a > t) }' && break
      sleep 0.05
    done
    drain=$(awk -v a="$t_end" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
  fi
  cpu1=$(server_cpu "$pid")
  th1=$(thread_ticks "$pid") host1=$(host_ticks) uas1=0
  [ -z "$UAS_PID" ] || uas1=$(server_cpu "$UAS_PID")
  t0=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  # koryod's busiest threads (Kamailio's are processes: its total is cpu)
  [ "$s" != koryod ] || threads=$(thread_share "$th0" "$th1" "$t0")
  read -r hb0 ht0 <<<"$host0"
  read -r hb1 ht1 <<<"$host1"
  hostbusy=$(awk -v b=$((hb1 - hb0)) -v t=$((ht1 - ht0)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (t > 0) ? n * b / t : 0 }')
  sdrop1=$(udp_drops "${SIP_PORT[$s]}")
  cdrop1=$(udp_drops_all)
  # SIPp's sockets are closed by now: theirs are all the others of the run
  sdrops=$((sdrop1 - sdrop0)) cdrops=$((cdrop1 - cdrop0 - sdrop1 + sdrop0))
  stop_uas
  # 124: timeout; anything but SIPp's 0 (all calls succeeded) and 1 (some
  # failed, counted below) means SIPp itself did not run
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    tail -20 "$d/out" >&2
    head -20 "$d/err" >&2 2>/dev/null || true
    die "$s $mode round $r: SIPp status $rc (124: over ${RUN_TIMEOUT}s)"
  fi
  [ -s "$d/stat.csv" ] || { tail -20 "$d/out" >&2; die "$s $mode round $r: SIPp wrote no statistics"; }
  ok=$(last_stat "$d/stat.csv" 16)
  failed=$(last_stat "$d/stat.csv" 18)
  retrans=$(last_stat "$d/stat.csv" 58)
  [ ! -s "$d/uas-stat.csv" ] || uas_failed=$(last_stat "$d/uas-stat.csv" 18)
  [ ! -s "$d/uas-stat.csv" ] || uas_ok=$(last_stat "$d/uas-stat.csv" 16)
  [ ! -s "$d/aka.log" ] || rej=$(grep -c '^AKA-REJECTED ' "$d/aka.log" || true)
  client=$(awk '$1 == "TIME" { printf "%.2f", $3 + $4 }' "$d/time")
  # cores the rest of the host used meanwhile (other jobs: noise), from the
  # host's busy time less the server's, SIPp's and the UAS's
  others=$(awk -v hb="$hostbusy" -v t="$t0" -v s="$cpu0" -v S="$cpu1" -v c="$client" -v u="$uas0" -v U="$uas1" \
    'BEGIN { o = (t > 0) ? (hb * t - (S - s) - c - (U - u)) / t : 0; printf "%.2f", (o < 0) ? 0 : o }')
  # rate over the successful calls after the first 10 % (ramp-up); the
  # percentiles over all of them. No file: no call succeeded.
  rtt=("$d"/*_rtt.csv)
  rate=0 p50=0 p99=0
  if [ -f "${rtt[0]}" ]; then
    stats=$(awk -F';' 'NR > 1 && $1 != "" { d[++n] = $1 }
      END {
        if (n < 10) { print 0; exit }
        i0 = int(n / 10) + 1
        span = (d[n] - d[i0]) / 1000
        print (span > 0) ? (n - i0) / span : 0
      }' "${rtt[0]}")
    read -r rate <<<"$stats"
    pcts=$(awk -F';' 'NR > 1 && $2 != "" { print $2 }' "${rtt[0]}" | sort -n | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "0 0"; exit }
      i = int(NR * 0.50 + 0.5); if (i < 1) i = 1; j = int(NR * 0.99 + 0.5); if (j < 1) j = 1
      print v[i], v[j] }')
    read -r p50 p99 <<<"$pcts"
  fi
  cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')
  wall=$(awk '$1 == "TIME" { print $2 }' "$d/time")
  # ops per server CPU-second: successful operations over the whole run
  opc=$(awk -v ok="$ok" -v rej="$rej" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0) ? (ok - rej) / c : 0 }')
  # MESSAGE: accepted = the successful answers (202 or 200); delivered =
  # koryod's count of messages delivered in this run, Kamailio's = what the
  # UAS answered; lost = accepted and not delivered; end to end = delivered
  # over SIPp's run and the wait for the deliveries
  if [ "$mode" = message ]; then
    accepted=$ok delivered=$uas_ok
    if [ ${#m1[@]} -gt 0 ]; then
      delivered=$((m1[1] - m0[1]))
      # submitted attempts retries refused given-up commits statements 5xx, waiting at the end
      sms="$((m1[0] - m0[0])) $((m1[5] - m0[5])) $((m1[6] - m0[6])) $((m1[7] - m0[7])) $((m1[8] - m0[8])) $((m1[9] - m0[9])) $((m1[10] - m0[10])) $((m1[11] - m0[11])) ${m1[3]} ${m1[4]} ${m1[12]} $((m1[2] - m0[2]))"
    fi
    [ "$delivered" -ge "$accepted" ] || lost=$((accepted - delivered))
    e2e=$(awk -v n="$delivered" -v w="$wall" -v dr="$drain" 'BEGIN { printf "%.0f", (w + dr > 0) ? n / (w + dr) : 0 }')
  fi
  echo "$mode $s $r $rate $p50 $p99 $((ok - rej)) $failed $retrans $cpu $opc $client $wall $uas_failed $rej $sdrops $cdrops $lost ${delivered:-0} $uas_ok $drain $e2e $sms $threads $hostbusy $others" >>"$T/results"
  say "$(printf '%-8s %-8s round %d: %8.0f /s  p50 %6.2f ms  p99 %7.2f ms  ok %d failed %d retrans %d uas-failed %d%s  UDP drops server %d SIPp %d  server %.1f cpu-s  sipp %.1f cpu-s / %.1f s' \
    "$mode" "$s" "$r" "$rate" "$p50" "$p99" "$((ok - rej))" "$failed" "$retrans" "$uas_failed" \
    "$([ "$mode" = aka ] && echo " rejected $rej")" "$sdrops" "$cdrops" "$cpu" "$client" "$wall")"
  say "$(printf '         host: %.2f of %d cores busy, %.2f of them by other processes than the server and SIPp%s' "$hostbusy" "$(nproc)" "$others" "$([ "$s" != koryod ] || echo "; koryod's busiest threads, % of a core: $threads")")"
  [ "$mode" != message ] ||
    say "$(printf '         delivered %d (UAS answered %d, lost %d), drain %.2f s, end to end %.0f /s; koryod: submitted attempts retries refused given-up commits statements 5xx waiting in-flight has-sms-metrics relayed: %s' \
      "$delivered" "$uas_ok" "$lost" "$drain" "$e2e" "$sms")"
  if [ "$failed" -gt 0 ] || [ "$uas_failed" -gt 0 ] || [ "$retrans" -gt 0 ] || [ "$lost" -gt 0 ]; then
    KEEP=1
    say "  SIPp's errors are in $d/err and uas-err; the first:"
    grep -v '^The following events' "$d/err" 2>/dev/null | head -c 600 >&2 || true
    echo >&2
  fi
  [ "$mode" != aka ] || cat "$d/aka.log" >>"$T/aka-rejected.log" 2>/dev/null || true
}

# ---- servers and their registered callers and callees ------------------------------
t_begin=$SECONDS
has koryod && start_koryod
has kamailio && start_kamailio
for s in $SERVERS; do
  if has_mode call; then
    setup_register "$s" "${UAC_PORT[$s]}" "$T/users/callers.csv" callers
    setup_register "$s" "${UAS_PORT[$s]}" "$T/users/callees.csv" callees
  fi
  if has_mode message; then
    setup_register "$s" "${UAC_PORT[$s]}" "$T/users/msg_senders.csv" "MESSAGE senders"
    setup_register "$s" "${UAS_PORT[$s]}" "$T/users/msg_recipients.csv" "MESSAGE recipients"
  fi
done

for mode in $MODES; do
  order=$SERVERS
  if [ "$mode" = aka ]; then
    has koryod || { say "aka: koryod is not in SERVERS, skipped"; continue; }
    order=koryod
  fi
  for ((r = 1; r <= ROUNDS; r++)); do
    o=$order
    ((r % 2)) || o=$(echo "$order" | awk '{ for (i = NF; i >= 1; i--) printf "%s%s", $i, (i > 1 ? " " : "") }')
    for s in $o; do run "$mode" "$s" "$r"; done
  done
done

# Each AKA rejection: a 403 to the first REGISTER, or one with Retry-After,
# is koryod's limiter; otherwise, was RES (from the nonce's RAND, the SIM's K and OP) one with a
# 0x00 byte, which SIPp 3.6.1 answers wrongly?
AKA_ZERO=0 AKA_LIMITED=0 AKA_OTHER=0
if [ -s "$T/aka-rejected.log" ]; then
  say "aka: checking $(wc -l <"$T/aka-rejected.log") rejections"
  while read -r _ imsi status nonce retry; do
    if [ "$status" = 403-unchallenged ] || { [ "$status" = 403 ] && [ "$retry" != retry-after= ]; }; then
      AKA_LIMITED=$((AKA_LIMITED + 1))
      continue
    fi
    nonce=${nonce#nonce=\"}
    nonce=${nonce%\"}
    rand=$(printf '%s' "$nonce" | base64 -d 2>/dev/null | od -An -tx1 -N16 | tr -d ' \n')
    keys=$(awk -v i="$imsi" '$1 == i { print $2, $3, $4 }' "$T/users/aka-keys.tsv")
    res=""
    if [ ${#rand} = 32 ] && [ -n "$keys" ]; then
      read -r k op amf <<<"$keys"
      res=$("$KORYO" auc-gen --k "$k" --op "$op" --amf "$amf" --sqn 0 --rand "$rand" 2>/dev/null | sed -n 's/^RES: //p')
    fi
    if [ -n "$res" ] && echo "$res" | grep -Eq '^([0-9a-f]{2})*00'; then
      AKA_ZERO=$((AKA_ZERO + 1))
    else
      AKA_OTHER=$((AKA_OTHER + 1))
      [ $AKA_OTHER -gt 5 ] || say "aka: $imsi answered $status, RES ${res:-?}: not SIPp's zero-byte bug"
    fi
  done <"$T/aka-rejected.log"
fi
elapsed=$((SECONDS - t_begin))
bench_stop

# ---- report --------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
kam_version=$(dpkg-query -W -f '${Version}' kamailio 2>/dev/null || echo unknown)
sipp_version=$(dpkg-query -W -f '${Version}' sip-tester 2>/dev/null || echo unknown)
cmd="KORYOD_STORE=$KORYOD_STORE SERVERS=\"$SERVERS\" MODES=\"$MODES\" ROUNDS=$ROUNDS USERS=$USERS$(has_mode message && echo " MSG_USERS=$MSG_USERS") CALL_USERS=$CALL_USERS REG_N=$REG_N CALL_N=$CALL_N MSG_N=$MSG_N AKA_N=$AKA_N REG_INFLIGHT=$REG_INFLIGHT CALL_INFLIGHT=$CALL_INFLIGHT MSG_INFLIGHT=$MSG_INFLIGHT AKA_INFLIGHT=$AKA_INFLIGHT HOLD_MS=$HOLD_MS WORKERS=$WORKERS$([ "$PAUSE" = 0.5 ] || echo " PAUSE=$PAUSE") bench/sip_bench.sh"
cat <<EOF
### SIP: koryod against Kamailio $kam_version
Host: $(nproc) cores ($cpu_model), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r); SIPp and both servers on the same cores, UDP on loopback in a network namespace.
koryod: workers = $WORKERS, log.level = warn, charging = off, store on $KORYOD_STORE ($(df -T "$STORE_BASE" | awk 'NR == 2 { print $2 }'), store.sync = full), Koryolink profile + $((USERS + 2 * MSG_USERS_NOW)) imported subscribers with a SIP password + $AKA_SIMS AKA SIMs$(has_mode message && echo "; MESSAGE: the SMS centre with the default sms.* settings stores each message (202), then delivers it")$(has_mode message && echo "; MESSAGE from $MSG_USERS senders to as many recipients"). Kamailio: bench/sip/kamailio.cfg.in (children = $WORKERS, $KAM_SHM_MB MB shm, auth_db on SQLite with HA1, usrloc in memory, tm relay, record-route, dialog).
Client: SIPp $sipp_version with the CLOCK_MONOTONIC shim, closed loop; in flight: REGISTER $REG_INFLIGHT, calls $CALL_INFLIGHT (hold $HOLD_MS ms), MESSAGE $MSG_INFLIGHT, AKA $AKA_INFLIGHT.
Per run: REGISTER $REG_N, calls $CALL_N, MESSAGE $MSG_N, AKA $AKA_N; $ROUNDS round(s) alternating (A B, B A, ...); medians, range in brackets; ${elapsed} s in all.
Rates count successful operations after the first 10 % of each run; "CPU-s" is the server's CPU (all processes and threads, /proc) per run, "SIPp" the client's CPU share of the run's wall time.
Command: \`$cmd\`

EOF

awk -v zero="$AKA_ZERO" -v limited="$AKA_LIMITED" -v other="$AKA_OTHER" '
function median(s,    a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(s,    a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function hi(s,    a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
function add(arr, k, v) { arr[k] = (k in arr) ? arr[k] " " v : v }
function cell(s, f) { return sprintf(f " (" f "–" f ")", median(s), lo(s), hi(s)) }
function name(m) { return m == "register" ? "REGISTER (digest)" : m == "call" ? "call" : m == "message" ? "MESSAGE" : "REGISTER (AKA)" }
# mode server round rate p50 p99 ok failed retrans cpu opc client wall uas_failed rejected
# sdrops cdrops lost delivered uas_ok drain e2e [koryod: submitted attempts retries refused
# given_up commits statements 5xx waiting in_flight has_sms relayed]
{
  if ($1 == "message") {
    k = $1 SUBSEP $2
    add(us, k, ($7 > 0) ? 1e6 * $10 / $7 : 0); add(drain, k, $21); add(e2e, k, $22); add(hbusy, k, $36); add(oth, k, $37)
    if ($35 != "-") thr[k] = thr[k] (thr[k] == "" ? "" : ", ") $35
    acc[k] += $7; lost[k] += $18; dlv[k] += $19; uas[k] += $20
    if ($23 != "-" && $23 != "") {
      koryod_sms[k] = 1; if (!$33) nofam = 1; nsub[k] += $23; rly[k] += $34; att[k] += $24; retr[k] += $25; refd[k] += $26; gaveup[k] += $27
      x5[k] += $30; if ($31 + 0 > waitmax[k]) waitmax[k] = $31 + 0
      add(rpc, k, ($28 > 0) ? $29 / $28 : 0)
    }
  }

  k = $1 SUBSEP $2
  if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
  add(rate, k, $4); add(p50, k, $5); add(p99, k, $6); add(opc, k, $11)
  add(share, k, ($13 > 0) ? 100 * $12 / $13 : 0)
  add(cpu, k, $10)
  bad[k] += $8 + $14 + $18; rtx[k] += $9; rej[k] += $15; sdrop[k] += $16; cdrop[k] += $17
  add(rate_r, $1 SUBSEP $2 SUBSEP $3, $4)
  if ($3 > rounds[$1]) rounds[$1] = $3
}
END {
  print "| mode | server | per second | p50 ms | p99 ms | per server CPU-second | server CPU-s per run | SIPp CPU % | SIPp retransmissions | UDP drops server / SIPp | failed |"
  print "|---|---|---|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, f, SUBSEP)
    fl = bad[k] ""
    if (f[1] == "aka") fl = fl sprintf(" + %d rejected: %d with a 0x00 byte in RES (SIPp bug), %d by the limiter (403 with Retry-After), %d other", rej[k], zero, limited, other)
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %d | %d / %d | %s |\n", name(f[1]), f[2], cell(rate[k], "%.0f"), cell(p50[k], "%.2f"), cell(p99[k], "%.2f"), cell(opc[k], "%.0f"), cell(cpu[k], "%.1f"), cell(share[k], "%.0f"), rtx[k], sdrop[k], cdrop[k], fl
  }
  hdr = 0
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, f, SUBSEP)
    if (f[2] != "koryod") continue
    kk = f[1] SUBSEP "kamailio"
    if (!(kk in rate)) continue
    if (!hdr++) {
      print ""
      print "| mode | koryod / Kamailio per second: median (per-round range) | per CPU-second, ratio of medians | target | met |"
      print "|---|---|---|---|---|"
    }
    rs = ""
    for (r = 1; r <= rounds[f[1]]; r++) {
      a = rate_r[f[1] SUBSEP "koryod" SUBSEP r]; b = rate_r[f[1] SUBSEP "kamailio" SUBSEP r]
      if (b + 0 > 0) rs = rs (rs == "" ? "" : " ") (a / b)
    }
    mk = median(rate[kk]); ratio = (mk > 0) ? median(rate[k]) / mk : 0
    mc = median(opc[kk]); cr = (mc > 0) ? median(opc[k]) / mc : 0
    target = (f[1] == "register") ? 1.5 : 1.0
    valid = (bad[k] == 0 && rtx[k] == 0 && bad[kk] == 0 && rtx[kk] == 0)
    printf "| %s | %.2f× (%.2f–%.2f) | %.2f× | ≥ %.1f× | %s |\n", name(f[1]), ratio, lo(rs), hi(rs), cr, target, !valid ? "not valid (failures, lost messages or retransmissions)" : (ratio >= target) ? "yes" : "no"
  }
  # MESSAGE: what was accepted, what reached the recipients, at what cost
  hdr = 0
  for (i = 1; i <= nk; i++) {
    k = order[i]; split(k, f, SUBSEP)
    if (f[1] != "message") continue
    if (!hdr++) {
      print ""
      print "| MESSAGE | accepted per second | p50 ms | p99 ms | server CPU µs per message | accepted (all runs) | delivered | UAS answered | lost | wait for the last delivery, s | delivered per second end to end | SIPp retransmissions | koryod: delivery attempts / retries | koryod: refused / given up / 5xx | koryod: rows per commit | host cores busy (of which other jobs) |"
      print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    }
    ks = (k in koryod_sms)
    printf "| %s | %s | %s | %s | %s | %d | %d | %d | %d | %s | %s | %d | %s | %s | %s | %s |\n", f[2], cell(rate[k], "%.0f"), cell(p50[k], "%.2f"), cell(p99[k], "%.2f"), cell(us[k], "%.0f"), acc[k], dlv[k], uas[k], lost[k], ks ? cell(drain[k], "%.2f") : "0 (relayed)", cell(e2e[k], "%.0f"), rtx[k], ks ? sprintf("%d / %d", att[k], retr[k]) : "–", ks ? sprintf("%d / %d / %d", refd[k], gaveup[k], x5[k]) : "–", ks ? cell(rpc[k], "%.1f") : "–", cell(hbusy[k], "%.2f") " (" cell(oth[k], "%.2f") ")"
  }
  k = "message" SUBSEP "koryod"
  if (thr[k] != "") {
    print ""
    print "The five busiest threads of koryod in each run (round by round), CPU in % of one core over the run and the wait for the deliveries: " thr[k] "."
  }
  k = "message" SUBSEP "koryod"
  if (k in koryod_sms) {
    print ""
    if (nofam) print "koryod served no koryo_sms_ metrics: its deliveries are koryo_sip_messages_relayed_total, and the attempts, retries, refusals are not known."
    else printf "koryod counted %d submissions accepted (koryo_sms_submitted_total) for %d 202s counted by SIPp, %d delivered (koryo_sms_delivered_total), %d MESSAGEs delivered to a phone (koryo_sip_messages_relayed_total); at most %d messages still waiting at the end of a run.\n", nsub[k], acc[k], dlv[k], rly[k], waitmax[k]
  }
  kk = "message" SUBSEP "kamailio"
  if ((k in rate) && (kk in rate)) {
    rs = ""; es = ""
    for (r = 1; r <= rounds["message"]; r++) {
      a = rate_r["message" SUBSEP "koryod" SUBSEP r]; b = rate_r["message" SUBSEP "kamailio" SUBSEP r]
      if (b + 0 > 0) rs = rs (rs == "" ? "" : " ") (a / b)
    }
    ma = median(rate[kk]); me = median(e2e[kk]); mu = median(us[k])
    valid = (bad[k] == 0 && rtx[k] == 0 && bad[kk] == 0 && rtx[kk] == 0)
    print ""
    print "| MESSAGE, koryod / Kamailio | accepted per second: median (per-round range) | delivered per second end to end, ratio of medians | CPU per message, Kamailio / koryod | target (accepted per second) | met |"
    print "|---|---|---|---|---|---|"
    printf "| koryod stores every message (fsync) before its 202 | %.2f× (%.2f–%.2f) | %.2f× | %.2f× | ≥ 1.0× | %s |\n", (ma > 0) ? median(rate[k]) / ma : 0, lo(rs), hi(rs), (me > 0) ? median(e2e[k]) / me : 0, (mu > 0) ? median(us[kk]) / mu : 0, !valid ? "not valid (failures, lost messages or retransmissions)" : (median(rate[k]) >= ma) ? "yes" : "no"
  }
}' "$T/results"
