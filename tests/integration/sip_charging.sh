#!/usr/bin/env bash
# Credit control in the SIP proxy (docs/charging.md, docs/sip-proxy.md), on
# the demo profile, inside a network namespace with only loopback:
#   - a foreigner without credit is refused with a clear reason (403);
#   - with credit for exactly one 30 s unit, the call is answered and cut off
#     by koryod (BYE to both parties) at 30 s, and its CDR, the rated charge
#     and the balance say so;
#   - a top-up card redeemed by texting *123*PIN# is credited and answered
#     with a MESSAGE; *123# answers with the balance;
#   - through it all the ledger equals the balances (koryod's own audit).
# Env: KORYOD, KORYO, KORYO_SRC, SIP_UA.
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"
need_tools openssl
sip_koryod_start

F=467051000000041 G=467051000000042
FM=85019130000041 GM=85019130000042
PW=pw-koryo-charging
for s in $F $G; do set_password $s "$PW"; done
reg() { # NAME MSISDN PORT
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$2" "$2" "$PW" >"$T/$1.csv"
  sipp_client "$1" reg_digest.xml "$3" 1 -inf "$T/$1.csv" -key expires 3600 -key extra "X-Test: charging"
}
PF=$(free_sip_port) PG=$(free_sip_port)
reg reg-f $FM $PF
reg reg-g $GM $PG

eur() { api_ok GET "/v1/charging/accounts/$1" | jq -r '.balances[] | select(.currency == "EUR") | .amount'; }
adjust() { # IMSI CENTS OP_ID
  api_ok POST "/v1/charging/accounts/$1/adjustments" -H 'Content-Type: application/json' \
    -d "{\"op_id\":\"$3\",\"currency\":\"EUR\",\"amount\":$2,\"reason\":\"sip_charging test\"}" >/dev/null
}
final() { # NAME: the first final response line SIPp received
  awk '/message received/ {r = 1; next} r && /^SIP\/2\.0 [2-6][0-9][0-9]/ {print; exit}
       /message sent/ {r = 0}' "$T/sipp-$1.msg" | tr -d '\r'
}

# ---- no credit: refused -------------------------------------------------------------------
have=$(eur $F)
[ "$have" -gt 0 ] || fail "a foreigner starts with credit (the SIM's), got '$have'"
adjust $F "-$have" drain-1
expect_eq "$(eur $F)" 0 "balance drained"
sipp_client nocredit invite_error.xml $PF 1 -key caller $FM -key ruri "sip:+$GM@$DOMAIN;user=phone" \
  -key extra "X-Test: charging"
status=$(final nocredit)
[[ "$status" == "SIP/2.0 403 "*credit* ]] || fail "no credit: expected a 403 naming the credit, got '$status'"
echo "ok: no credit, no call ($status)"

# ---- one unit of credit: cut off at 30 s -----------------------------------------------------
# The foreigners' tariff: EUR 0.20 a minute in 30 s units, EUR 0.10 each
# (profiles/koryolink/tariffs.csv): credit for one unit.
adjust $F 10 credit-1
# The callee waits for koryod's BYE longer than sipp_server's 5 s per message.
timeout 90 sipp -sf "$SCEN/call_uas.xml" -p $PG -m 1 -timeout 80s -i 127.0.0.1 -t u1 -nostdin -nd \
  -trace_err -trace_logs -trace_msg -recv_timeout 60000 -timeout_error $(sipp_files uas-g) \
  -key domain "$DOMAIN" >"$T/sipp-uas-g.out" 2>&1 &
SIPP_SERVER[uas-g]=$!
SIPP_PIDS+=($!)
for _ in $(seq 1 50); do
  [ -n "$(ss -Hlnu "sport = :$PG")" ] && break
  sleep 0.1
done
start=$(date +%s.%N)
timeout 90 sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/call_uac_cut.xml" -p $PF -m 1 -timeout 80s \
  "${SIPP_COMMON[@]}" $(sipp_files cut) -key domain "$DOMAIN" -key caller $FM \
  -key ruri "sip:+$GM@$DOMAIN;user=phone" -key extra "X-Test: charging" >"$T/sipp-cut.out" 2>&1 ||
  sipp_report cut "the call was not ended by koryod"
