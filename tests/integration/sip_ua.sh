#!/usr/bin/env bash
# tests/sip/sip_ua.c, the user agent the registrar tests rely on, checked
# without koryod so that a failure there points at koryod and not at the tool:
#   - its SIM against the TS 35.208 sets: SQN, MAC-A and RES from a nonce built
#     here, and AUTS against the published f1* and f5*; its AUTS with the dummy
#     AMF recovered by koryo_crypto's aka_resync();
#   - against a registrar played by SIPp (tests/sip/fake_registrar_*.xml):
#     MD5 checked by SIPp itself, SHA-256 and AKA responses recomputed here
#     with openssl, the resynchronisation exchange (auts=, then the fresh
#     challenge), a wrong response, a network that does not know K;
#   - SIPp 3.6.1's AKA answer when RES has a zero octet: it hashes RES only up
#     to that octet, which is what the registrar tests predict per challenge.
# Runs in a network namespace with only loopback, like every SIP test.
# Env: KORYO_SRC, KORYO_TESTDATA, SIP_UA (and lib.sh's KORYOD, KORYO).
set -euo pipefail

source "$KORYO_SRC/tests/integration/netns.sh"
need_tools sipp
in_loopback_netns koryo-sipua "$0" "$@"

source "$KORYO_SRC/tests/integration/lib.sh"
: "${SIP_UA:?SIP_UA must name the sip_ua helper}"
: "${KORYO_TESTDATA:?KORYO_TESTDATA must name the shared test data}"
SCEN="$KORYO_SRC/tests/sip"
REALM=koryo.local

