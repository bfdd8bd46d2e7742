#!/usr/bin/env bash
# Online charging as an operator sees it, against a real koryod with the
# Koryolink profile (docs/charging.md, docs/api.md "Charging", docs/cli.md):
# plans and tariffs; balances of freshly opened accounts; a card batch made by
# `koryo voucher gen` and sent by `koryo voucher upload` (in parts, resumed);
# top-ups through the API and `koryo account topup` with the PIN on stdin; a
# card redeemed once, wrong PINs refused and the sixth in 15 minutes
# rate-limited, an expired card refused; adjustments idempotent by op_id;
# validation errors naming the field; ledger paging; rated CDRs of an SMS and
# a call in JSON, JSON lines and CSV; balances equal to the ledger;
# organisations' monthly caps listed, set through the API and `koryo account
# org`, refused naming the field, and applied at the next renewal; and no
# PIN anywhere: not in an API answer, koryod's log, the CLI's output or the
# store's files.
source "$KORYO_SRC/tests/integration/cli_lib.sh"
command -v jq >/dev/null || fail "jq is needed"
cli_start

JSON=(-H 'Content-Type: application/json')
# post PATH JSON: call POST with a JSON body (call: lib.sh; every answer is
# kept in $T/api-output for the check that no PIN is ever echoed).
post() { call POST "$1" "${JSON[@]}" -d "$2"; }
# balance ACCOUNT CURRENCY: the amount in minor units (BODY stays the
# caller's: this runs in a subshell).
balance() {
  call GET "/v1/charging/accounts/$1"
  jget ".balances[] | select(.currency == \"$2\") | .amount"
}
# pin FILE N: the PIN of the Nth card of a card file.
pin() { sed -n "$(($2 + 1))p" "$1" | cut -d, -f2; }
serial() { sed -n "$(($2 + 1))p" "$1" | cut -d, -f1; }

CIT=467050000000011   # citizen_basic
FOR=467051000000011   # foreigner_sim
FOR_MSISDN=$(grep "^$FOR," "$KORYO_SRC/profiles/koryolink/subscribers.csv" | cut -d, -f2)
FOR2=467051000000012
FOR3=467051000000013
month_end=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%Y-%m-01T00:00:00Z)

# --- plans and tariffs ----------------------------------------------------------
call GET /v1/charging/plans
expect_code 200 "plans"
expect_eq "$(jget '[.plans[].name] | sort | join(" ")')" "citizen_basic foreigner_sim official_line" \
  "the profile's plans"
expect_eq "$(jget '.plans[] | select(.name == "citizen_basic") |
  [.class, .currency, .fee, .fee_months, .initial_credit, .allowance_minutes, .allowance_sms] |
  join(" ")')" "citizen KPW 3000 3 3000 200 100" "citizen_basic as plans.csv has it"
plans=$BODY
call GET /v1/charging/tariffs
expect_code 200 "tariffs"
expect_eq "$(jget '.tariffs | length')" \
  "$(($(wc -l <"$KORYO_SRC/profiles/koryolink/tariffs.csv") - 1))" "a tariff per line of tariffs.csv"
expect_eq "$(jget '.tariffs[] | select(.plan == "foreigner_sim" and .destination == "international"
  and .currency == "EUR") | [.per_minute, .unit_seconds, .per_sms, .allowance] | join(" ")')" \
  "150 30 25 false" "foreigner_sim's EUR tariff abroad"
expect_eq "$(jget '[.tariffs[] | select(.plan == "official_line") | .currency] | unique | join(",")')" \
  "" "official lines: allowance only (no currency)"

# --- accounts after opening -------------------------------------------------------
# A citizen starts with the initial credit less the first quarterly fee, and
# the month's free minutes and SMS.
want=$(jq '.plans[] | select(.name == "citizen_basic") | .initial_credit - .fee' <<<"$plans")
expect_eq "$(balance $CIT KPW)" "$want" "citizen: initial credit minus the first fee"
call GET /v1/charging/accounts/$CIT
expect_eq "$(jget '[.plan, .allowance.seconds, .allowance.sms, .allowance.valid_until] | join(" ")')" \
  "citizen_basic 12000 100 $month_end" "citizen: 200 free minutes and 100 SMS until the month's end"
