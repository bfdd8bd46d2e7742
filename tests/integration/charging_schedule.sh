#!/usr/bin/env bash
# The charging schedule on a real koryod with the Koryolink demo profile,
# its clock moved on with clock.offset across restarts. A citizen (plan
# citizen_basic: 3,000 won a quarter, 200 free minutes a month, not carried
# over) is read through the API now, then on the 10th of each of the next
# three months: every month the free minutes are back to 200 however many
# were used (calls through the API's sessions endpoints); the quarterly fee
# is in the ledger exactly once per quarter, also after two more restarts in
# the same quarter; and at every step the account's balances equal the sums
# of its ledger rows, and koryod's own audit finds no account that differs.
source "$KORYO_SRC/tests/integration/lib.sh"
command -v jq >/dev/null || fail "jq is needed"

SUB=467050000000001 # citizen, active, in profiles/koryolink/subscribers.csv
FOREIGNER=467051000000001
PROFILE="$KORYO_SRC/profiles/koryolink"
JSON=(-H 'Content-Type: application/json')
FEE=3000
MINUTES=200

# body_of METHOD PATH [curl args]: the body of an API call that must answer 200.
body_of() {
  local out code
  out=$(api "$@")
  code=$(tail -n1 <<<"$out")
  [ "$code" == 200 ] || fail "$1 $2: HTTP $code: $(sed '$d' <<<"$out")"
  sed '$d' <<<"$out"
}

# month_add YYYY-MM K: the month K months later.
month_add() {
  date -u -d "$1-01 +$2 month" +%Y-%m
}

# at MONTH DAY: that day of MONTH at 12:00 UTC, in seconds since the epoch.
at() {
  date -u -d "$1-$(printf %02d "$2") 12:00:00" +%s
}

# start_at WHEN [pass]: (re)starts koryod with its clock at WHEN (seconds since
# the epoch, or "now"). With "pass", waits for the schedule's pass at start
# to report the accounts it charged or renewed (its rows are then written).
start_at() {
  koryod_stop
  local offset=0 before
  [ "$1" == now ] || offset=$(($1 - $(date +%s)))
  [ -f "$T/koryod.conf" ] || koryod_config
  sed -i '/^clock.offset/d' "$T/koryod.conf"
  echo "clock.offset = $offset" >>"$T/koryod.conf"
  before=$(grep -c 'ocs: schedule: [0-9]* accounts' "$T/koryod.log" 2>/dev/null || true)
  koryod_start --profile "$PROFILE"
  [ "${2:-}" == pass ] || return 0
  for _ in $(seq 1 300); do
    [ "$(grep -c 'ocs: schedule: [0-9]* accounts' "$T/koryod.log")" -gt "${before:-0}" ] && return 0
    sleep 0.1
  done
  fail "no schedule pass reported within 30 s of a start in a new month"
}

# ledger_of ACCOUNT: its ledger rows, one JSON object a line, paged.
ledger_of() {
  local after=0 page next
  while :; do
    page=$(body_of GET "/v1/charging/accounts/$1/ledger?after=$after&limit=1000")
    jq -c '.rows[]' <<<"$page"
    next=$(jq -r .next_after <<<"$page")
    [ "$next" == null ] && break
    after=$next
  done
}

