#!/usr/bin/env bash
# Charging durability: credit operations (adjustments, SMS charges, call
# slices and ends, top-up card redemptions) under load while koryod is killed
# with SIGKILL at random moments, 12 times, and restarted. Afterwards every
# operation koryod acknowledged is in the ledger exactly once, no card is
# redeemed twice (two workers race for each card), a retry of an acknowledged
# operation moves nothing, and each account's balances equal its ledger sums
# (summed here from the ledger the API pages out, and by koryod's own audit).
source "$KORYO_SRC/tests/integration/lib.sh"
command -v jq >/dev/null || fail "jq is needed"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
JSON=(-H 'Content-Type: application/json')
TOKEN=$(cat "$KORYO_TOKEN_FILE")

# Cards made and sent as an operator would, before the load. Few iterations:
# koryod hashes each PIN tried on one thread, and the load should not wait.
CARDS=2000
"$KORYO" voucher gen --count $CARDS --value 100 --currency EUR \
  --expires "$(date -u -d '+30 days' +%Y-%m-%d)" --batch KILL9 --out "$T/cards.csv" \
  --iterations 1000 >/dev/null || fail "koryo voucher gen"
"$KORYO" voucher upload --no-progress "$T/cards.csv" >/dev/null || fail "koryo voucher upload"
mapfile -t PINS < <(tail -n +2 "$T/cards.csv" | cut -d, -f2)

# post PATH BODY: prints the HTTP status only.
post() {
  curl -sS -o /dev/null -w '%{http_code}' -m 5 -X POST -H "Authorization: Bearer $TOKEN" \
    "${JSON[@]}" -d "$2" "$KORYO_API$1" 2>/dev/null || echo 000
}

# load ROUND WORKER: operations until killed; an op id is written to
# $T/acked only after koryod answered 200 (acknowledged means durable).
# Workers 1 and 2 try the same cards in the same order, as do 3 and 4, each
# for a subscriber of its own: every card is raced for.
load() {
  local r=$1 w=$2 n=0 code sub pair card pin
  while :; do
    n=$((n + 1))
    sub=46705100000000$((w % 3 + 1))
    pair=$(((w - 1) / 2))
    card=$((pair * CARDS / 2 + ((r - 1) * 150 + n) % (CARDS / 2)))
    pin=${PINS[$card]}
    code=$(post "/v1/charging/accounts/$sub/topup" "{\"op_id\":\"top-$r-$w-$n\",\"pin\":\"$pin\"}")
    if [ "$code" == 200 ]; then
      echo "t:top-$r-$w-$n" >>"$T/acked.$w"
      echo "top-$r-$w-$n $sub $pin" >>"$T/topups.$w"
    fi
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

# Top-ups: each acknowledged one credited its card once, no card twice, and
# a retry of one (same op id, same PIN) is answered and credits nothing.
topups=$(cat "$T"/topups.* | wc -l)
[ "$topups" -gt 10 ] || fail "only $topups top-ups were acknowledged: no card load"
jq -r 'select(.kind == "topup") | .session' "$T/ledger" | sort >"$T/redeemed"
expect_eq "$(uniq -d "$T/redeemed" | head -3)" "" "cards redeemed more than once"
[ "$(wc -l <"$T/redeemed")" -le $CARDS ] || fail "more top-ups than cards"
grep '^t:' "$T/acked" | LC_ALL=C sort >"$T/acked_t"
jq -r 'select(.kind == "topup") | .op_id + " " + .session' "$T/ledger" | LC_ALL=C sort |
  LC_ALL=C join - "$T/acked_t" >"$T/acked_cards"
expect_eq "$(wc -l <"$T/acked_cards")" "$topups" "acknowledged top-ups found in the ledger"
expect_eq "$(awk '{print $2}' "$T/acked_cards" | sort | uniq -d | head -3)" "" \
  "one card behind two acknowledged top-ups"
expect_eq "$(jq -r 'select(.kind == "topup") | .amount' "$T/ledger" | sort -u | xargs)" 100 \
  "every top-up credits the card's value"
read -r op sub pin < <(cat "$T"/topups.* | shuf -n 1)
before=$(api GET "/v1/charging/accounts/$sub" | sed '$d' | jq -c .balances)
code=$(post "/v1/charging/accounts/$sub/topup" "{\"op_id\":\"$op\",\"pin\":\"$pin\"}")
expect_eq "$code" 200 "retry of top-up $op"
expect_eq "$(api GET "/v1/charging/accounts/$sub" | sed '$d' | jq -c .balances)" "$before" \
  "balances after a top-up's retry"

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
echo "PASS charging_kill9 ($acked operations acknowledged, $topups top-ups, $kills kills)"