expect_eq "$(jget '[.balances[].currency] | sort | join(" ")')" "CNY EUR KPW USD" \
  "a balance per currency of the network"
call GET "/v1/charging/accounts/$CIT/ledger"
expect_eq "$(jget '[.rows[].kind] | join(" ")')" "initial period" "citizen: the rows of the opening"
expect_eq "$(balance $FOR EUR)" 2000 "foreigner: EUR 20.00 of call credit"
call GET /v1/charging/accounts/$FOR
expect_eq "$(jget .allowance.seconds)" 0 "foreigner: no free minutes"

run account show "msisdn:$FOR_MSISDN"
expect_rc 0 "account show"
grep -qx 'plan: *foreigner_sim' <<<"$OUT" || fail "account show: no plan line: $OUT"
grep -qE '^EUR +20\.00 +-$' <<<"$OUT" || fail "account show: EUR 20.00 in major units: $OUT"
grep -qE '^KPW +0 +-$' <<<"$OUT" || fail "account show: KPW without minor digits: $OUT"
run account show $CIT
grep -qE "^minutes +200 min +$month_end\$" <<<"$OUT" || fail "account show: free minutes: $OUT"
grep -qE "^SMS +100 +$month_end\$" <<<"$OUT" || fail "account show: free SMS: $OUT"
run --json account show $CIT
call GET /v1/charging/accounts/$CIT
expect_eq "$(jq -c .allowance <<<"$OUT")" "$(jq -c .allowance <<<"$BODY")" "account show --json"
run account show 467059999999999
expect_rc 1 "account show of no one"
expect_eq "$ERR" "koryo: no such account" "account show of no one: message"

# --- a card batch: gen, upload --------------------------------------------------------
expires=$(date -u -d '+400 days' +%Y-%m-%d)
run voucher gen --count 12 --value 1000 --currency EUR --expires "$expires" --batch API-EUR10 \
  --out "$T/cards.csv" --iterations 2000
expect_rc 0 "voucher gen"
expect_eq "$(stat -c %a "$T/cards.csv")" 600 "the card file's mode"
expect_eq "$(head -n 1 "$T/cards.csv")" "serial,pin,batch,currency,value,expires,salt,iterations" \
  "the card file's header"
expect_eq "$(tail -n +2 "$T/cards.csv" | cut -d, -f2 | grep -cE '^[0-9]{16}$')" 12 "16-digit PINs"
expect_eq "$(tail -n +2 "$T/cards.csv" | cut -d, -f1,2 | tr , '\n' | sort -u | wc -l)" 24 \
  "serials and PINs all differ"
run voucher gen --count 1 --value 1000 --currency EUR --expires "$expires" --batch X \
  --out "$T/cards.csv"
expect_rc 2 "voucher gen over an existing file"
expect_contains "$ERR" "cards.csv exists: a card file is never overwritten" "voucher gen refusal"
run voucher gen --count 1 --value 1000 --currency EUR --expires 2020-01-01 --batch X --out "$T/x.csv"
expect_rc 2 "voucher gen with a past expiry"
[ ! -e "$T/x.csv" ] || fail "voucher gen left a file after a usage error"
call GET /v1/charging/voucher-batches
expect_eq "$(jget '.batches | length')" 0 "gen sends nothing"

run voucher upload "$T/cards.csv"
expect_rc 0 "voucher upload"
expect_eq "$OUT" "batch API-EUR10: 12 cards in koryod (12 sent now)" "voucher upload"
run voucher upload "$T/cards.csv"
expect_rc 0 "voucher upload again"
expect_eq "$OUT" "batch API-EUR10: all 12 cards are in koryod already" "voucher upload again"
call GET /v1/charging/voucher-batches
expect_eq "$(jget '.batches[0] | [.batch, .currency, .value, .decimal, .cards, .redeemed,
  .iterations, .expires] | join(" ")')" "API-EUR10 EUR 1000 10.00 12 0 2000 ${expires}T00:00:00Z" \
  "the batch as koryod has it"
