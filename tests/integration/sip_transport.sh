#!/usr/bin/env bash
# The SIP transport (docs/sip-transport.md) against a real koryod, inside a
# network namespace that has only loopback: a send to any address but
# 127.0.0.1 fails there instead of leaving the machine.
#   - SIPp: OPTIONS answered 200 over UDP and TCP (one TCP connection reused
#     for every call), a REGISTER without credentials answered 401 with an AKA
#     challenge (the registrar is tested in sip_registrar.sh), an INVITE for
#     another domain answered 403 and never forwarded.
#   - Raw messages (tests/sip/sip_probe.c): every RFC 4475 torture message over
#     UDP gets the answer the table below names (or none where the RFC says to
#     drop), and koryod answers an OPTIONS after each; a Via naming 192.0.2.x
#     is answered at the source socket; TCP framing, large and split messages,
#     a bad Content-Length; the counters in /metrics.
#   - The address check: a second koryod, or another program holding the UDP
#     port, makes koryod refuse to start.
# Env: KORYOD, KORYO, KORYO_SRC, KORYO_TESTDATA; SIP_PROBE (tests/sip/sip_probe.c).
set -euo pipefail

source "$KORYO_SRC/tests/integration/netns.sh"
need_tools sipp
in_loopback_netns koryo-sip "$0" "$@"

source "$KORYO_SRC/tests/integration/lib.sh"
: "${SIP_PROBE:?SIP_PROBE must name the sip_probe helper}"
: "${KORYO_TESTDATA:?KORYO_TESTDATA must name the shared test data}"
SCEN="$KORYO_SRC/tests/sip"
TORTURE="$KORYO_TESTDATA/sip/rfc4475"
DOMAIN=koryo.local

# Only loopback here: no route to 192.0.2.0/24, so a stray send fails.
[ -z "$(ip -4 route show | grep -v '^local\|127.0.0.0' || true)" ] ||
  fail "the namespace has routes: $(ip -4 route show)"

SIP_PORT=$(free_sip_port)
koryod_config "sip.listen = 127.0.0.1:$SIP_PORT" "sip.domain = $DOMAIN"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
expect_contains "$(cat "$T/koryod.log")" "SIP listening on 127.0.0.1:$SIP_PORT (UDP and TCP)" "listen log line"

alive() {
  kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; fail "koryod died after: $1"; }
}

# sipp_run NAME TRANSPORT SCENARIO: 3 calls, bounded, must all succeed.
sipp_run() {
  local name=$1 t=$2 sf=$3 rc=0
  timeout 60 sipp "127.0.0.1:$SIP_PORT" -i 127.0.0.1 -t "$t" -sf "$SCEN/$sf" -key domain "$DOMAIN" -key user 467050000000001 \
    -m 3 -l 1 -timeout 20s -timeout_error -recv_timeout 5000 -nostdin -nd \
    -trace_err -error_file "$T/sipp-$name.err" -trace_screen -screen_file "$T/sipp-$name.screen" \
    >"$T/sipp-$name.out" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    cat "$T/sipp-$name.err" "$T/sipp-$name.screen" >&2 2>/dev/null || true
    fail "sipp $name ($sf over $t): exit status $rc"
  fi
  echo "ok: sipp $name"
}

metric() {
  api GET /metrics | grep -E "^$1 " | awk '{print $2}'
}

# ---- SIPp -------------------------------------------------------------------------
sipp_run options-udp u1 options_200.xml
sipp_run options-tcp t1 options_200.xml
sipp_run register-401-challenge-udp u1 register_401_challenge.xml
sipp_run register-401-challenge-tcp t1 register_401_challenge.xml
sipp_run other-domain-udp u1 other_domain_403.xml
sipp_run other-domain-tcp t1 other_domain_403.xml
alive "SIPp scenarios"

