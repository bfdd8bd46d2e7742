#!/usr/bin/env bash
# The routing hook (docs/sip-proxy.md): every new call and message asks one
# hook, which the policy engine will fill. tests/sip/sip_hook_harness.c runs
# the SIP service core as koryod wires it, with a hook that refuses calls and
# messages to one number; inside a network namespace with only loopback:
#   - an INVITE and a MESSAGE to that number get 403 with the hook's reason as
#     the phrase and in a Warning header, and nothing reaches the callee;
#   - a call and a message to another registered number go through (the hook
#     allowed them).
# Env: KORYO_SRC, SIP_UA, SIP_HOOK_HARNESS.
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"
: "${SIP_HOOK_HARNESS:?SIP_HOOK_HARNESS must name the harness}"

A=467050000000001 B=467050000000002 C=467050000000003
AM=85019120000001 BM=85019120000002 CM=85019120000003
PW=pw-koryo-hook
SIP_PORT=$(free_sip_port)
"$SIP_HOOK_HARNESS" "$T" "$KORYO_SRC/profiles/koryolink" "$SIP_PORT" "$BM" "$PW" $A $B $C \
  >"$T/harness.out" 2>"$T/harness.log" &
HPID=$!
KORYOD_PID=$HPID # alive() and the cleanup stop it
for _ in $(seq 1 100); do
  grep -q ready "$T/harness.out" 2>/dev/null && break
  kill -0 $HPID 2>/dev/null || { cat "$T/harness.log" >&2; fail "the harness died"; }
  sleep 0.1
done
grep -q ready "$T/harness.out" || fail "the harness did not start"

reg() { # NAME MSISDN PORT
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$2" "$2" "$PW" >"$T/$1.csv"
  sipp_client "$1" reg_digest.xml "$3" 1 -inf "$T/$1.csv" -key expires 3600 -key extra "X-Test: hook"
}
PA=$(free_sip_port) PB=$(free_sip_port) PC=$(free_sip_port)
reg reg-a $AM $PA
reg reg-b $BM $PB
reg reg-c $CM $PC

# The refused number: B. Its SIPp must see nothing, so it does not run;
# koryod would send to its port and nobody would answer.
final() { # NAME: the first final response line SIPp received
  awk '/message received/ {r = 1; next} r && /^SIP\/2\.0 [2-6][0-9][0-9]/ {print; exit}
       /message sent/ {r = 0}' "$T/sipp-$1.msg" | tr -d '\r'
}
sipp_client inv-b invite_error.xml $PA 1 -key caller $AM -key ruri "sip:$BM@$DOMAIN" -key extra "X-Test: hook"
expect_eq "$(final inv-b)" "SIP/2.0 403 Test Rule $BM" "INVITE refused by the hook"
grep -q "^Warning: 399 koryo \"Test Rule $BM\"" "$T/sipp-inv-b.msg" ||
  fail "the 403 names the rule in a Warning header: $(grep -i warning "$T/sipp-inv-b.msg")"
sipp_client msg-b message_error.xml $PA 1 -key caller $AM -key ruri "tel:+$BM" -key extra "X-Test: hook"
expect_eq "$(final msg-b)" "SIP/2.0 403 Test Rule $BM" "MESSAGE refused by the hook"
echo "ok: the hook's refusal reaches the caller as 403 with its reason"

# C is allowed: a call and a message go through.
sipp_server uas-c call_uas.xml $PC 1
sipp_client call-c call_uac.xml $PA 1 -d 200 -key caller $AM -key ruri "sip:$CM@$DOMAIN" -key extra "X-Test: hook"
sipp_server_wait uas-c
sipp_server muas-c message_uas.xml $PC 1
sipp_client msg-c message_uac.xml $PA 1 -key caller $AM -key ruri "tel:+$CM" -key extra "X-Test: hook" -key text hi
sipp_server_wait muas-c
echo "ok: what the hook allows is routed"
alive "the hook test"