expect_eq "$(jget '[.. | strings | select(test("^[0-9a-f]{64}$"))] | length')" 0 \
  "no PIN hash in the batch list"

# More than one request's worth (400 cards), cut short and sent again: the
# second run sends only what koryod lacks.
run voucher gen --count 450 --value 5000 --currency KPW --expires "$expires" --batch API-KPW5000 \
  --out "$T/big.csv" --iterations 1000
expect_rc 0 "voucher gen of 450"
head -n 401 "$T/big.csv" >"$T/big-part.csv"
run voucher upload --no-progress "$T/big-part.csv"
expect_eq "$OUT" "batch API-KPW5000: 400 cards in koryod (400 sent now)" "upload of the first 400"
run voucher upload "$T/big.csv"
expect_rc 0 "upload of the rest"
expect_eq "$OUT" "batch API-KPW5000: 450 cards in koryod (50 sent now)" "upload of the rest"
run voucher list
expect_rc 0 "voucher list"
grep -qE '^API-KPW5000 +KPW +5000 +450 +0 ' <<<"$OUT" || fail "voucher list: $OUT"
grep -qE '^API-EUR10 +EUR +10\.00 +12 +0 ' <<<"$OUT" || fail "voucher list: $OUT"

# A card file that was tampered with is refused before anything is sent.
sed '3s/,EUR,1000,/,EUR,2000,/' "$T/cards.csv" >"$T/bad.csv"
run voucher upload "$T/bad.csv"
expect_rc 2 "upload of a mixed file"
expect_eq "$ERR" "$T/bad.csv:3: column value: differs from the first card's: one file is one batch" \
  "upload of a mixed file: message"