# ---- raw messages over UDP ------------------------------------------------------------
N=0
# msg NAME: writes $T/NAME.sip from stdin, LF turned into CRLF.
msg() { sed 's/$/\r/' >"$T/$1.sip"; }
# probe TRANSPORT FILE [CHUNK]: the answer's status line ("" for none) in $ANSWER,
# the whole answer in $T/answer, the probe's local port in $LOCAL_PORT.
probe() {
  local rc=0
  "$SIP_PROBE" "$1" 127.0.0.1 "$SIP_PORT" "$2" 1000 "${3:-0}" >"$T/answer" 2>"$T/probe.err" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || fail "sip_probe $1 $2: status $rc: $(cat "$T/probe.err")"
  ANSWER=$(head -1 "$T/answer" | tr -d '\r')
  LOCAL_PORT=$(sed -n 's/^local //p' "$T/probe.err")
}
options_ok() {
  N=$((N + 1))
  printf 'OPTIONS sip:%s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKok%s\nFrom: <sip:t@%s>;tag=a%s\nTo: <sip:%s>\nCall-ID: ok%s\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n' \
    "$DOMAIN" $N "$DOMAIN" $N "$DOMAIN" $N | msg ok
  probe udp "$T/ok.sip"
  expect_eq "$ANSWER" "SIP/2.0 200 OK" "OPTIONS after $1"
  alive "$1"
}

# The RFC 4475 messages (INDEX.tsv lists them all): the answer each gets.
# Requests for example.com and the like are not koryod's to serve: 403, or
# 483 with Max-Forwards 0; unknown URI schemes 416; invalid requests 400 with
# the parser's reason; responses (and unparseable ones) get nothing.
declare -A WANT=(
  [wsinv.dat]="403" [intmeth.dat]="403" [esc01.dat]="403" [escnull.dat]="403" [esc02.dat]="403"
  [lwsdisp.dat]="403" [longreq.dat]="403" [dblreq.dat]="403" [semiuri.dat]="403"
  [transports.dat]="403" [mpart01.dat]="403" [unreason.dat]="none" [noreason.dat]="none"
  [badinv01.dat]="400" [ncl.dat]="400" [scalarlg.dat]="none" [ltgtruri.dat]="400"
  [lwsstart.dat]="400" [escruri.dat]="400" [regbadct.dat]="400" [baddn.dat]="400"
  [mismatch01.dat]="400" [bigcode.dat]="none" [badbranch.dat]="403" [unkscm.dat]="416"
  [novelsc.dat]="416" [unksm2.dat]="403" [bext01.dat]="403" [invut.dat]="403"
  [regaut01.dat]="403" [multi01.dat]="400" [bcast.dat]="none" [zeromf.dat]="483"
  [cparam01.dat]="403" [cparam02.dat]="403" [regescrt.dat]="403" [sdp01.dat]="403"
  [inv2543.dat]="403"
)
n_files=0
while IFS=$'\t' read -r file _ expected _; do
  [ "$file" != file ] || continue
  n_files=$((n_files + 1))
  want=${WANT[$file]:-}
  [ -n "$want" ] || fail "$file: no expected answer in this test's table"
  probe udp "$TORTURE/$file"
  if [ "$want" = none ]; then
    expect_eq "$ANSWER" "" "$file ($expected): no answer"
  else
    case "$ANSWER" in "SIP/2.0 $want "*) ;; *) fail "$file ($expected): want $want, got '$ANSWER'" ;; esac
    # Every answer carries the request's source in the top Via (unless that
    # Via is what is malformed: it is then copied as written).
    [ "$ANSWER" = "SIP/2.0 400 bad Via" ] || grep -q "^Via: .*;received=127\.0\.0\.1;rport=$LOCAL_PORT" "$T/answer" ||
      fail "$file: top Via without received/rport: $(head -3 "$T/answer")"
  fi
  [ "$expected" = invalid ] && [ "$want" != 400 ] && [ "$want" != none ] && fail "$file: invalid but answered $want"
  options_ok "$file"
done <"$TORTURE/INDEX.tsv"
expect_eq "$n_files" "${#WANT[@]}" "torture messages sent"
echo "ok: $n_files RFC 4475 messages"

