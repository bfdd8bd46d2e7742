#!/usr/bin/env bash
# A real softphone against koryod (docs/softphones.md): Debian's baresip,
# headless, registers with a digest password and calls another subscriber,
# played by SIPp (tests/sip/softphone/callee.xml), which registered first.
# Inside a network namespace that has only loopback.
#   - A wrong password is refused: baresip reports no binding, koryod
#     lists none and logs the refusal.
#   - With the right one baresip registers: its own report, and koryod's
#     GET /v1/subscribers/{imsi}/registrations.
#   - It dials the callee in each form a user types (+E.164, E.164 digits,
#     international and national prefixes, a SIP URI with user=phone; baresip
#     makes sip:TYPED@domain of the first four); every call is answered by the
#     callee (SIPp exits 0 with its one successful call, which waits for all
#     of them), shows in GET /v1/calls while up and in GET /v1/cdrs with
#     both parties once hung up.
#   - On quitting, baresip unregisters: koryod lists no binding.
# Env: KORYOD, KORYO, KORYO_SRC.
set -euo pipefail

source "$KORYO_SRC/tests/integration/netns.sh"
need_tools sipp baresip jq
in_loopback_netns koryo-softphone "$0" "$@"

source "$KORYO_SRC/tests/integration/lib.sh"
SCEN="$KORYO_SRC/tests/sip/softphone"
DOMAIN=koryo.local
# Two citizens of the demo profile (profiles/koryolink/subscribers.csv).
CALLER_IMSI=467050000000001 CALLER=85019120000001
CALLEE_IMSI=467050000000002 CALLEE=85019120000002
CALLER_PW=Phone-Pass-4242
CALLEE_PW=Callee-Pass-1717
# What a user types to reach the callee, each dialled once, in this order.
DIAL=("+$CALLEE" "$CALLEE" "00$CALLEE" "0${CALLEE#850}" "sip:+$CALLEE@$DOMAIN;user=phone")
HOLD_MS=1000 # the callee hangs up after this: long enough to see the call in /v1/calls

[ -z "$(ip -4 route show | grep -v '^local\|127.0.0.0' || true)" ] ||
  fail "the namespace has routes: $(ip -4 route show)"

BARESIP_PID="" CALLEE_PID=""
stop_peers() {
  local p
  for p in $BARESIP_PID $CALLEE_PID; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $BARESIP_PID $CALLEE_PID; do wait "$p" 2>/dev/null || true; done
  BARESIP_PID="" CALLEE_PID=""
}
trap 'stop_peers; cleanup' EXIT

# Every failure (lib.sh's helpers included) shows what a reader needs to tell
# whose fault it was: the peers' output and koryod's log.
fail() {
  local f
  for f in "$T"/baresip-*/out "$T"/callee.out "$T"/callee.err "$T"/callee.msg "$T"/koryod.log; do
    [ -s "$f" ] && { echo "---- $f"; tail -n 80 "$f"; }
  done >&2
  # libre 1.1 (under Debian's baresip 1.0.0) gives up on a whole 401 when any
  # WWW-Authenticate in it names an algorithm other than MD5.
  if grep -qF "Register: Function not implemented" "$T"/baresip-*/out 2>/dev/null; then
    echo "baresip could not answer koryod's challenge: it knows only MD5 and refuses" \
      "a 401 that also offers another algorithm (docs/softphones.md)" >&2
  fi
  echo "FAIL: $*" >&2
  exit 1
}

SIP_PORT=$(free_sip_port)
# baresip 1.0.0 (libre 1.1.0) gives up on a 401 that names any algorithm
# besides MD5 (docs/softphones.md): offer MD5 alone.
koryod_config "sip.listen = 127.0.0.1:$SIP_PORT" "sip.domain = $DOMAIN" "sip.digest_algorithms = MD5"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

# ---- passwords: one through the API, one through the CLI ---------------------------
out=$(api PATCH "/v1/subscribers/$CALLER_IMSI" -H 'Content-Type: application/json' \
  -d "{\"sip_password\": \"$CALLER_PW\"}")
expect_eq "$(tail -1 <<<"$out")" 200 "PATCH sip_password"
"$KORYO" sub set "$CALLEE_IMSI" --sip-password "$CALLEE_PW" >"$T/cli.out" 2>&1 ||
  fail "koryo sub set --sip-password: $(cat "$T/cli.out")"
for imsi in $CALLER_IMSI $CALLEE_IMSI; do
  out=$(api GET "/v1/subscribers/$imsi")
  expect_eq "$(tail -1 <<<"$out")" 200 "GET subscriber $imsi"
  expect_eq "$(head -n -1 <<<"$out" | jq -r .sip_password_set)" true "sip_password_set of $imsi"
  case "$out" in *"$CALLER_PW"* | *"$CALLEE_PW"*) fail "the API shows a password: $out" ;; esac