# check_books ACCOUNT WHAT: its balances equal its ledger sums; koryod's audit
# of every account agrees.
check_books() {
  local acct=$1 what=$2 got want audit
  got=$(body_of GET "/v1/charging/accounts/$acct" | jq -c \
    '{kpw: (.balances[] | select(.currency == "KPW") | .amount),
      eur: (.balances[] | select(.currency == "EUR") | .amount),
      usd: (.balances[] | select(.currency == "USD") | .amount),
      cny: (.balances[] | select(.currency == "CNY") | .amount),
      seconds: .allowance.seconds, sms: .allowance.sms}')
  want=$(ledger_of "$acct" | jq -s -c \
    '{kpw: (map(select(.currency == "KPW") | .amount) | add // 0),
      eur: (map(select(.currency == "EUR") | .amount) | add // 0),
      usd: (map(select(.currency == "USD") | .amount) | add // 0),
      cny: (map(select(.currency == "CNY") | .amount) | add // 0),
      seconds: (map(.seconds) | add // 0), sms: (map(.sms) | add // 0)}')
  expect_eq "$got" "$want" "$what: account $acct's balances against its ledger"
  audit=$(body_of GET /v1/charging/audit)
  expect_eq "$(jq .differ <<<"$audit")" 0 "$what: koryod's audit (accounts differing)"
  [ "$(jq .accounts <<<"$audit")" -gt 800 ] || fail "$what: the audit checked too few accounts"
}

# account FIELD: a field of the citizen's account (jq path).
account() {
  body_of GET "/v1/charging/accounts/$SUB" | jq -r "$1"
}

# phone_call SESSION SLICES USED: a national call of SLICES 60 s slices, USED seconds
# used; checks what was granted and charged.
phone_call() {
  local s r
  for s in $(seq 0 $(($2 - 1))); do
    r=$(body_of POST "/v1/charging/sessions/$1/reserve" "${JSON[@]}" \
      -d "{\"subscriber\":\"$SUB\",\"slice\":$s,\"destination\":\"national\"}")
    expect_eq "$(jq .granted_seconds <<<"$r")" 60 "call $1 slice $s: seconds granted"
  done
  r=$(body_of POST "/v1/charging/sessions/$1/end" "${JSON[@]}" -d "{\"used_seconds\":$3}")
  expect_eq "$(jq .charged_seconds <<<"$r")" $((($3 + 59) / 60 * 60)) "call $1: seconds charged"
}

# fee_months: the months (YYYY-MM) of the citizen's quarterly fee rows.
fee_months() {
  ledger_of "$SUB" | jq -r --argjson fee "$FEE" \
    'select(.kind == "period" and .currency == "KPW" and .amount == -$fee) | .session'
}

# period ACCOUNT MONTH: the account's one period row of MONTH.
period() {
  local rows
  rows=$(ledger_of "$1" | jq -c --arg m "$2" 'select(.kind == "period" and .session == $m)')
  [ "$(grep -c . <<<"$rows")" == 1 ] || fail "account $1: period rows of $2: $rows"
  echo "$rows"
}

# is_quarter_start YYYY-MM
is_quarter_start() {
  case "${1#*-}" in 01 | 04 | 07 | 10) return 0 ;; *) return 1 ;; esac
}

# --- now -------------------------------------------------------------------------
M0=$(date -u +%Y-%m)
start_at now pass
expect_eq "$(account .plan)" citizen_basic "the citizen's plan"
# Opened at the first start: 3,000 won of initial credit paid the first fee.
expect_eq "$(account '.balances[] | select(.currency == "KPW") | .amount')" 0 "KPW now"
expect_eq "$(account .allowance.seconds)" $((MINUTES * 60)) "free seconds now"
expect_eq "$(account .allowance.sms)" 100 "free SMS now"
expect_eq "$(account .allowance.valid_until)" "$(month_add "$M0" 1)-01T00:00:00Z" "valid until"
expect_eq "$(fee_months)" "$M0" "fee rows after the account opened"
initial=$(ledger_of "$SUB" | jq -s '[.[] | select(.kind == "initial")] | length')
expect_eq "$initial" 1 "initial credit rows"
# Savings for the fees to come, and 5 minutes used (290 s: five minutes charged).
body_of POST "/v1/charging/accounts/$SUB/adjustments" "${JSON[@]}" \
  -d '{"op_id":"schedule-savings","currency":"KPW","amount":10000,"reason":"savings for the fees"}' >/dev/null
phone_call now-1 5 290
expect_eq "$(account .allowance.seconds)" $((MINUTES * 60 - 300)) "free seconds after a call"
check_books "$SUB" now
check_books "$FOREIGNER" now
kpw=10000

# --- the next three months --------------------------------------------------------
used=300
for k in 1 2 3; do
  M=$(month_add "$M0" "$k")
  start_at "$(at "$M" 10)" pass
  # The month's 200 minutes, not 200 plus what was left.
  expect_eq "$(account .allowance.seconds)" $((MINUTES * 60)) "$M: free seconds"
  expect_eq "$(account .allowance.sms)" 100 "$M: free SMS"
  expect_eq "$(account .allowance.valid_until)" "$(month_add "$M" 1)-01T00:00:00Z" \
    "$M: valid until"
  row=$(period "$SUB" "$M")
  expect_eq "$(jq .seconds <<<"$row")" "$used" "$M: seconds renewed (those used)"
  expect_contains "$(jq -r .reason <<<"$row")" "the rest of last month expired" "$M: renewal"
  if is_quarter_start "$M"; then
    kpw=$((kpw - FEE))
    expect_eq "$(jq .amount <<<"$row")" -$FEE "$M: the quarterly fee"
    expect_contains "$(jq -r .reason <<<"$row")" "fee KPW 3,000" "$M: the fee's reason"
  else
    expect_eq "$(jq .amount <<<"$row")" 0 "$M: no fee in the middle of a quarter"
  fi
  expect_eq "$(account '.balances[] | select(.currency == "KPW") | .amount')" "$kpw" "$M: KPW"
  phone_call "m$k-1" "$((k + 1))" $((k * 60))
  used=$((k * 60))
  expect_eq "$(account .allowance.seconds)" $((MINUTES * 60 - used)) "$M: after a call"
  check_books "$SUB" "$M"
done

# The quarter that began within those months: its fee once, and the fee of the
# quarter the account opened in once.
M3=$(month_add "$M0" 3)
for k in 1 2 3; do
  is_quarter_start "$(month_add "$M0" "$k")" && Q=$(month_add "$M0" "$k")
done
expect_eq "$(fee_months | tr '\n' ' ')" "$M0 $Q " "fee rows after three months"

# Two more restarts in the same quarter (and month): nothing more is charged or
# renewed; the minutes used this month stay used.
for day in 20 25; do
  start_at "$(at "$M3" "$day")"
  expect_eq "$(fee_months | tr '\n' ' ')" "$M0 $Q " "fee rows after a restart on $M3-$day"
  period "$SUB" "$M3" >/dev/null
  expect_eq "$(account .allowance.seconds)" $((MINUTES * 60 - used)) "$M3-$day: free seconds"
  expect_eq "$(account '.balances[] | select(.currency == "KPW") | .amount')" "$kpw" \
    "$M3-$day: KPW"
  check_books "$SUB" "$M3-$day"
done
check_books "$FOREIGNER" "$M3"
check_books org:WPK "$M3"

# Once per quarter over the whole ledger, and no operation twice.
per_quarter=$(fee_months | awk -F- '{ print $1 "Q" int(($2 - 1) / 3) }' | sort | uniq -c |
  awk '$1 != 1' | wc -l)
expect_eq "$per_quarter" 0 "quarters with other than one fee"
dups=$(ledger_of "$SUB" | jq -r .op_id | sort | uniq -d | wc -l)
expect_eq "$dups" 0 "op ids twice in the citizen's ledger"
errors=$(grep ' ERROR ' "$T/koryod.log" | head -5 || true)
expect_eq "$errors" "" "errors in koryod's log"
koryod_stop
echo "PASS charging_schedule (from $M0 to $M3, fees in $M0 and $Q)"