h() { openssl dgst "-$1" -r | cut -d' ' -f1; }
# authp NAME TEXT: an auth-param's value (quotes removed) from an Authorization.
authp() { sed -n "s/.*[ ,]$1=\"\{0,1\}\([^\",]*\).*/\1/p" <<<"$2"; }
# xorhex A B: A xor B, both hex of the same length.
xorhex() {
  local a=$1 b=$2 out="" i
  for ((i = 0; i < ${#a}; i += 2)); do out+=$(printf '%02x' $((0x${a:i:2} ^ 0x${b:i:2}))); done
  echo "$out"
}
b64() { xxd -r -p | base64 -w0; }
# expected_response ALG HA1 AUTHORIZATION: the qop=auth response for that header.
expected_response() {
  local alg=$1 ha1=$2 a=$3 ha2
  ha2=$(printf '%s' "REGISTER:$(authp uri "$a")" | h "$alg")
  printf '%s' "$ha1:$(authp nonce "$a"):$(authp nc "$a"):$(authp cnonce "$a"):$(authp qop "$a"):$ha2" | h "$alg"
}
# aka_ha1 USER RES_HEX: MD5(user:realm:RES octets).
aka_ha1() { { printf '%s' "$1:$REALM:"; printf '%s' "$2" | xxd -r -p; } | h md5; }

# ---- the SIM against the published sets -----------------------------------------------
n=0
while IFS=$'\t' read -r set k rand sqn amf op opc f1 f1s f2 _ _ f5 f5s; do
  [ "$set" != set ] || continue
  n=$((n + 1))
  want="$(xorhex "$sqn" "$f5s")$f1s"
  out=$("$SIP_UA" auts --k "$k" --op "$op" --rand "$rand" --sqn-ms "0x$sqn" --resync-amf "$amf")
  expect_contains "$out" "hex=$want" "set $set: AUTS from OP"
  out=$("$SIP_UA" auts --k "$k" --opc "$opc" --rand "$rand" --sqn-ms "0x$sqn" --resync-amf "$amf")
  expect_contains "$out" "hex=$want" "set $set: AUTS from OPc"
  expect_contains "$out" "auts=$(printf '%s' "$want" | b64)" "set $set: AUTS in base64"
  nonce=$(printf '%s' "$rand$(xorhex "$sqn" "$f5")$amf$f1" | b64)
  out=$("$SIP_UA" sim --k "$k" --op "$op" --amf "$amf" --nonce "$nonce")
  expect_eq "$out" "sqn=$((0x$sqn)) amf=$amf mac=ok fresh=yes res=$f2 res_zero=no" "set $set: SIM"
  # Stale for a SIM that has seen this SQN; refused with another K.
  out=$("$SIP_UA" sim --k "$k" --op "$op" --nonce "$nonce" --sqn-ms "0x$sqn")
  expect_contains "$out" "mac=ok fresh=no" "set $set: same SQN again"
  rc=0
  out=$("$SIP_UA" sim --k 00000000000000000000000000000000 --op "$op" --nonce "$nonce") || rc=$?
  expect_eq "$rc" 4 "set $set: another K"
  expect_contains "$out" "mac=bad" "set $set: another K"
done <"$KORYO_TESTDATA/milenage/ts35208_sets1-6.tsv"
expect_eq "$n" 6 "test sets read"
echo "ok: SIM and AUTS against TS 35.208 sets 1-6"

# A demo SIM (profiles/koryolink: K and OP are ASCII strings).
SIM=(--k k467050000000001 --op koryolink-op-467)
RAND1=000102030405060708090a0b0c0d0e0f
# RAND chosen (by search) so that this SIM's RES has a zero octet.
RAND_ZERO=00000000000000000000000000000026
nonce_of() { "$SIP_UA" nonce "${SIM[@]}" --amf 0000 --sqn "$1" --rand "$2" | sed 's/^nonce=\([^ ]*\) .*/\1/'; }
N1=$(nonce_of 64 $RAND1)
N2=$(nonce_of 1056 $RAND_ZERO)
expect_contains "$("$SIP_UA" nonce "${SIM[@]}" --amf 0000 --sqn 1056 --rand $RAND_ZERO)" \
  "res=0681aabcca00798f res_zero=yes" "the zero-octet RES"
for sqn_ms in 0 1000 $((2 ** 48 - 1)); do
  auts=$("$SIP_UA" auts "${SIM[@]}" --rand $RAND1 --sqn-ms $sqn_ms | sed 's/^auts=\([^ ]*\) .*/\1/')
  expect_eq "$("$SIP_UA" resync "${SIM[@]}" --rand $RAND1 --auts "$auts")" "mac_s=ok sqn_ms=$sqn_ms" \
    "aka_resync() of sip_ua's AUTS for $sqn_ms"
done
auts=$("$SIP_UA" auts --k k467050000000002 --op koryolink-op-467 --rand $RAND1 --sqn-ms 5 | sed 's/^auts=\([^ ]*\) .*/\1/')
rc=0
"$SIP_UA" resync "${SIM[@]}" --rand $RAND1 --auts "$auts" >/dev/null || rc=$?
expect_eq "$rc" 4 "AUTS of another SIM"
echo "ok: AUTS recovered by aka_resync()"

# ---- against a registrar played by SIPp ---------------------------------------------------
# fake NAME SCENARIO [sipp args...]: starts the SIPp registrar on $FPORT.
fake() {
  local name=$1 sf=$2
  shift 2
  FPORT=$(free_sip_port)
  rm -f "$T/$name.log"
  timeout 30 sipp -sf "$SCEN/$sf" -i 127.0.0.1 -p "$FPORT" -m 1 -nostdin -nd -timeout 20s -timeout_error \
    -trace_logs -log_file "$T/$name.log" -trace_err -error_file "$T/$name.err" "$@" >"$T/$name.out" 2>&1 &
  FAKE_PID=$!
  for _ in $(seq 1 50); do [ -n "$(ss -Hlnu "sport = :$FPORT")" ] && return 0; sleep 0.1; done
  fail "SIPp registrar $name did not start: $(cat "$T/$name.out")"
}
fake_wait() {
  local rc=0
  wait "$FAKE_PID" || rc=$?
  [ $rc -eq 0 ] || fail "SIPp registrar $1: status $rc: $(cat "$T/$1.out" "$T/$1.err" 2>/dev/null)"
}
# ua NAME ARGS...: sip_ua register against the fake registrar; output in $T/NAME.ua, status in $UA_RC.
ua() {
  local name=$1
  shift
  UA_RC=0
  timeout 20 "$SIP_UA" register --server "127.0.0.1:$FPORT" --timeout 3000 "$@" >"$T/$name.ua" 2>&1 || UA_RC=$?
}

USER=85019120000001
PW=secret-pw1
fake md5 fake_registrar_digest.xml -key user $USER -key password $PW
ua md5 --user $USER --password $PW --alg MD5
fake_wait md5
expect_eq "$UA_RC" 0 "MD5 registration"
expect_contains "$(cat "$T/md5.ua")" "result 200" "MD5 registration"
expect_eq "$(grep -c '^challenge ' "$T/md5.ua")" 2 "challenges seen"
grep -q "^verifyauth true" "$T/md5.log" || fail "SIPp did not accept sip_ua's MD5 answer: $(cat "$T/md5.log")"
grep -q "^first-authorization *$" "$T/md5.log" || fail "the first REGISTER carried credentials"

fake sha fake_registrar_digest.xml -key user $USER -key password $PW
ua sha --user $USER --password $PW --alg SHA-256
fake_wait sha
expect_eq "$UA_RC" 0 "SHA-256 registration"
a=$(sed -n 's/^authorization *//p' "$T/sha.log")
expect_contains "$a" "algorithm=SHA-256" "SHA-256 Authorization"
expect_eq "$(authp username "$a")" $USER "SHA-256 username"
expect_eq "$(authp uri "$a")" "sip:$REALM" "digest uri"
expect_eq "$(authp response "$a")" \
  "$(expected_response sha256 "$(printf '%s' "$USER:$REALM:$PW" | h sha256)" "$a")" "SHA-256 response"

fake bad fake_registrar_digest.xml -key user $USER -key password $PW
ua bad --user $USER --password $PW --alg MD5 --bad-response
fake_wait bad
grep -q "^verifyauth false" "$T/bad.log" || fail "--bad-response was accepted: $(cat "$T/bad.log")"
echo "ok: digest MD5 and SHA-256"

# Resynchronisation: the SIM has seen SQN 1000; the first challenge carries 64.
IMSI=467050000000001
fake aka fake_registrar_aka.xml -key nonce1 "$N1" -key nonce2 "$N2"
ua aka --user $IMSI "${SIM[@]}" --amf 0000 --sqn-ms 1000
fake_wait aka
out=$(cat "$T/aka.ua")
expect_eq "$UA_RC" 0 "AKA registration with resync: $out"
expect_contains "$out" "sim sqn=64 sqn_ms=1000 amf=0000 mac=ok fresh=no" "stale SQN seen"
expect_contains "$out" "sim sqn=1056 sqn_ms=1000 amf=0000 mac=ok fresh=yes" "fresh SQN accepted"
expect_contains "$out" "sqn_ms 1056" "SIM's SQN after"
a1=$(sed -n 's/^authorization1 *//p' "$T/aka.log")
a2=$(sed -n 's/^authorization2 *//p' "$T/aka.log")
expect_eq "$("$SIP_UA" resync "${SIM[@]}" --rand $RAND1 --auts "$(authp auts "$a1")")" "mac_s=ok sqn_ms=1000" \
  "auts= of the resync request"
# RFC 3310 3.4: the request carrying auts= is answered with an empty password.
expect_eq "$(authp response "$a1")" "$(expected_response md5 "$(printf '%s' "$IMSI:$REALM:" | h md5)" "$a1")" \
  "response with auts"
expect_eq "$(authp response "$a2")" "$(expected_response md5 "$(aka_ha1 $IMSI 0681aabcca00798f)" "$a2")" \
  "response with RES (all 8 octets, the zero included)"
[ -z "$(authp auts "$a2")" ] || fail "auts= in the answer to a fresh challenge"
echo "ok: AKA resynchronisation"

# A network that does not know K: the SIM refuses AUTN and sends nothing more.
fake mac fake_registrar_aka.xml -key nonce1 "$("$SIP_UA" nonce --k k467050000000002 --op koryolink-op-467 --amf 0000 --sqn 64 --rand $RAND1 | sed 's/^nonce=\([^ ]*\) .*/\1/')" -key nonce2 x
ua mac --user $IMSI "${SIM[@]}"
kill "$FAKE_PID" 2>/dev/null || true
wait "$FAKE_PID" 2>/dev/null || true
expect_eq "$UA_RC" 4 "AUTN with the wrong MAC: $(cat "$T/mac.ua")"
expect_contains "$(cat "$T/mac.ua")" "sim refuses AUTN: MAC-A wrong" "wrong MAC"

# Nobody listening: a bounded wait and status 3.
FPORT=$(free_sip_port)
ua none --user $USER --password $PW --timeout 700
expect_eq "$UA_RC" 3 "no registrar"
echo "ok: refusals and timeout"

# ---- SIPp's AKA answer with a zero octet in RES ---------------------------------------------
# SIPp (no aka_AMF: it takes the parameter's characters as the AMF octets,
# and an absent one is 0000) answers the zero-RES challenge with RES cut at
# its first zero octet: "0681aabcca" instead of "0681aabcca00798f".
printf 'SEQUENTIAL\n%s;[authentication username=%s aka_K=k467050000000001 aka_OP=koryolink-op-467]\n' \
  $IMSI $IMSI >"$T/sims.csv"
for nonce in "$N1" "$N2"; do
  fake zero fake_registrar_aka.xml -key nonce1 "$nonce" -key nonce2 x
  rc=0
  timeout 30 sipp "127.0.0.1:$FPORT" -sf "$SCEN/reg_aka.xml" -inf "$T/sims.csv" -key domain $REALM \
    -i 127.0.0.1 -m 1 -nostdin -nd -timeout 20s -timeout_error -trace_err -error_file "$T/uac.err" \
    >"$T/uac.out" 2>&1 || rc=$?
  fake_wait zero
  expect_eq "$rc" 0 "SIPp AKA UAC: $(cat "$T/uac.err" 2>/dev/null)"
  a=$(sed -n 's/^authorization1 *//p' "$T/zero.log")
  res=$("$SIP_UA" sim "${SIM[@]}" --nonce "$nonce" | sed 's/.* res=\([0-9a-f]*\) .*/\1/')
  if [ "$nonce" = "$N2" ]; then sipp_res=0681aabcca; else sipp_res=$res; fi
  expect_eq "$(authp response "$a")" "$(expected_response md5 "$(aka_ha1 $IMSI $sipp_res)" "$a")" \
    "SIPp's response for RES $res"
done
echo "ok: SIPp's AKA response is predictable"
echo "sip_ua: ok"
