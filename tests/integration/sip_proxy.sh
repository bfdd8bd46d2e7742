#!/usr/bin/env bash
# koryod's stateful SIP proxy (docs/sip-testing.md) with SIPp peers that
# registered first (digest, reg_digest.xml), inside a network namespace with
# only loopback, against the demo profile:
#   - a call (INVITE/180/200/ACK/BYE) from a SIPp UAC to a registered SIPp UAS,
#     record-routed; the API's view while it is up (/v1/calls) and after
#     (/v1/cdrs), /metrics;
#   - CANCEL of a ringing call (487, a CDR "cancelled");
#   - MESSAGE relay, the callee named by MSISDN in every form (+E.164 with
#     user=phone, bare, national, tel:);
#   - forking to every contact of the callee: the call answered by one, the
#     other cancelled; a MESSAGE delivered to both;
#   - a binding with Path (RFC 3327): requests go to the address it registered
#     from, with the Path as Route;
#   - the error answers: 404 unknown number, 480 no binding, 403 for a caller
#     not registered at that source;
#   - P-Access-Network-Info in INVITE and MESSAGE updates the caller's cell
#     (API, CDR);
#   - bindings survive a restart: a MESSAGE is relayed after it.
# Env: KORYOD, KORYO, KORYO_SRC, SIP_UA.
set -euo pipefail
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"

sip_koryod_start
msisdn() { echo "8501912${1: -7}"; }
PW=pw-koryo-proxy

A=467050000000001 B=467050000000002 C=467050000000003 D=467050000000004 E=467050000000005
AM=$(msisdn $A) BM=$(msisdn $B) CM=$(msisdn $C) DM=$(msisdn $D) EM=$(msisdn $E)
for s in $A $B $C $D $E; do set_password $s "$PW"; done
NO_CELL="X-Koryo-Test: no cell"

# reg NAME IMSI PORT: the subscriber registers (SIPp, MD5) from 127.0.0.1:PORT.
reg() {
  local m
  m=$(msisdn "$2")
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$m" "$m" "$PW" >"$T/$1.csv"
  sipp_client "$1" reg_digest.xml "$3" 1 -inf "$T/$1.csv" -key expires 3600 -key extra "$NO_CELL"
}
# status_of NAME: the first final status SIPp received in run NAME.
status_of() {
  awk '/message received/ {r = 1; next} r && /^SIP\/2\.0 [2-6][0-9][0-9]/ && $2 >= 200 {print $2; exit}
       /message sent/ {r = 0}' "$T/sipp-$1.msg"
}
# refused NAME SCENARIO PORT CALLER RURI WANT: the request is refused with WANT.
refused() {
  sipp_client "$1" "$2" "$3" 1 -key caller "$4" -key ruri "$5" -key extra "$NO_CELL"
  expect_eq "$(status_of "$1")" "$6" "$1: $2 from $4 to $5"
}
last_cdr() { api_ok GET "/v1/cdrs?after=0&limit=1000" | jq -c '.cdrs[-1]'; }
cdr_count() { api_ok GET "/v1/cdrs?after=0&limit=1000" | jq '.cdrs | length'; }
calls() { api_ok GET /v1/calls | jq -c '.calls'; }
# wait_call STATE: polls /v1/calls (bounded) until one call is in STATE; prints it.
wait_call() {
  local c
  for _ in $(seq 1 50); do
    c=$(calls)
    if [ "$(jq 'length' <<<"$c")" = 1 ] && [ "$(jq -r '.[0].state' <<<"$c")" = "$1" ]; then
      jq -c '.[0]' <<<"$c"
      return 0
    fi
    sleep 0.1
  done
  fail "no call in state $1 in /v1/calls: $c"
}

PA=$(free_sip_port) PB=$(free_sip_port) PD1=$(free_sip_port) PD2=$(free_sip_port)
PE=$(free_sip_port) PX=$(free_sip_port)
reg reg-a $A "$PA"
reg reg-b $B "$PB"
reg reg-d1 $D "$PD1"
reg reg-d2 $D "$PD2"
expect_eq "$(nbind $D)" 2 "the callee for forking has two contacts"
# E sits behind a P-CSCF at PE, which adds its Path; E's contact is an
# address this namespace cannot reach.
ua_expect reg-e 200 --user "$EM" --password "$PW" --local-port "$PE" \
  --contact "<sip:$EM@10.0.0.7:5060>" --header "Path: <sip:pcscf@127.0.0.1:$PE;lr>"