# --- top-ups ----------------------------------------------------------------------------
PIN1=$(pin "$T/cards.csv" 1)
PIN2=$(pin "$T/cards.csv" 2)
post "/v1/charging/accounts/$FOR/topup" "{\"op_id\":\"api-topup-1\",\"pin\":\"$PIN1\"}"
expect_code 200 "top-up through the API"
expect_eq "$(jget .message)" "Credited EUR 10.00; balance EUR 30.00" "top-up: message"
expect_eq "$(balance $FOR EUR)" 3000 "top-up: balance"
post "/v1/charging/accounts/$FOR/topup" "{\"op_id\":\"api-topup-1\",\"pin\":\"$PIN1\"}"
expect_code 200 "the same top-up again"
expect_eq "$(balance $FOR EUR)" 3000 "the same top-up again credits nothing"
call GET "/v1/charging/accounts/$FOR/ledger"
expect_eq "$(jget "[.rows[] | select(.kind == \"topup\")] | map(.session) | join(\" \")")" \
  "$(serial "$T/cards.csv" 1)" "one top-up row, naming the card's serial"
# The card is used up: another subscriber (or op id) gets 409.
post "/v1/charging/accounts/$FOR2/topup" "{\"op_id\":\"api-topup-2\",\"pin\":\"$PIN1\"}"
expect_error 409 - "This card has already been redeemed." "a second redemption"
expect_eq "$(balance $FOR2 EUR)" 2000 "a second redemption credits nothing"

run account topup "msisdn:$FOR_MSISDN" --pin - <<<"$PIN2"
expect_rc 0 "account topup --pin -"
expect_eq "$OUT" "Credited EUR 10.00; balance EUR 40.00" "account topup: message"
run account topup $FOR2 --pin - <<<"$PIN2"
expect_rc 1 "account topup of a redeemed card"
expect_eq "$ERR" "koryo: This card has already been redeemed." "account topup of a redeemed card"
run account topup $FOR2 --op-id cli-topup-3 --pin "$(pin "$T/cards.csv" 3)"
expect_rc 0 "account topup --pin PIN"
run account topup $FOR2
expect_rc 2 "account topup without a PIN"
run voucher list
grep -qE '^API-EUR10 +EUR +10\.00 +12 +3 ' <<<"$OUT" || fail "voucher list after 3 top-ups: $OUT"

# Wrong PINs: each refused as unknown; the sixth in 15 minutes is refused
# before it is looked at, and so is a right one then.
: >"$T/wrong-pins"
for i in 1 2 3 4 5; do
  wrong=$(printf '9%015d' $((RANDOM * 32768 + RANDOM)))
  echo "$wrong" >>"$T/wrong-pins"
  post "/v1/charging/accounts/$FOR3/topup" "{\"op_id\":\"wrong-$i\",\"pin\":\"$wrong\"}"
  expect_error 404 - "No top-up card has this PIN." "wrong PIN $i"
done
post "/v1/charging/accounts/$FOR3/topup" "{\"op_id\":\"wrong-6\",\"pin\":\"$(pin "$T/cards.csv" 4)\"}"
expect_code 429 "the sixth PIN in 15 minutes"
expect_contains "$(jget .error)" "Too many wrong PINs: try again after " "the sixth PIN: message"
run account topup $FOR3 --pin - <<<"$(pin "$T/cards.csv" 4)"
expect_rc 1 "account topup while rate-limited"
expect_contains "$ERR" "koryo: Too many wrong PINs" "account topup while rate-limited"
expect_eq "$(balance $FOR3 EUR)" 2000 "no credit while rate-limited"
# Another subscriber is not held back by FOR3's mistakes.
post "/v1/charging/accounts/$FOR2/topup" "{\"op_id\":\"api-topup-5\",\"pin\":\"$(pin "$T/cards.csv" 5)\"}"
expect_code 200 "another subscriber's top-up"

# --- adjustments ---------------------------------------------------------------------------
before=$(balance $FOR EUR)
adj='{"op_id":"adj-1","currency":"EUR","amount":-250,"reason":"refund reversed"}'
post "/v1/charging/accounts/$FOR/adjustments" "$adj"
expect_code 200 "adjustment"
expect_eq "$(jget .message)" "Adjusted by EUR -2.50." "adjustment: message"
post "/v1/charging/accounts/$FOR/adjustments" "$adj"
expect_code 200 "the same adjustment again"
expect_eq "$(balance $FOR EUR)" $((before - 250)) "an adjustment sent twice counts once"
run account adjust $FOR --amount 500 --currency EUR --reason "goodwill" --op-id cli-adj-1
expect_rc 0 "account adjust"
expect_eq "$OUT" "Adjusted by EUR 5.00." "account adjust: message"
run account adjust $FOR --amount 500 --currency EUR --reason "goodwill" --op-id cli-adj-1
expect_rc 0 "account adjust again"
run account adjust $FOR --seconds 600 --sms 5 --reason "outage credit"
expect_rc 0 "account adjust of allowances"
expect_eq "$(balance $FOR EUR)" $((before - 250 + 500)) "adjustments by the CLI: once each"
call GET /v1/charging/accounts/$FOR
expect_eq "$(jget '[.allowance.seconds, .allowance.sms] | join(" ")')" "600 5" "allowance adjusted"
call GET "/v1/charging/accounts/$FOR/ledger?limit=1000"
expect_eq "$(jget '[.rows[] | select(.kind == "adjust" and (.session == "adj-1" or
  .session == "cli-adj-1"))] | length')" 2 "one ledger row per adjustment op_id"
run account adjust org:WPK --amount 100000 --currency KPW --reason "organisation pays its lines"
expect_rc 0 "adjusting an organisation's account"