done

# bindings IMSI: koryod's bindings of a subscriber into BINDINGS, one JSON
# object a line. (A variable, not its output: fail in a $(...) would end only
# the subshell.)
bindings() {
  local out
  out=$(api GET "/v1/subscribers/$1/registrations") || true
  [ "$(tail -1 <<<"$out")" = 200 ] || fail "GET registrations of $1: $out"
  BINDINGS=$(head -n -1 <<<"$out" | jq -c '.bindings[]') || fail "registrations of $1: $out"
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  fail "$what: not within $secs s"
}

# ---- baresip ------------------------------------------------------------------------
# baresip_start NAME PASSWORD SECONDS: a baresip for the caller in $T/baresip-NAME,
# quitting by itself after SECONDS at the latest. Sets BS_DIR, BS_PORT, BS_CONS.
baresip_start() {
  local name=$1 pw=$2 secs=$3
  BS_DIR=$T/baresip-$name
  BS_PORT=$(free_sip_port)
  BS_CONS=$(free_sip_port)
  mkdir -p "$BS_DIR"
  sed -e "s|@SIP_PORT@|$BS_PORT|; s|@CONS_PORT@|$BS_CONS|; s|@DIR@|$BS_DIR|g; s|@RTP_PORTS@|40000-40099|" \
    "$SCEN/config.in" >"$BS_DIR/config"
  sed -e "s|@MSISDN@|$CALLER|; s|@DOMAIN@|$DOMAIN|; s|@PASSWORD@|$pw|; s|@KORYOD_PORT@|$SIP_PORT|" \
    "$SCEN/accounts.in" >"$BS_DIR/accounts"
  # Line-buffered, so that its reports can be read while it runs.
  timeout $((secs + 10)) stdbuf -oL -eL baresip -4 -n 127.0.0.1 -f "$BS_DIR" -t "$secs" \
    >"$BS_DIR/out" 2>&1 </dev/null &
  BARESIP_PID=$!
}
# baresip_cmd LINE: a command on baresip's console, as typed.
baresip_cmd() {
  printf '%s\n' "$1" >"/dev/udp/127.0.0.1/$BS_CONS"
}
# baresip_count TEXT: how many lines of baresip's output hold TEXT.
baresip_count() {
  grep -cF -- "$1" "$BS_DIR/out" || true
}
# baresip_seen N TEXT: TEXT is on N lines or more.
baresip_seen() {
  [ "$(baresip_count "$2")" -ge "$1" ]
}
# baresip_wait_exit: baresip must quit cleanly by itself (after unregistering).
baresip_wait_exit() {
  local rc=0
  wait "$BARESIP_PID" || rc=$?
  BARESIP_PID=""
  [ $rc -eq 0 ] || fail "baresip exited with status $rc"
}
# What baresip prints when registered (the parentheses hold the Server header).
REGISTERED="^$CALLER@$DOMAIN: \\{0/UDP/v4\\} 200 OK \\(.*\\) \\[1 binding\\]\$"

# A wrong password: koryod answers baresip's credentials 403 and binds nothing.
baresip_start wrong-password "Not-$CALLER_PW" 3
baresip_wait_exit
grep -qF "$CALLER@$DOMAIN: {0/UDP/v4} 200 OK" "$BS_DIR/out" && fail "baresip registered with a wrong password"
grep -qF "reg: sip:$CALLER@$DOMAIN: 403 " "$BS_DIR/out" || fail "baresip did not report a 403"
bindings $CALLER_IMSI
[ -z "$BINDINGS" ] || fail "bindings after a wrong password: $BINDINGS"
grep -qF "IMSI='$CALLER_IMSI': REGISTER refused: wrong digest credentials" "$T/koryod.log" ||
  fail "koryod did not log the wrong credentials"
echo "ok: wrong password refused"