echo "ok: registered"

# ---- a call ------------------------------------------------------------------------------
CELL_A1=467050003000000C
answered=$(metric 'koryo_sip_calls_total\{outcome="answered"\}')
cdrs=$(cdr_count)
sipp_server call-b call_uas.xml "$PB" 1
sipp_server call-a call_uac.xml "$PA" 1 "127.0.0.1:$SIP_PORT" -d 2000 -key caller "$AM" \
  -key ruri "sip:+$BM@$DOMAIN;user=phone" \
  -key extra "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=$CELL_A1"
c=$(wait_call answered)
expect_eq "$(jq -r '.caller_msisdn, .callee_msisdn, .caller_imsi, .callee_imsi' <<<"$c" | tr '\n' ' ')" \
  "$AM $BM $A $B " "the call in /v1/calls"
expect_eq "$(jq -r .caller_cell <<<"$c")" "$CELL_A1" "caller's cell in /v1/calls"
expect_eq "$(metric koryo_sip_calls_active)" 1 "koryo_sip_calls_active during the call"
sipp_server_wait call-a
sipp_server_wait call-b
expect_eq "$(calls)" "[]" "/v1/calls after BYE"
expect_eq "$(metric koryo_sip_calls_active)" 0 "koryo_sip_calls_active after BYE"
expect_eq "$(metric 'koryo_sip_calls_total\{outcome="answered"\}')" $((answered + 1)) "answered calls"
expect_eq "$(cdr_count)" $((cdrs + 1)) "one CDR per call"
r=$(last_cdr)
expect_eq "$(jq -r '[.caller_msisdn, .callee_msisdn, .status, .cause] | join(" ")' <<<"$r")" \
  "$AM $BM 200 normal" "CDR of the call"
expect_eq "$(jq -r .caller_cell <<<"$r")" "$CELL_A1" "caller's cell in the CDR"
d=$(jq -r .duration_ms <<<"$r")
[ "$d" -ge 1900 ] && [ "$d" -le 4000 ] || fail "CDR duration_ms $d for a 2 s hold: $r"
[ "$(jq -r .answered_at <<<"$r")" != null ] || fail "CDR without answered_at: $r"
expect_eq "$(cell $A)" "$CELL_A1" "caller's cell after an INVITE"
# The callee saw koryod's Via over the caller's, koryod in Record-Route, and
# its registered contact as Request-URI (call_uas.xml checks; logged here).
grep -q "^invite INVITE sip:[0-9]*@127.0.0.1:$PB SIP/2.0 from .*$AM" "$T/sipp-call-b.log" ||
  fail "the callee's INVITE: $(cat "$T/sipp-call-b.log")"
echo "ok: call"

# The same through tel: and the national form.
for ruri in "tel:+$BM" "sip:0${BM#850}@$DOMAIN"; do
  sipp_server call-b2 call_uas.xml "$PB" 1
  sipp_client call-a2 call_uac.xml "$PA" 1 -d 100 -key caller "$AM" -key ruri "$ruri" -key extra "$NO_CELL"
  sipp_server_wait call-b2
done
expect_eq "$(metric 'koryo_sip_calls_total\{outcome="answered"\}')" $((answered + 3)) "answered calls"
echo "ok: calls to tel: and national numbers"

# ---- CANCEL ----------------------------------------------------------------------------
cancelled=$(metric 'koryo_sip_calls_total\{outcome="cancelled"\}')
sipp_server cancel-b cancel_uas.xml "$PB" 1
sipp_server cancel-a cancel_uac.xml "$PA" 1 "127.0.0.1:$SIP_PORT" -d 1500 -key caller "$AM" \
  -key ruri "sip:$BM@$DOMAIN" -key extra "$NO_CELL"
c=$(wait_call ringing)
expect_eq "$(jq -r .callee_msisdn <<<"$c")" "$BM" "the ringing call in /v1/calls"
sipp_server_wait cancel-a
sipp_server_wait cancel-b
expect_eq "$(calls)" "[]" "/v1/calls after CANCEL"
r=$(last_cdr)
expect_eq "$(jq -r '[.caller_msisdn, .callee_msisdn, .status, .cause, .duration_ms] | join(" ")' <<<"$r")" \
  "$AM $BM 487 cancelled 0" "CDR of the cancelled call"
expect_eq "$(jq -r .answered_at <<<"$r")" null "a cancelled call was never answered"
expect_eq "$(metric 'koryo_sip_calls_total\{outcome="cancelled"\}')" $((cancelled + 1)) "cancelled calls"
echo "ok: CANCEL"