# A 400 names the parser's reason.
probe udp "$TORTURE/badinv01.dat"
expect_eq "$ANSWER" "SIP/2.0 400 bad Via" "badinv01 reason"

# A Via naming an address koryod cannot reach (192.0.2.0/24 has no route
# here): the answer comes back to the sending socket, from koryod's port.
printf 'OPTIONS sip:%s SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKelsewhere\nVia: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKsecond\nFrom: <sip:t@%s>;tag=x1\nTo: <sip:%s>\nCall-ID: via-elsewhere\nCSeq: 7 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n' \
  "$DOMAIN" "$DOMAIN" "$DOMAIN" | msg via-elsewhere
probe udp "$T/via-elsewhere.sip"
expect_eq "$ANSWER" "SIP/2.0 200 OK" "Via 192.0.2.7"
grep -q "^Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKelsewhere;received=127.0.0.1;rport=$LOCAL_PORT" "$T/answer" ||
  fail "Via 192.0.2.7: top Via not marked: $(cat "$T/answer")"
grep -q "^Via: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKsecond" "$T/answer" || fail "second Via not copied"
# Same with ;rport in a request that also asks for it.
sed 's/;branch=z9hG4bKelsewhere/;rport;branch=z9hG4bKelsewhere2/' "$T/via-elsewhere.sip" >"$T/via-rport.sip"
probe udp "$T/via-rport.sip"
grep -q "^Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKelsewhere2;received=127.0.0.1;rport=$LOCAL_PORT" "$T/answer" ||
  fail "Via with rport: $(cat "$T/answer")"

# Other stateless answers.
req() { # METHOD RURI [EXTRA-HEADER-LINES, with \n]
  printf '%s %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK%s\nFrom: <sip:t@%s>;tag=r1\nTo: <sip:u@%s>\nCall-ID: req-%s\nCSeq: 3 %s\n%bMax-Forwards: 70\nContent-Length: 0\n\n' \
    "$1" "$2" "$RANDOM" "$DOMAIN" "$DOMAIN" "$RANDOM" "${4:-$1}" "${3:-}"
}
req MESSAGE "sip:u@$DOMAIN" | msg message
probe udp "$T/message.sip"
# The proxy serves only registered callers (tests in sip_proxy.sh).
expect_eq "$ANSWER" "SIP/2.0 403 Caller Not Registered" "MESSAGE from an unregistered source"
grep -q '^To: <sip:u@koryo.local>;tag=[0-9a-f]\{16\}' "$T/answer" || fail "403 without a To tag"
req FOO "sip:u@$DOMAIN" | msg foo
probe udp "$T/foo.sip"
expect_eq "$ANSWER" "SIP/2.0 501 Not Implemented" "unknown method"
req CANCEL "sip:u@$DOMAIN" | msg cancel
probe udp "$T/cancel.sip"
expect_eq "$ANSWER" "SIP/2.0 481 Call/Transaction Does Not Exist" "CANCEL without a transaction"
req ACK "sip:u@$DOMAIN" | msg ack
probe udp "$T/ack.sip"
expect_eq "$ANSWER" "" "ACK is never answered"
req OPTIONS "sip:u@$DOMAIN" "Require: foo, bar\n" | msg require
probe udp "$T/require.sip"
expect_eq "$ANSWER" "SIP/2.0 420 Bad Extension" "Require"
grep -q '^Unsupported: foo, bar' "$T/answer" || fail "420 without Unsupported: $(cat "$T/answer")"
req OPTIONS "sip:u@127.0.0.1:$SIP_PORT" | msg by-ip
probe udp "$T/by-ip.sip"
expect_eq "$ANSWER" "SIP/2.0 200 OK" "OPTIONS to koryod's address"
req OPTIONS "sip:u@127.0.0.1:1" | msg other-port
probe udp "$T/other-port.sip"
expect_eq "$ANSWER" "SIP/2.0 403 No Trunk Configured" "OPTIONS to another port"
req INVITE "tel:+850123" | msg tel
probe udp "$T/tel.sip"
# A tel: Request-URI is taken (not 416): an INVITE is answered 100 at once.
expect_eq "$ANSWER" "SIP/2.0 100 Trying" "INVITE to a tel: URI"
req OPTIONS "sip:$DOMAIN" | sed 's|SIP/2.0$|SIP/3.0|' | msg v3
probe udp "$T/v3.sip"
expect_eq "$ANSWER" "SIP/2.0 505 Version Not Supported" "SIP/3.0"
printf 'SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKstray\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nCall-ID: stray\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n' | msg stray
probe udp "$T/stray.sip"
expect_eq "$ANSWER" "" "a stray response is dropped"
printf '\r\n\r\n' >"$T/ping.sip"
probe udp "$T/ping.sip"
expect_eq "$ANSWER" "" "a CRLF keep-alive over UDP"
options_ok "the stateless answers"
echo "ok: stateless answers"