# ---- the callee registers, then waits for the calls ---------------------------------
CALLEE_PORT=$(free_sip_port)
timeout 90 sipp "127.0.0.1:$SIP_PORT" -i 127.0.0.1 -p "$CALLEE_PORT" -t u1 \
  -sf "$SCEN/callee.xml" -oocsf "$SCEN/callee_calls.xml" \
  -key user "$CALLEE" -key domain "$DOMAIN" -key calls ${#DIAL[@]} -d "$HOLD_MS" \
  -au "$CALLEE" -ap "$CALLEE_PW" -m 1 -timeout 80s -timeout_error -recv_timeout 10000 -nostdin -nd \
  -trace_err -error_file "$T/callee.err" -trace_msg -message_file "$T/callee.msg" \
  -trace_screen -screen_file "$T/callee.screen" >"$T/callee.out" 2>&1 &
CALLEE_PID=$!
callee_bound() {
  bindings $CALLEE_IMSI
  grep -qF "\"source\":\"udp:127.0.0.1:$CALLEE_PORT\"" <<<"$BINDINGS"
}
wait_for "the callee's binding" 10 callee_bound
echo "ok: callee registered"

# ---- the caller: registration -------------------------------------------------------
baresip_start caller "$CALLER_PW" 60
wait_for "baresip's registration" 10 grep -qE "$REGISTERED" "$BS_DIR/out"
bindings $CALLER_IMSI
b=$BINDINGS
expect_eq "$(grep -c . <<<"$b" || true)" 1 "caller's bindings"
expect_eq "$(jq -r .source <<<"$b")" "udp:127.0.0.1:$BS_PORT" "caller's binding source"
expect_contains "$(jq -r .contact <<<"$b")" "sip:$CALLER" "caller's contact"
expires_in=$(jq -r .expires_in <<<"$b")
((expires_in > 500 && expires_in <= 600)) || fail "caller's binding expires in $expires_in s, asked 600"
echo "ok: baresip registered"

# ---- the calls ----------------------------------------------------------------------
# calls_up: the calls koryod has up now into CALLS, as "caller callee state" lines.
calls_up() {
  local out
  out=$(api GET /v1/calls) || true
  [ "$(tail -1 <<<"$out")" = 200 ] || fail "GET /v1/calls: $out"
  CALLS=$(head -n -1 <<<"$out" | jq -r '.calls[] | "\(.caller_msisdn) \(.callee_msisdn) \(.state)"') ||
    fail "GET /v1/calls: $out"
}
n=0
for dest in "${DIAL[@]}"; do
  n=$((n + 1))
  baresip_cmd "/dial $dest"
  wait_for "call $n ($dest) established" 10 baresip_seen $n "Call established: "
  calls_up
  expect_eq "$CALLS" "$CALLER $CALLEE answered" "GET /v1/calls during call $n ($dest)"
  wait_for "call $n ($dest) hung up" 10 baresip_seen $n ": session closed: "
  echo "ok: call $n to $dest answered and hung up"
done
[ "$(baresip_count "Call established: ")" -eq ${#DIAL[@]} ] || fail "more calls established than dialled"

rc=0
wait "$CALLEE_PID" || rc=$?
CALLEE_PID=""
[ $rc -eq 0 ] || fail "SIPp callee: exit status $rc"
grep -qE '^ +Successful call +\| +0 +\| +1 *$' "$T/callee.screen" ||
  fail "SIPp callee: not 1 successful call: $(grep -E 'Successful|Failed' "$T/callee.screen")"
echo "ok: SIPp answered all ${#DIAL[@]} calls"

no_call_up() {
  calls_up
  [ -z "$CALLS" ]
}
wait_for "no call up" 5 no_call_up

# ---- CDRs ----------------------------------------------------------------------------
out=$(api GET /v1/cdrs)
expect_eq "$(tail -1 <<<"$out")" 200 "GET /v1/cdrs"
cdrs=$(head -n -1 <<<"$out" | jq -c '.cdrs[]')
expect_eq "$(grep -c . <<<"$cdrs" || true)" ${#DIAL[@]} "number of CDRs"
while read -r cdr; do
  expect_eq "$(jq -r '[.caller_msisdn, .caller_imsi, .callee_msisdn, .callee_imsi] | join(" ")' <<<"$cdr")" \
    "$CALLER $CALLER_IMSI $CALLEE $CALLEE_IMSI" "CDR parties ($cdr)"
  expect_eq "$(jq -r '"\(.status) \(.cause)"' <<<"$cdr")" "200 normal" "CDR status and cause ($cdr)"
  [ "$(jq -r .answered_at <<<"$cdr")" != null ] || fail "CDR not answered: $cdr"
  ms=$(jq -r .duration_ms <<<"$cdr")
  ((ms >= HOLD_MS - 100 && ms < HOLD_MS + 5000)) ||
    fail "CDR talk time $ms ms, the callee held $HOLD_MS ms: $cdr"
done <<<"$cdrs"
echo "ok: ${#DIAL[@]} CDRs with both parties"

# ---- quitting unregisters ------------------------------------------------------------
baresip_cmd "/quit"
baresip_wait_exit
bindings $CALLER_IMSI
[ -z "$BINDINGS" ] || fail "bindings after baresip quit: $BINDINGS"
echo "ok: baresip unregistered on quitting"

kill -0 "$KORYOD_PID" 2>/dev/null || fail "koryod died"
stop_peers
koryod_stop
echo "PASS"