# ---- MESSAGE, the callee's number in every form ------------------------------------------
relayed=$(metric koryo_sip_messages_relayed_total)
FORMS=("sip:+$BM@$DOMAIN;user=phone" "sip:$BM@$DOMAIN" "sip:0${BM#850}@$DOMAIN" "tel:+$BM")
CELL_A2=4670500040000ABC
sipp_server msg-b message_uas.xml "$PB" ${#FORMS[@]}
for i in "${!FORMS[@]}"; do
  sipp_client "msg-a$i" message_uac.xml "$PA" 1 -key caller "$AM" -key ruri "${FORMS[$i]}" \
    -key extra "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=$CELL_A2"
done
sipp_server_wait msg-b
expect_eq "$(grep -c "^message MESSAGE sip:[0-9]*@127.0.0.1:$PB SIP/2.0 from .*$AM.* body koryo message" \
  "$T/sipp-msg-b.log")" ${#FORMS[@]} "MESSAGEs delivered"
expect_eq "$(metric koryo_sip_messages_relayed_total)" $((relayed + ${#FORMS[@]})) "MESSAGEs relayed"
expect_eq "$(cell $A)" "$CELL_A2" "caller's cell after a MESSAGE"
echo "ok: MESSAGE to ${#FORMS[@]} forms of a number"

# ---- forking -------------------------------------------------------------------------------
sipp_server fork-d1 call_uas.xml "$PD1" 1
sipp_server fork-d2 cancel_uas.xml "$PD2" 1
sipp_client fork-a call_uac.xml "$PA" 1 -d 200 -key caller "$AM" -key ruri "sip:$DM@$DOMAIN" -key extra "$NO_CELL"
sipp_server_wait fork-d1
sipp_server_wait fork-d2
r=$(last_cdr)
expect_eq "$(jq -r '[.callee_msisdn, .status, .cause] | join(" ")' <<<"$r")" "$DM 200 normal" "CDR of the forked call"
echo "ok: forking"

# ---- Path ----------------------------------------------------------------------------------
sipp_server path-e path_uas.xml "$PE" 1
sipp_client path-a message_uac.xml "$PA" 1 -key caller "$AM" -key ruri "sip:$EM@$DOMAIN" -key extra "$NO_CELL"
sipp_server_wait path-e
echo "ok: Path"

# ---- error answers -------------------------------------------------------------------------
refused e404-inv invite_error.xml "$PA" "$AM" "sip:+85019999999999@$DOMAIN;user=phone" 404
refused e404-msg message_error.xml "$PA" "$AM" "tel:+85019999999999" 404
expect_eq "$(nbind $C)" 0 "C has no binding"
refused e480-inv invite_error.xml "$PA" "$AM" "sip:$CM@$DOMAIN" 480
# (A MESSAGE to C is kept by the SMS centre instead: tests/integration/sip_sms.sh.)
# A caller must be registered at the address it sends from.
refused e403-src invite_error.xml "$PX" "$AM" "sip:$BM@$DOMAIN" 403
refused e403-msg message_error.xml "$PX" "$AM" "sip:$BM@$DOMAIN" 403
refused e403-other invite_error.xml "$PA" "$BM" "sip:$DM@$DOMAIN" 403
refused e403-unreg message_error.xml "$PA" "$CM" "sip:$BM@$DOMAIN" 403
echo "ok: error answers"
# Nothing was sent anywhere but to the registered sources (10.0.0.7 fails here).
expect_eq "$(metric koryo_sip_send_errors_total)" 0 "SIP send errors"

# ---- restart ----------------------------------------------------------------------------
alive "the proxy tests"
koryod_stop
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
expect_eq "$(nbind $B)" 1 "B's binding after a restart"
sipp_server msg-b2 message_uas.xml "$PB" 1
sipp_client msg-a-restart message_uac.xml "$PA" 1 -key caller "$AM" -key ruri "sip:$BM@$DOMAIN" -key extra "$NO_CELL"
sipp_server_wait msg-b2
echo "ok: relayed after a restart"

expect_eq "$(metric koryo_sip_send_errors_total)" 0 "SIP send errors"
expect_eq "$(metric koryo_sip_cdr_write_errors_total)" 0 "CDR write errors"
alive "the whole test"
grep -E "ERROR|sanitizer" "$T/koryod.log" && fail "koryod logged errors"
echo "sip_proxy: ok"