# ---- TCP ----------------------------------------------------------------------------
# New branches: the same branch again would be a retransmission of the UDP
# request, absorbed by its transaction (RFC 3261 17.2.3) and answered there.
sed 's/branch=z9hG4bKelsewhere/branch=z9hG4bKtcp1/' "$T/via-elsewhere.sip" >"$T/tcp1.sip"
sed 's/branch=z9hG4bKelsewhere/branch=z9hG4bKtcp2/' "$T/via-elsewhere.sip" >"$T/tcp2.sip"
probe tcp "$T/tcp1.sip"
expect_eq "$ANSWER" "SIP/2.0 200 OK" "OPTIONS over TCP"
# Split into 7-octet pieces: framed from the stream.
probe tcp "$T/tcp2.sip" 7
expect_eq "$ANSWER" "SIP/2.0 200 OK" "OPTIONS over TCP in 7-octet pieces"
# Larger than a datagram on most paths (and than UDP's 1300-octet rule of
# RFC 3261 18.1.1), within koryod's 64 KiB per TCP message: a 12,000-octet
# header field and a 40,000-octet body.
{
  printf 'MESSAGE sip:u@%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKbig\r\n' "$DOMAIN"
  printf 'From: <sip:t@%s>;tag=big\r\nTo: <sip:u@%s>\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\n' "$DOMAIN" "$DOMAIN"
  printf 'X-Padding: %s\r\n' "$(head -c 12000 /dev/zero | tr '\0' 'p')"
  printf 'Max-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 40000\r\n\r\n'
  head -c 40000 /dev/zero | tr '\0' 'b'
} >"$T/big.sip"
probe tcp "$T/big.sip"
expect_eq "$ANSWER" "SIP/2.0 403 Caller Not Registered" "a 52 KB MESSAGE over TCP"
probe tcp "$T/big.sip" 1500
expect_eq "$ANSWER" "SIP/2.0 403 Caller Not Registered" "a 52 KB MESSAGE over TCP in segments"
# A bad Content-Length on a stream: 400, then the connection is closed.
probe tcp "$TORTURE/ncl.dat"
expect_eq "$ANSWER" "SIP/2.0 400 Bad Content-Length" "ncl over TCP"
# Without Content-Length the stream cannot be framed either.
grep -v '^Content-Length' "$T/via-elsewhere.sip" >"$T/nocl.sip"
probe tcp "$T/nocl.sip"
expect_eq "$ANSWER" "SIP/2.0 400 Bad Content-Length" "no Content-Length over TCP"
options_ok "TCP"
echo "ok: TCP"

