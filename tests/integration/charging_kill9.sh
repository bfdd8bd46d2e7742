#!/usr/bin/env bash
# Charging durability: credit operations (adjustments, SMS charges, call
# slices and ends) under load while koryod is killed with SIGKILL at random
# moments, 12 times, and restarted. Afterwards every operation koryod
# acknowledged is in the ledger exactly once, a retry of an acknowledged
# operation moves nothing, and each account's balances equal its ledger sums
# (summed here from the ledger the API pages out, and by koryod's own audit).
source "$KORYO_SRC/tests/integration/lib.sh"
command -v jq >/dev/null || fail "jq is needed"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
JSON=(-H 'Content-Type: application/json')
TOKEN=$(cat "$KORYO_TOKEN_FILE")

# post PATH BODY: prints the HTTP status only.
post() {
  curl -sS -o /dev/null -w '%{http_code}' -m 5 -X POST -H "Authorization: Bearer $TOKEN" \
    "${JSON[@]}" -d "$2" "$KORYO_API$1" 2>/dev/null || echo 000
}

# load ROUND WORKER: operations until killed; an op id is written to
# $T/acked only after koryod answered 200 (acknowledged means durable).
load() {
  local r=$1 w=$2 n=0 code sub
  while :; do
    n=$((n + 1))
    sub=46705100000000$((w % 3 + 1))
    code=$(post "/v1/charging/accounts/$sub/adjustments" \
      "{\"op_id\":\"adj-$r-$w-$n\",\"currency\":\"EUR\",\"amount\":7,\"reason\":\"load test\"}")
    [ "$code" == 200 ] && echo "a:adj-$r-$w-$n" >>"$T/acked.$w"
    code=$(post /v1/charging/sms \
      "{\"op_id\":\"sms-$r-$w-$n\",\"subscriber\":\"$sub\",\"destination\":\"international\"}")
    [ "$code" == 200 ] && echo "s:sms-$r-$w-$n" >>"$T/acked.$w"
    local call="call-$r-$w-$n"
    code=$(post "/v1/charging/sessions/$call/reserve" \
      "{\"subscriber\":\"46705000000000$((w % 3 + 1))\",\"slice\":0,\"destination\":\"national\"}")
    [ "$code" == 200 ] && echo "c:$call/0" >>"$T/acked.$w"
    code=$(post "/v1/charging/sessions/$call/end" '{"used_seconds":42}')
    [ "$code" == 200 ] && echo "c:$call/end" >>"$T/acked.$w"
  done
}

kills=12
for r in $(seq 1 $kills); do
  pids=()
  for w in 1 2 3 4; do
    load "$r" "$w" &
    pids+=($!)
  done
  sleep "$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.2f", 0.4 + rand() * 1.2 }')"
  kill -9 "$KORYOD_PID"
  wait "$KORYOD_PID" 2>/dev/null || true
  KORYOD_PID=""
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  koryod_start
done

cat "$T"/acked.* | sort >"$T/acked"
acked=$(wc -l <"$T/acked")
[ "$acked" -gt 100 ] || fail "only $acked operations were acknowledged: no load"

# The whole ledger, paged.
after=0
: >"$T/ledger"
while :; do
  page=$(api GET "/v1/charging/ledger?after=$after&limit=1000" | sed '$d')
  jq -c '.rows[]' <<<"$page" >>"$T/ledger"
  next=$(jq -r '.next_after' <<<"$page")
  [ "$next" == null ] && break
  after=$next
done
jq -r .op_id "$T/ledger" | sort >"$T/ledger_ops"
dups=$(uniq -d "$T/ledger_ops" | wc -l)
expect_eq "$dups" 0 "op ids in the ledger more than once"
missing=$(comm -23 "$T/acked" "$T/ledger_ops" | head -5)
expect_eq "$missing" "" "acknowledged operations missing from the ledger"

# A retry of acknowledged operations is answered and moves nothing.
before=$(api GET /v1/charging/accounts/467051000000002 | sed '$d' | jq -c .balances)
for id in $(grep '^a:adj-1-2-' "$T/acked" | head -3 | cut -c3-); do
  code=$(post /v1/charging/accounts/467051000000002/adjustments \
    "{\"op_id\":\"$id\",\"currency\":\"EUR\",\"amount\":7,\"reason\":\"load test\"}")
  expect_eq "$code" 200 "retry of $id"
done
after_b=$(api GET /v1/charging/accounts/467051000000002 | sed '$d' | jq -c .balances)
expect_eq "$after_b" "$before" "balances after retries"

# Balances equal the ledger's sums, per account touched.
for acct in 467050000000001 467050000000002 467050000000003 467051000000001 \
  467051000000002 467051000000003; do
  want=$(jq -s --arg a "$acct" '[.[] | select(.account == $a)] |
    {eur: (map(select(.currency == "EUR") | .amount) | add // 0),
     kpw: (map(select(.currency == "KPW") | .amount) | add // 0),
     seconds: (map(.seconds) | add // 0), sms: (map(.sms) | add // 0)}' "$T/ledger" | jq -c .)
  got=$(api GET "/v1/charging/accounts/$acct" | sed '$d' | jq -c \
    '{eur: (.balances[] | select(.currency == "EUR") | .amount),
      kpw: (.balances[] | select(.currency == "KPW") | .amount),
      seconds: .allowance.seconds, sms: .allowance.sms}')
  expect_eq "$got" "$want" "account $acct: balances against the ledger"
done
audit=$(api GET /v1/charging/audit | sed '$d')
expect_eq "$(jq .differ <<<"$audit")" 0 "koryod's audit"

# The calls open at a kill were settled: every call has exactly one end.
open=$(jq -s '[.[] | select(.kind == "reserve" or .kind == "call_end")] | group_by(.session) |
  map(select((map(select(.kind == "call_end")) | length) != 1)) | length' "$T/ledger")
expect_eq "$open" 0 "calls without exactly one end after the restarts"
koryod_stop
echo "PASS charging_kill9 ($acked operations acknowledged, $kills kills)"