# --- validation errors name the field -----------------------------------------------------------
A=/v1/charging/accounts/$FOR
post $A/adjustments '{"op_id":"v1","currency":"EUR","amount":5}'
expect_error 400 reason "must be a string of 1 to 159 characters" "adjustment without a reason"
post $A/adjustments '{"op_id":"v2","currency":"EUR","amount":"5","reason":"x"}'
expect_error 400 amount "must be an integer from -1000000000000 to 1000000000000" "a string amount"
post $A/adjustments '{"op_id":"v3","currency":"XXX","amount":5,"reason":"x"}'
expect_error 400 currency "not a currency of this network" "an unknown currency"
post $A/adjustments '{"op_id":"v4","reason":"x"}'
expect_error 400 amount "give amount, seconds or sms (non-zero)" "an adjustment of nothing"
post $A/adjustments '{"op_id":"v5","currency":"EUR","amount":5,"reason":"x","colour":"red"}'
expect_error 400 colour "unknown field" "an unknown field"
post $A/topup '{"op_id":"v6"}'
expect_error 400 pin "must be a string of 1 to 32 characters" "a top-up without a PIN"
post /v1/charging/accounts/org:WPK/topup '{"op_id":"v7","pin":"1234567890"}'
expect_error 400 - "an organisation's account takes no cards" "a top-up of an organisation"
call GET "/v1/charging/ledger?limit=0"
expect_error 400 limit "must be an integer from 1 to 1000" "ledger limit 0"
call GET "/v1/charging/cdrs?format=xml"
expect_error 400 format "must be json, jsonl or csv" "cdrs format xml"
batch='{"batch":"V","salt":"00112233445566778899aabbccddeeff","iterations":1000,"kdf":"md5",
  "currency":"EUR","value":100,"expires":"2099-01-01",
  "cards":[{"serial":"V1","pin_hash":"'$(printf '%064d' 0)'"}]}'
