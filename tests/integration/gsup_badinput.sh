#!/usr/bin/env bash
# Bad input on koryod's GSUP port (docs/gsup.md, Connection and Errors): each
# case goes over its own raw TCP connection (gsup_test_client --raw), and after
# each one a separate well-behaved client still gets SendAuthInfo answered and
# koryod is still alive. A client that stays connected through all the cases
# (--probe ... SECONDS) must see every one of its requests answered: bad input
# on one connection never disturbs the other peers.
source "$KORYO_SRC/tests/integration/lib.sh"
: "${GSUP_TEST_CLIENT:?GSUP_TEST_CLIENT must name the gsup_test_client binary}"

GSUP_PORT=$(free_port)
koryod_config "gsup.listen = 127.0.0.1:$GSUP_PORT"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

IMSI=467050000000013
HOLD_NAME=PROBE-HOLD
FAILED=0

# ---- encoding helpers (hex strings) -----------------------------------------
# hexz STR: STR and its terminating NUL, as hex.
hexz() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; printf '00'; }
# tbcd DIGITS: TBCD, low nibble first, odd count padded with f.
tbcd() {
  local d=$1 out="" i
  [ $((${#d} % 2)) -eq 0 ] || d="${d}f"
  for ((i = 0; i < ${#d}; i += 2)); do out+="${d:i+1:1}${d:i:1}"; done
  echo "$out"
}
# imsi_ie DIGITS: the IMSI IE.
imsi_ie() { local v; v=$(tbcd "$1"); printf '01%02x%s' $((${#v} / 2)) "$v"; }
# ipa_ccm PAYLOAD / ipa_gsup PAYLOAD: one IPA frame.
ipa_ccm() { printf '%04xfe%s' $((${#1} / 2)) "$1"; }
ipa_gsup() { printf '%04xee05%s' $((${#1} / 2 + 1)) "$1"; }
# id_resp [NAME]: CCM ID_RESP with Unit ID "MSC" and, if given, serial number NAME.
id_resp() {
  local u p
  u=$(hexz MSC)
  p=$(printf '05%04x08%s' $((${#u} / 2 + 1)) "$u")
  if [ -n "${1:-}" ]; then
    local s
    s=$(hexz "$1")
    p+=$(printf '%04x00%s' $((${#s} / 2 + 1)) "$s")
  fi
  ipa_ccm "$p"
}

# ---- running the cases --------------------------------------------------------
OUT=""
SENT=""
# raw HEX...: one connection; OUT gets what came back within 2 s.
raw() {
  SENT="$*"
  OUT=$("$GSUP_TEST_CLIENT" --raw 127.0.0.1 "$GSUP_PORT" "$@") || fail "raw client: $OUT"
}
# bad WHAT: a failed case, with what was sent and what came back.
bad() {
  echo "FAIL $1"
  echo "     sent: $SENT"
  echo "     got:  $(tr '\n' ' ' <<<"$OUT")"
  FAILED=$((FAILED + 1))
}
ok() { echo "ok   $1"; }
# expect WHAT REGEX: OUT has a line matching REGEX.
expect() { if grep -Eq "$2" <<<"$OUT"; then ok "$1"; else bad "$1 (expected /$2/)"; fi; }
# expect_closed WHAT: koryod closed the connection, answering nothing but ID_GET.
expect_closed() {
  if grep -qx EOF <<<"$OUT" && ! grep -v '^RX 0011fe04' <<<"$OUT" | grep -q '^RX'; then
    ok "$1"
  else
    bad "$1 (expected the connection closed)"
  fi
}
N=0
# still_fine: koryod alive and a separate client gets SendAuthInfo answered.
still_fine() {
  N=$((N + 1))
  kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; fail "koryod died after: $1"; }
  local o
  if o=$(timeout 15 "$GSUP_TEST_CLIENT" --probe 127.0.0.1 "$GSUP_PORT" "PROBE-$N" "$IMSI" 2>&1); then
    ok "after $1: another client still served"
  else
    echo "FAIL after $1: another client not served: $o"
    FAILED=$((FAILED + 1))
  fi
}

# A well-behaved peer connected throughout; SAI every 250 ms.
"$GSUP_TEST_CLIENT" --probe 127.0.0.1 "$GSUP_PORT" "$HOLD_NAME" 467050000000012 40 >"$T/hold.out" 2>&1 &
HOLD_PID=$!
sleep 1

IMSI_IE=$(imsi_ie "$IMSI")
GOOD_SAI=$(ipa_gsup "08${IMSI_IE}280102")
SAI_ERR="^RX [0-9a-f]{4}ee0509${IMSI_IE}"

# Sanity: the raw client sees ID_GET, PING gets PONG, ID_ACK gets ID_ACK, a good SAI
# after ID_RESP is answered.
raw "$(id_resp RAW-OK)" 0001fe00 0001fe06 "$GOOD_SAI"
expect "ID_GET on accept asks for the serial number" '^RX [0-9a-f]{4}fe04(01[0-9a-f]{2})*0100'
expect "PING answered with PONG" '^RX 0001fe01$'
expect "ID_ACK answered with ID_ACK" '^RX 0001fe06$'
expect "raw SAI after ID_RESP answered with a result" "^RX [0-9a-f]{4}ee050a${IMSI_IE}"
still_fine "sanity"

# Early, while the holder is surely connected.
raw "$(id_resp "$HOLD_NAME")" "$GOOD_SAI"
expect_closed "ID_RESP with a name already connected closes the connection"
still_fine "a duplicate ipa-name"

raw 0010ee0508
if grep -q '^RX' <<<"$(grep -v '^RX 0011fe04' <<<"$OUT")"; then bad "truncated frame: no answer"; else ok "truncated IPA frame then close: no answer"; fi
still_fine "a truncated IPA frame"

raw 0010
if grep -q '^RX' <<<"$(grep -v '^RX 0011fe04' <<<"$OUT")"; then bad "truncated header: no answer"; else ok "truncated IPA header then close: no answer"; fi
still_fine "a truncated IPA header"

raw "$(id_resp RAW-LEN)" ffffee0508010800
expect_closed "length 0xffff closes the connection"
still_fine "length 0xffff"

raw 474554202f20485454502f312e310d0a486f73743a20780d0a0d0a
expect_closed "garbage (an HTTP request) closes the connection"
still_fine "garbage"

raw "$(id_resp RAW-STREAM)" 000342010203
expect_closed "unknown IPA stream 0x42 closes the connection"
still_fine "an unknown IPA stream"

# The largest frame libosmocore reads: 1200 octets with the header; one more closes.
PAD=""
for _ in 1 2 3 4; do PAD+=7fff$(printf '00%.0s' $(seq 255)); done
MAXF=$(ipa_gsup "08${IMSI_IE}${PAD}7f9b$(printf '00%.0s' $(seq 155))")
[ ${#MAXF} -eq 2400 ] || fail "test bug: max frame is $((${#MAXF} / 2)) octets"
raw "$(id_resp RAW-MAX)" "$MAXF"
expect "a 1200-octet frame (unknown IEs) is served" "^RX [0-9a-f]{4}ee050a${IMSI_IE}"
OVER=$(ipa_gsup "08${IMSI_IE}${PAD}7f9c$(printf '00%.0s' $(seq 156))")
raw "$(id_resp RAW-OVER)" "$OVER"
expect_closed "a 1201-octet frame closes the connection"
still_fine "frames at and over the size limit"

raw "$(id_resp RAW-ORDER)" "$(ipa_gsup "08280102${IMSI_IE}")"
if grep -Eq "^RX [0-9a-f]{4}ee0509${IMSI_IE}.*020160" <<<"$OUT"; then
  ok "IMSI not the first IE: error 0x60"
elif grep -qx EOF <<<"$OUT"; then
  ok "IMSI not the first IE: connection closed"
else
  bad "IMSI not the first IE: error 0x60 or close"
fi
still_fine "the IMSI not first"

PAST=$(ipa_gsup "08${IMSI_IE}520501")
raw "$(id_resp RAW-PAST)" "$PAST"
expect "an IE running past the end: SAI error 0x60" "${SAI_ERR}.*020160"
still_fine "an IE past the end"

SHORT=$(ipa_gsup "08$(imsi_ie 123)280102")
raw "$(id_resp RAW-SHORT)" "$SHORT"
expect "a 3-digit IMSI: SAI error 0x60" "^RX [0-9a-f]{4}ee0509$(imsi_ie 123).*020160"
still_fine "a 3-digit IMSI"

raw "$(id_resp RAW-EMPTY)" "$(ipa_gsup "")"
if grep -Eq '^RX [0-9a-f]{4}ee05' <<<"$OUT" || grep -qx EOF <<<"$OUT"; then
  ok "an empty GSUP message: error or close"
else
  bad "an empty GSUP message: error or close"
fi
still_fine "an empty GSUP message"

raw "$GOOD_SAI"
expect "GSUP before ID_RESP: SAI error 0x11" "${SAI_ERR}.*020111"
still_fine "GSUP before ID_RESP"

raw "$(id_resp)" "$GOOD_SAI"
expect_closed "ID_RESP without a serial number closes the connection"
still_fine "an ID_RESP without a serial number"


raw "$(id_resp RAW-UNKNOWN)" "$(ipa_gsup "48${IMSI_IE}")"
expect "a request type koryod does not serve: error 0x61" "^RX [0-9a-f]{4}ee0549${IMSI_IE}.*020161"
still_fine "an unknown request type"

# The peer that stayed connected throughout.
rc=0
wait "$HOLD_PID" || rc=$?
cat "$T/hold.out"
if [ $rc -ne 0 ]; then
  echo "FAIL the peer connected throughout was disturbed"
  FAILED=$((FAILED + 1))
else
  ok "the peer connected throughout got every SAI answered"
fi
kill -0 "$KORYOD_PID" 2>/dev/null || fail "koryod died"
[ $FAILED -eq 0 ] || { tail -n 40 "$T/koryod.log" >&2; fail "$FAILED bad-input checks failed"; }
echo "gsup_badinput: all passed"