end=$(date +%s.%N)
sipp_server_wait uas-g
grep -q 'bye reason *SIP;cause=403;text="Credit Exhausted"' "$T/sipp-cut.log" ||
  fail "the BYE says why: $(grep 'bye reason' "$T/sipp-cut.log")"
took=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%d", b - a}')
[ "$took" -ge 30 ] && [ "$took" -le 33 ] || fail "the call lasted ${took}s, not 30"
for _ in $(seq 1 50); do
  cdr=$(api_ok GET "/v1/cdrs?limit=100" | jq -c '[.cdrs[] | select(.caller_msisdn == "'$FM'")] | last')
  [ "$(jq -r .cause <<<"$cdr")" = credit-exhausted ] && break
  sleep 0.1
done
expect_eq "$(jq -r .cause <<<"$cdr")" credit-exhausted "the CDR's cause"
d=$(jq -r .duration_s <<<"$cdr")
[ "$d" -ge 29 ] && [ "$d" -le 31 ] || fail "the CDR's duration is ${d}s, not 30"
expect_eq "$(eur $F)" 0 "the unit was charged"
echo "ok: cut off after ${d}s, charged one unit"

# ---- top-up and balance by service code ---------------------------------------------------------
PIN=40962171 SALT=5a0e1f2d3c4b5a69788796a5b4c3d2e1
hash=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "pass:$PIN" -kdfopt "hexsalt:$SALT" \
  -kdfopt iter:1000 PBKDF2 | tr -d ':\n' | tr 'A-F' 'a-f')
api_ok POST /v1/charging/voucher-batches -H 'Content-Type: application/json' \
  -d "{\"batch\":\"sip-test\",\"salt\":\"$SALT\",\"iterations\":1000,\"kdf\":\"pbkdf2-sha256\",\"currency\":\"EUR\",\"value\":500,\"expires\":\"2099-12-31\",\"cards\":[{\"serial\":\"SIP0001\",\"pin_hash\":\"$hash\"}]}" >/dev/null
svc() { # NAME RURI-USER
  timeout 30 sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/service_uac.xml" -oocsf "$SCEN/service_answer.xml" \
    -p $PF -m 1 -timeout 20s "${SIPP_COMMON[@]}" $(sipp_files "$1") -key domain "$DOMAIN" \
    -key caller $FM -key ruri "sip:$2@$DOMAIN" >"$T/sipp-$1.out" 2>&1 || sipp_report "$1" "service code $2"
  sed -n 's/.*service answer *//p' "$T/sipp-$1.log"
}
answer=$(svc topup "*123*$PIN%23")
[[ "$answer" == *"EUR 5.00"* ]] || fail "the top-up's answer names the amount: '$answer'"
expect_eq "$(eur $F)" 500 "credited by the card"
answer=$(svc topup-again "*123*$PIN%23")
[[ "$answer" != *"Credited"* ]] || fail "a card is redeemed once: '$answer'"
expect_eq "$(eur $F)" 500 "a second redemption credits nothing"
answer=$(svc balance "*123%23")
[[ "$answer" == *"EUR 5.00"* ]] || fail "the balance answer: '$answer'"
echo "ok: top-up and balance by service code ($answer)"
# The phone sent the PIN; koryod must not have written it anywhere.
! grep -q "$PIN" "$T/koryod.log" || fail "the PIN is in koryod's log"

audit=$(api_ok GET /v1/charging/audit)
expect_eq "$(jq -r .differ <<<"$audit")" 0 \
  "the ledger equals the balances: $audit"
m=$(api_ok GET /metrics)
grep -q '^koryo_sip_refused_total{reason="no-credit"} 1$' <<<"$m" || fail "metrics: one refusal for credit"
grep -q '^koryo_sip_calls_ended_by_koryod_total{reason="credit-exhausted"} 1$' <<<"$m" ||
  fail "metrics: one call ended for credit"
grep -q '^koryo_sip_service_requests_total 3$' <<<"$m" || fail "metrics: three service requests"
alive "the charging test"
! grep -E " ERROR " "$T/koryod.log" || fail "koryod logged errors"