post /v1/charging/voucher-batches "$batch"
expect_error 400 kdf "must be pbkdf2-sha256" "a batch with another KDF"
batch=${batch/\"md5\"/\"pbkdf2-sha256\"}
post /v1/charging/voucher-batches "${batch/\"2099-01-01\"/\"01/01/2099\"}"
expect_error 400 expires "must be a date YYYY-MM-DD" "a batch with a bad date"
post /v1/charging/voucher-batches "$batch"
expect_code 201 "a batch of one card by hand"
post /v1/charging/voucher-batches "$batch"
expect_error 409 "cards[0]" "this serial exists, or two cards have one PIN" "the same card twice"
run account adjust $FOR --amount 5 --currency XXX --reason x
expect_rc 1 "account adjust with an unknown currency"
expect_eq "$ERR" "koryo: currency: not a currency of this network" "the CLI names the field"
run account adjust $FOR --amount 5 --currency EUR
expect_rc 2 "account adjust without --reason"
expect_eq "$(head -n 1 <<<"$ERR")" "koryo account adjust: missing --reason" "missing --reason"

# --- ledger paging -----------------------------------------------------------------------------------
call GET "$A/ledger?limit=1000"
all=$(jget '[.rows[].seq] | join(" ")')
n=$(jget '.rows | length')
[ "$n" -ge 7 ] || fail "the foreigner's ledger has only $n rows"
got="" after=0 pages=0
while :; do
  call GET "$A/ledger?limit=3&after=$after"
  expect_code 200 "ledger page after $after"
  [ "$(jget '.rows | length')" -le 3 ] || fail "a ledger page longer than its limit"
  got="$got $(jget '[.rows[].seq] | join(" ")')"
  pages=$((pages + 1))
  after=$(jget .next_after)
  [ "$after" != null ] || break
done
expect_eq "$(xargs <<<"$got")" "$all" "the pages, joined, are the ledger"
expect_eq "$(tr ' ' '\n' <<<"$all" | sort -n | xargs)" "$all" "ledger rows in seq order"
[ "$pages" -ge 3 ] || fail "only $pages pages of 3 rows for $n rows"
run account ledger $FOR --limit 3
expect_rc 0 "account ledger --limit 3"
expect_eq "$(head -n 1 <<<"$OUT" | awk '{print $1, $2, $3, $4, $5}')" "SEQ AT ACCOUNT KIND AMOUNT" \
  "account ledger: header"
expect_eq "$(tail -n +2 <<<"$OUT" | wc -l)" 3 "account ledger: one page"
expect_contains "$ERR" "(more: koryo account ledger $FOR --after " "account ledger: the next page"
run account ledger $FOR --all --limit 3
expect_eq "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | xargs)" "$all" "account ledger --all"
grep -qE ' topup +EUR 10\.00 ' <<<"$OUT" || fail "account ledger: a top-up in EUR: $OUT"
run --json account ledger $FOR --all --limit 3
expect_eq "$(jq -r '[.rows[].seq] | join(" ")' <<<"$OUT")" "$all" "account ledger --all --json"

# --- rated CDRs ------------------------------------------------------------------------------------------
post /v1/charging/sms "{\"op_id\":\"api-sms-1\",\"subscriber\":\"$FOR\",\"destination\":\"international\"}"
expect_code 200 "an SMS abroad"
post /v1/charging/sessions/api-call-1/reserve \
  "{\"subscriber\":\"msisdn:$FOR_MSISDN\",\"slice\":0,\"destination\":\"international\"}"
expect_code 200 "a call's first slice"
expect_eq "$(jget .granted_seconds)" 60 "a slice is 60 s"
call GET "$A"
expect_eq "$(jget .open_calls)" 1 "the call is open"
post /v1/charging/sessions/api-call-1/end '{"used_seconds":42}'
expect_code 200 "the call's end"
expect_eq "$(jget .charged_seconds)" 60 "42 s charged as two 30 s units"
# A citizen's call into its second minute: a second slice, then 61 s used
# of the 120 s reserved, charged as two 60 s units from the free minutes.
for slice in 0 1; do
  post /v1/charging/sessions/api-call-2/reserve \
    "{\"subscriber\":\"$CIT\",\"slice\":$slice,\"destination\":\"national\"}"
  expect_code 200 "the citizen's slice $slice"
done
post /v1/charging/sessions/api-call-2/end '{"used_seconds":61}'
expect_eq "$(jget .charged_seconds)" 120 "a citizen's 61 s: two 60 s units"
call GET /v1/charging/accounts/$CIT
expect_eq "$(jget .allowance.seconds)" $((12000 - 120)) "the citizen's call: from the free minutes"

call GET "/v1/charging/cdrs?limit=1000"
expect_code 200 "cdrs"
cdrs_json=$BODY
expect_eq "$(jget '.cdrs[] | select(.session == "api-call-1") |
  [.service, .account, .destination, .seconds, .allowance_seconds, .currency, .amount, .decimal] |
  join(" ")')" "voice $FOR international 60 0 EUR 150 1.50" "the foreigner's call: EUR 1.50 a minute"
expect_eq "$(jget '.cdrs[] | select(.session == "api-call-2") |
  [.service, .seconds, .allowance_seconds, .amount] | join(" ")')" "voice 120 120 0" \
  "the citizen's call: from the free minutes"
expect_eq "$(jget '.cdrs[] | select(.session == "api-sms-1") |
  [.service, .destination, .currency, .amount, .allowance_sms] | join(" ")')" \
  "sms international EUR 25 0" "the SMS abroad: EUR 0.25"
call GET "/v1/charging/cdrs?limit=1000&format=jsonl"
expect_code 200 "cdrs as JSON lines"
expect_eq "$(jq -sc . <<<"$BODY")" "$(jq -c .cdrs <<<"$cdrs_json")" "JSON lines: the same records"
jsonl=$BODY
call GET "/v1/charging/cdrs?limit=1000&format=csv"
expect_code 200 "cdrs as CSV"
csv=$(tr -d '\r' <<<"$BODY")
expect_eq "$(head -n 1 <<<"$csv")" \
  "id,service,session,account,destination,started_at,ended_at,seconds,allowance_seconds,allowance_sms,currency,amount,decimal" \
  "CSV header"
expect_eq "$(grep ',api-call-1,' <<<"$csv" | cut -d, -f2,4,5,8,11,12,13)" \
  "voice,$FOR,international,60,EUR,150,1.50" "CSV: the foreigner's call"
expect_eq "$(($(wc -l <<<"$csv") - 1))" "$(jq '.cdrs | length' <<<"$cdrs_json")" "CSV: a line per CDR"
run account cdrs --format csv --all --limit 1
expect_rc 0 "account cdrs --format csv"
expect_eq "$(tr -d '\r' <<<"$OUT")" "$csv" "account cdrs --format csv --all: pages joined, one header"
run account cdrs --format jsonl --all --limit 2
expect_eq "$OUT" "$jsonl" "account cdrs --format jsonl --all"
run account cdrs
expect_rc 0 "account cdrs"
grep -qE "^[0-9]+ +voice +$FOR +international .* 60 +0 s +EUR 1\.50 +api-call-1\$" <<<"$OUT" ||
  fail "account cdrs: the call: $OUT"
grep -qE "^[0-9]+ +sms +$FOR +international .* - +0 SMS +EUR 0\.25 +api-sms-1\$" <<<"$OUT" ||
  fail "account cdrs: the SMS: $OUT"

# --- balances equal the ledger ---------------------------------------------------------------------
for acct in $CIT $FOR $FOR2 $FOR3 org:WPK; do
  call GET "/v1/charging/accounts/$acct/ledger?limit=1000"
  want=$(jget '[.rows[] | select(.currency == "EUR") | .amount] | add // 0')
  expect_eq "$(balance "$acct" EUR)" "$want" "$acct: EUR balance against its ledger"
done
call GET /v1/charging/audit
expect_eq "$(jget .differ)" 0 "koryod's audit"

# --- organisations' caps -------------------------------------------------------------------------
# organisations.csv gives each organisation of the demo officials a cap that
# replaces official_line's 300 minutes and 100 SMS.
WPK_LINE=467052000000001 # OFF-WPK-0001
CC_LINE=467052000000006  # OFF-CC-0002
put() { call PUT "$1" "${JSON[@]}" -d "$2"; }
allowance() {
  call GET "/v1/charging/accounts/$1"
  jget '[.allowance.seconds, .allowance.sms] | join(" ")'
}
call GET /v1/charging/organisations
expect_code 200 "organisations"
expect_eq "$(jget '[.organisations[].name] | join(" ")')" "CAB CC KPA MPS SSD WPK" \
  "the organisations of organisations.csv, by name"
expect_eq "$(jget '.organisations[] | select(.name == "WPK") | [.monthly_minutes, .monthly_sms] |
  join(" ")')" "1000 300" "WPK's cap as organisations.csv has it"
expect_eq "$(allowance $WPK_LINE)" "60000 300" "a WPK line has WPK's cap"
expect_eq "$(allowance $CC_LINE)" "12000 50" "a CC line has CC's cap"
call GET /v1/charging/organisations/CC
expect_code 200 "one organisation"
expect_eq "$(jget '[.name, .monthly_minutes, .monthly_sms] | join(" ")')" "CC 200 50" "CC's cap"
call GET /v1/charging/organisations/POLICE
expect_code 404 "an organisation without a cap"
put /v1/charging/organisations/WPK '{"monthly_minutes":1200,"monthly_sms":400,"description":"raised"}'
expect_code 200 "a cap replaced"
expect_eq "$(jget '[.monthly_minutes, .monthly_sms, .description] | join(" ")')" "1200 400 raised" \
  "the cap as replaced"
put /v1/charging/organisations/POLICE '{"monthly_minutes":50,"monthly_sms":10}'
expect_code 201 "a cap created"
call GET /v1/charging/organisations
expect_eq "$(jget '.organisations | length')" 7 "seven caps after one was created"
put /v1/charging/organisations/wpk '{"monthly_minutes":1,"monthly_sms":1}'
expect_error 400 name "expected 1 to 14 of A-Z, 0-9, _ (NAME of OFF-NAME-nnnn)" "a bad name"
put /v1/charging/organisations/WPK '{"monthly_minutes":-1,"monthly_sms":1}'
expect_error 400 monthly_minutes "must be an integer from 0 to 1000000" "negative minutes"
put /v1/charging/organisations/WPK '{"monthly_minutes":1}'
expect_error 400 monthly_sms "is required (an integer from 0 to 1000000)" "no monthly_sms"
put /v1/charging/organisations/WPK '{"monthly_minutes":1,"monthly_sms":"many"}'
expect_error 400 monthly_sms "must be an integer from 0 to 1000000" "SMS as a string"
put /v1/charging/organisations/WPK "{\"monthly_minutes\":1,\"monthly_sms\":1,\"description\":\"$(printf 'x%.0s' $(seq 160))\"}"
expect_error 400 description "must be a string of 0 to 159 characters" "a long description"
put /v1/charging/organisations/WPK '{"monthly_minutes":1,"monthly_sms":1,"cap":3}'
expect_error 400 cap "unknown field" "an unknown field"
call DELETE /v1/charging/organisations/WPK
expect_code 405 "DELETE of a cap"
call GET /v1/charging/organisations/WPK
expect_eq "$(jget '[.monthly_minutes, .monthly_sms] | join(" ")')" "1200 400" \
  "refused requests changed nothing"
# A change applies from the next renewal: this month's allowance stays.
expect_eq "$(allowance $WPK_LINE)" "60000 300" "WPK's line keeps this month's allowance"

run account org --help
expect_rc 0 "account org --help"
expect_contains "$OUT" "koryo account org set NAME --minutes N --sms N" "account org --help"
run account org list
expect_rc 0 "account org list"
expect_eq "$(head -n 1 <<<"$OUT" | awk '{print $1, $2, $3}')" "NAME MINUTES SMS" "the list's header"
expect_eq "$(awk '$1 == "WPK" {print $2, $3}' <<<"$OUT")" "1200 400" "WPK in the list"
run account org set CC --minutes 150 --sms 40 --description "Central Court, cut"
expect_rc 0 "account org set"
expect_eq "$OUT" "Replaced CC: 150 free minutes and 40 free SMS a month from the next renewal" \
  "account org set says what it did"
run account org set CC --minutes 150
expect_rc 2 "account org set without --sms"
run account org set cc --minutes 1 --sms 1
expect_rc 1 "account org set with a bad name"
expect_eq "$ERR" "koryo: name: expected 1 to 14 of A-Z, 0-9, _ (NAME of OFF-NAME-nnnn)" \
  "the CLI names the field"
run --json account org list
expect_rc 0 "account org list --json"
expect_eq "$(jq -r '.organisations[] | select(.name == "CC") | .monthly_minutes' <<<"$OUT")" 150 \
  "CC's cap as set by the CLI"

# --- an expired card --------------------------------------------------------------------------------
# A card good through today, then koryod's clock two days on.
run voucher gen --count 2 --value 100 --currency EUR --expires "$(date -u -d tomorrow +%Y-%m-%d)" \
  --batch API-SHORT --out "$T/short.csv" --iterations 1000
run voucher upload "$T/short.csv"
expect_rc 0 "upload of a batch expiring tomorrow"
koryod_stop
echo "clock.offset = 172800" >>"$T/koryod.conf"
koryod_start
post "/v1/charging/accounts/$FOR2/topup" "{\"op_id\":\"api-topup-x\",\"pin\":\"$(pin "$T/short.csv" 1)\"}"
expect_error 410 - "This card expired on $(date -u -d tomorrow +%Y-%m-%d)." "an expired card"

# --- caps at the next renewal -----------------------------------------------------------------------
# koryod's clock moved to the 2nd of next month: the lines get the caps as
# changed, and the caps survived the restarts.
koryod_stop
sed -i '/^clock.offset/d' "$T/koryod.conf"
next=$(date -u -d "$(date -u +%Y-%m-01) +1 month +1 day" +%s)
echo "clock.offset = $((next - $(date -u +%s)))" >>"$T/koryod.conf"
koryod_start
expect_eq "$(allowance $WPK_LINE)" "72000 400" "a WPK line has the changed cap next month"
expect_eq "$(allowance $CC_LINE)" "9000 40" "a CC line has the cap set by the CLI next month"
call GET /v1/charging/audit
expect_eq "$(jget .differ)" 0 "koryod's audit after the renewal"

# --- no PIN anywhere --------------------------------------------------------------------------------
koryod_stop
for f in "$T/cards.csv" "$T/big.csv" "$T/short.csv"; do tail -n +2 "$f" | cut -d, -f2; done \
  >"$T/pins"
cat "$T/wrong-pins" >>"$T/pins"
for where in "$T/api-output" "$T/cli-output" "$T/koryod.log" "$T"/data/*; do
  [ -f "$where" ] || continue
  if grep -a -F -q -f "$T/pins" "$where"; then
    fail "a PIN is in $where"
  fi
done
echo "PASS api_charging"