# ---- counters -------------------------------------------------------------------------
expect_eq "$(metric koryo_sip_send_errors_total)" 0 "SIP send errors"
[ "$(metric 'koryo_sip_responses_total\{class="2xx"\}')" -ge 50 ] || fail "2xx count: $(api GET /metrics | grep koryo_sip_responses)"
[ "$(metric 'koryo_sip_responses_total\{class="4xx"\}')" -ge 40 ] || fail "4xx count"
# 5xx: the unknown method (501) and SIP/3.0 (505).
[ "$(metric 'koryo_sip_responses_total\{class="5xx"\}')" -ge 2 ] || fail "5xx count"
[ "$(metric 'koryo_sip_bad_messages_total')" -ge 15 ] || fail "bad message count"
[ "$(metric 'koryo_sip_stray_responses_total')" -ge 3 ] || fail "stray response count"
[ "$(metric 'koryo_sip_requests_total\{method="REGISTER"\}')" -ge 6 ] || fail "REGISTER count"
expect_eq "$(metric koryo_sip_tcp_connections)" 0 "TCP connections left open"
if grep -E "send of|not built" "$T/koryod.log"; then fail "koryod logged a send error"; fi
echo "ok: counters"

# ---- configuration ------------------------------------------------------------------
# Bad values are refused before koryod touches anything (exit status 2).
bad_config() { # LINE WANT
  printf 'data_dir = %s/data-bad\n%s\n' "$T" "$1" >"$T/bad.conf"
  local rc=0 err
  err=$(timeout 10 "$KORYOD" -c "$T/bad.conf" 2>&1) || rc=$?
  expect_eq "$rc" 2 "$1"
  expect_eq "$err" "koryod: $T/bad.conf:2: $2" "$1"
}
bad_config "sip.listen = localhost:5060" \
  "sip.listen: expected IPV4:PORT (e.g. 127.0.0.1:5060) or off, got 'localhost:5060'"
bad_config "sip.domain = under_score.example" \
  "sip.domain: expected a host name (e.g. ims.example.net), got 'under_score.example'"
bad_config "sip.domain = -lead.example" \
  "sip.domain: expected a host name (e.g. ims.example.net), got '-lead.example'"
[ ! -e "$T/data-bad" ] || fail "a refused start created its data_dir"
echo "ok: configuration"

# ---- the address check ---------------------------------------------------------------
# A second koryod on the same SIP address refuses to start.
sed -e "s|^data_dir = .*|data_dir = $T/data2|" -e "s|^api.listen = .*|api.listen = 127.0.0.1:$(free_port)|" \
  -e "s|^gsup.listen = .*|gsup.listen = off|" "$T/koryod.conf" >"$T/second.conf"
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/second.conf" --profile "$KORYO_SRC/profiles/koryolink" 2>&1) || rc=$?
expect_eq "$rc" 1 "second koryod on the same SIP address"
expect_contains "$err" "cannot listen for SIP on 127.0.0.1:$SIP_PORT" "SIP address in use message"
koryod_stop
alive_check=$(grep -c "stopped cleanly" "$T/koryod.log")
expect_eq "$alive_check" 1 "clean stop"

# Only the UDP port taken (by SIPp as a UAS): refused too, naming UDP.
UDP_PORT=$(free_sip_port)
timeout 30 sipp -sn uas -i 127.0.0.1 -p "$UDP_PORT" -t u1 -m 1 -timeout 25s -nostdin -nd -bg \
  >"$T/sipp-uas.out" 2>&1 || true
UAS_PID=$(sed -n 's/.*PID=\[\([0-9]*\)\].*/\1/p' "$T/sipp-uas.out")
[ -n "$UAS_PID" ] || fail "SIPp UAS did not start: $(cat "$T/sipp-uas.out")"
for _ in $(seq 1 50); do [ -n "$(ss -Hlnu "sport = :$UDP_PORT")" ] && break; sleep 0.1; done
sed -i "s|^sip.listen = .*|sip.listen = 127.0.0.1:$UDP_PORT|" "$T/second.conf"
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/second.conf" --profile "$KORYO_SRC/profiles/koryolink" 2>&1) || rc=$?
kill "$UAS_PID" 2>/dev/null || true
expect_eq "$rc" 1 "koryod with its UDP port taken"
expect_contains "$err" "cannot listen on 127.0.0.1:$UDP_PORT (UDP)" "UDP in use log line"
echo "ok: address checks"
echo "sip_transport: ok"
