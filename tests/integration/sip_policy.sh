#!/usr/bin/env bash
# The policy engine in the SIP proxy (docs/policy.md, docs/sip-proxy.md), on
# the demo profile, inside a network namespace with only loopback:
#   - a citizen calling an international number gets 403 naming the rule
#     (the phrase, a Warning and a Reason header), and a CDR "refused";
#   - a foreigner calling or texting a citizen's number the same;
#   - a call the policy allows, up between two foreigners, is ended by koryod
#     (BYE to both parties, with the rule as the reason) the moment an
#     operator's change of a right no longer allows it; the change is audited;
#     the call's CDR says "policy".
# Env: KORYOD, KORYO, KORYO_SRC, SIP_UA.
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"
sip_koryod_start

A=467050000000031 B=467050000000032 F=467051000000031 G=467051000000032
AM=85019120000031 BM=85019120000032 FM=85019130000031 GM=85019130000032
PW=pw-koryo-policy
for s in $A $B $F $G; do set_password $s "$PW"; done
NO_CELL="X-Koryo-Test: policy"
reg() { # NAME MSISDN PORT
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$2" "$2" "$PW" >"$T/$1.csv"
  sipp_client "$1" reg_digest.xml "$3" 1 -inf "$T/$1.csv" -key expires 3600 -key extra "$NO_CELL"
}
PA=$(free_sip_port) PB=$(free_sip_port) PF=$(free_sip_port) PG=$(free_sip_port)
reg reg-a $AM $PA
reg reg-b $BM $PB
reg reg-f $FM $PF
reg reg-g $GM $PG

final() { # NAME: the first final response line SIPp received
  awk '/message received/ {r = 1; next} r && /^SIP\/2\.0 [2-6][0-9][0-9]/ {print; exit}
       /message sent/ {r = 0}' "$T/sipp-$1.msg" | tr -d '\r'
}
refused_by() { # NAME RULE REASON: the 403 names the rule three ways
  expect_eq "$(final "$1")" "SIP/2.0 403 $3" "$1: status line"
  grep -q "^Warning: 399 koryo \"$3\"" "$T/sipp-$1.msg" || fail "$1: no Warning naming the rule"
  grep -q "^Reason: SIP;cause=403;text=\"$2\"" "$T/sipp-$1.msg" || fail "$1: no Reason naming $2"
}

# ---- refusals ------------------------------------------------------------------------
sipp_client a-intl invite_error.xml $PA 1 -key caller $AM -key ruri "sip:0086105551234@$DOMAIN" \
  -key extra "$NO_CELL"
refused_by a-intl citizen-international "citizens may not call or text international numbers"
sipp_client f-cit invite_error.xml $PF 1 -key caller $FM -key ruri "sip:0$(cut -c4- <<<"$BM")@$DOMAIN" \
  -key extra "$NO_CELL"
refused_by f-cit foreigner-citizens "foreigners may not call or text citizens' numbers"
sipp_client f-cit-sms message_error.xml $PF 1 -key caller $FM -key ruri "tel:+$BM" -key extra "$NO_CELL"
refused_by f-cit-sms foreigner-citizens "foreigners may not call or text citizens' numbers"
cdrs=$(api_ok GET "/v1/cdrs?limit=100")
expect_eq "$(jq '[.cdrs[] | select(.cause == "refused")] | length' <<<"$cdrs")" 2 \
  "a CDR for each refused call attempt"
echo "ok: refusals name their rule"

# ---- a call the policy stops allowing is ended ------------------------------------------
sipp_server uas-g call_uas.xml $PG 1
rc_uac=0
timeout 60 sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/call_uac_cut.xml" -p $PF -m 1 -timeout 50s \
  "${SIPP_COMMON[@]}" $(sipp_files fg) -key domain "$DOMAIN" -key caller $FM \
  -key ruri "sip:+$GM@$DOMAIN;user=phone" -key extra "$NO_CELL" >"$T/sipp-fg.out" 2>&1 &
UAC=$!
SIPP_PIDS+=($UAC)
for _ in $(seq 1 100); do
  [ "$(api_ok GET /v1/calls | jq '[.calls[] | select(.state == "answered")] | length')" = 1 ] && break
  sleep 0.1
done
[ "$(api_ok GET /v1/calls | jq '[.calls[] | select(.state == "answered")] | length')" = 1 ] ||
  fail "the foreigners' call is not up: $(api_ok GET /v1/calls)"
right=$(api_ok GET /v1/policy/rights/foreigner-national)
api_ok PUT /v1/policy/rights/foreigner-national -H 'X-Koryo-Actor: test.ops' \
  -d "$(jq -c '.verdict = "deny" | .reason = "foreigners may not call each other today" | del(.name)' <<<"$right")" \
  >/dev/null
wait $UAC || sipp_report fg "the caller did not get koryod's BYE"
sipp_server_wait uas-g
grep -q 'bye reason *SIP;cause=403;text="foreigner-national"' "$T/sipp-fg.log" ||
  fail "the BYE names the rule: $(grep 'bye reason' "$T/sipp-fg.log")"
expect_eq "$(api_ok GET /v1/calls | jq '.calls | length')" 0 "no call left up"
for _ in $(seq 1 50); do
  cause=$(api_ok GET "/v1/cdrs?limit=100" | jq -r '[.cdrs[] | select(.caller_msisdn == "'$FM'")] | last | .cause')
  [ "$cause" = policy ] && break
  sleep 0.1
done
expect_eq "$cause" policy "the ended call's CDR"
audit=$(api_ok GET "/v1/policy/audit?limit=100")
expect_eq "$(jq -r '[.audit[] | select(.object | test("foreigner-national"))] | last | .actor' <<<"$audit")" \
  "api:test.ops" "the change is audited with its actor"
echo "ok: a policy change ends the calls it no longer allows"
m=$(api_ok GET /metrics)
grep -q '^koryo_sip_refused_total{reason="policy"} 3$' <<<"$m" || fail "metrics: three refusals by rule"
grep -q '^koryo_sip_calls_ended_by_koryod_total{reason="policy"} 1$' <<<"$m" ||
  fail "metrics: one call ended by the change"
alive "the policy test"
! grep -E " ERROR " "$T/koryod.log" || fail "koryod logged errors"
