#!/usr/bin/env bash
# The SMS content rules' API and CLI (docs/sms-rules.md, docs/api.md "SMS
# content rules") against a real koryod with the Koryolink demo rules: the
# check explains each decision with its rule; rule and limit changes are
# validated with the field named (a refused change changes nothing and writes
# no audit record), take effect at once, are audited with the actor and
# survive a restart; the lists page by keyset; koryo sms does the same.
source "$KORYO_SRC/tests/integration/lib.sh"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

JSON=(-H 'Content-Type: application/json')
CITIZEN=85019120000001
CITIZEN2=85019120000002
FOREIGNER=85019130000001

# check SENDER RECIPIENT TEXT: DECISION is "ACTION RULE", BODY the answer.
check() {
  local body
  body=$(jq -cn --arg s "$1" --arg r "$2" --arg t "$3" '{sender:$s, recipient:$r, text:$t}')
  call POST /v1/sms/check "${JSON[@]}" -d "$body"
  expect_code 200 "check $*"
  DECISION=$(jget '.action + " " + .rule')
}

# --- the demo rules, explained -----------------------------------------------------
check $CITIZEN $CITIZEN2 "see you at the market"
expect_eq "$DECISION" "deliver default" "an ordinary message"
expect_eq "$(jget .class)" citizen "the sender's class comes from the registry"
check $CITIZEN $CITIZEN2 "You have WON a bicycle"
expect_eq "$DECISION" "hold prize-scam" "a prize scam is held"
expect_eq "$(jget .reason)" "looks like a prize scam; held for review" "held: the reason"
check +$FOREIGNER $CITIZEN "please send me your PIN"
expect_eq "$DECISION" "refuse voucher-pin-phishing" "PIN phishing is refused"
check 123 $CITIZEN "you have won 50 free minutes"
expect_eq "$DECISION" "deliver operator-notices" "the operator's number comes first"
expect_eq "$(jget .class)" null "an off-net sender has no class"

# --- bad input: named fields -------------------------------------------------------
call POST /v1/sms/check "${JSON[@]}" -d '{"sender":"85019120000001","recipient":"x1","text":"hi"}'
expect_error 400 recipient "must be an MSISDN: an optional '+' and 1 to 15 digits" "check: bad recipient"
call POST /v1/sms/check "${JSON[@]}" -d '{"sender":"85019120000001","recipient":"123"}'
expect_error 400 text "is required" "check: no text"
call POST /v1/sms/check "${JSON[@]}" -d '{"sender":"85019120000001","recipient":"123","text":"x","class":"soldier"}'
expect_error 400 class "no such class in the profile" "check: unknown class"
call POST /v1/sms/check "${JSON[@]}" -d '{"sender":"85019120000001","recipient":"123","text":"x","colour":1}'
expect_error 400 colour "unknown field" "check: unknown field"

R=/v1/sms/rules/rates
RULE='{"priority":150,"class":"citizen","words":["exchange rate","dollar"],"action":"hold","reason":"held for review"}'
call PUT $R "${JSON[@]}" -d '{"priority":150,"regex":"(unclosed","action":"refuse","reason":"r"}'
expect_code 400 "PUT: a bad regex"
expect_eq "$(jget .field)" regex "PUT: a bad regex names regex"
expect_contains "$(jget .error)" "not a POSIX extended regular expression" "PUT: a bad regex: why"
call PUT $R "${JSON[@]}" -d "${RULE/citizen\"/soldier\"}"
expect_error 400 class "no class 'soldier' in the profile (or '*')" "PUT: unknown class"
call PUT $R "${JSON[@]}" -d "${RULE/150/200}"
expect_error 409 priority "200 is already the priority of rule prize-scam" "PUT: priority taken"
call PUT $R "${JSON[@]}" -d "${RULE/\"hold\"/\"drop\"}"
expect_error 400 action "must be deliver, hold or refuse" "PUT: bad action"
call PUT $R "${JSON[@]}" -d '{"priority":150,"words":["a"],"regex":"b","action":"hold","reason":"r"}'
expect_error 400 regex "give words or regex, not both" "PUT: words and regex"
call PUT $R "${JSON[@]}" -d '{"priority":150,"words":["a;b"],"action":"hold","reason":"r"}'
expect_error 400 words "word 0 must be a non-empty string without ';'" "PUT: a word with ';'"
call PUT $R "${JSON[@]}" -d '{"priority":150,"sender":"85a","action":"hold","reason":"r"}'
expect_error 400 sender "'85a' is not an MSISDN prefix (1 to 15 digits) or '*'" "PUT: bad sender"
call PUT $R "${JSON[@]}" -d '{"priority":150,"action":"hold"}'
expect_error 400 reason "is required" "PUT: no reason"
call PUT /v1/sms/rules/flood "${JSON[@]}" -d '{"priority":150,"action":"hold","reason":"r"}'
expect_error 400 name "'flood' is reserved for the engine's own decisions" "PUT: reserved name"
call PUT $R "${JSON[@]}" -H 'X-Koryo-Actor: bad actor;' -d "$RULE"
expect_error 400 X-Koryo-Actor "must be 1 to 64 of letters, digits, '.', '_', '@', '-'" "PUT: bad actor"
call PUT /v1/sms/limits "${JSON[@]}" -d '{"messages":5,"seconds":0}'
expect_error 400 seconds "must be from 1 to 86400" "limits: seconds 0"
call PUT /v1/sms/limits "${JSON[@]}" -d '{"messages":"5","seconds":60}'
expect_error 400 messages "must be a non-negative integer" "limits: a string"
call GET $R
expect_error 404 - "no such rule" "no rule after refused PUTs"
call GET /v1/sms/audit
expect_eq "$(jget '.audit | length')" 0 "no audit record for refused changes"
call GET /v1/sms/nothing
expect_error 404 - "no such path: /v1/sms/nothing" "an unknown path"
call POST /v1/sms/rules
expect_error 405 - "method not allowed" "POST to the list"

# --- a rule put: at once, audited, durable -----------------------------------------
call PUT $R "${JSON[@]}" -H 'X-Koryo-Actor: ops.kim' -d "$RULE"
expect_code 201 "PUT a new rule"
expect_eq "$(jget '[.name, .match, (.words | join(";")), .regex, .sender] | map(tostring) | join(" ")')" \
  "rates words exchange rate;dollar null *" "PUT: the answer"
check $CITIZEN $CITIZEN2 "the Exchange Rate today?"
expect_eq "$DECISION" "hold rates" "the new rule at once"
check $FOREIGNER $CITIZEN "the exchange rate today?"
expect_eq "$DECISION" "deliver default" "the rule is for one class"
call PUT $R "${JSON[@]}" -d '{"priority":150,"regex":"^[0-9]+ won$","action":"refuse","reason":"numbers only"}'
expect_code 200 "PUT replaces"
check $FOREIGNER $CITIZEN "8000 WON"
expect_eq "$DECISION" "refuse rates" "the replaced rule, any class, a regex"
call PUT /v1/sms/limits "${JSON[@]}" -H 'X-Koryo-Actor: ops.kim' -d '{"messages":5,"seconds":10}'
expect_code 200 "PUT limits"
call GET /v1/sms/rules
expect_eq "$(jget '[.rules[].priority] | . == sort')" true "rules listed in priority order"

koryod_stop
koryod_start
call GET $R
expect_eq "$(jget '.regex + " " + .action')" "^[0-9]+ won$ refuse" "the rule after a restart"
call GET /v1/sms/limits
expect_eq "$(jget '"\(.messages)/\(.seconds)"')" "5/10" "the limits after a restart"
check $FOREIGNER $CITIZEN "8000 WON"
expect_eq "$DECISION" "refuse rates" "still refused after a restart"
call GET /v1/sms
expect_eq "$(jget '.limits.messages')" 5 "GET /v1/sms: the limits"

call DELETE $R
expect_code 204 "DELETE the rule"
call DELETE $R
expect_error 404 - "no such rule" "DELETE again"

# Audit: four records; keyset paging one at a time gets them all, in order.
ids=() after=0
while :; do
  call GET "/v1/sms/audit?after=$after&limit=1"
  expect_code 200 "audit page after $after"
  [ "$(jget '.audit | length')" -le 1 ] || fail "audit: a page longer than its limit"
  [ "$(jget '.audit | length')" -eq 1 ] && ids+=("$(jget '.audit[0].id')")
  next=$(jget .next_after)
  [ "$next" != null ] || break
  after=$next
done
expect_eq "${#ids[@]}" 4 "audit records over the pages"
call GET /v1/sms/audit
expect_eq "$(jget '.audit[0] | [.actor, .object, .after] | join(" ")')" \
  'api:ops.kim rule rates rates,150,*,*,citizen,words,exchange rate;dollar,hold,held for review' \
  "audit: the new rule"
expect_eq "$(jget '.audit[2] | [.object, .before, .after] | join(" ")')" "limits 30,60 5,10" \
  "audit: the limits"
expect_eq "$(jget '.audit[3].after')" null "audit: a deleted rule has no after"

# Matches are recorded by the SMS centre's checks, not by explanations.
call GET /v1/sms/matches
expect_eq "$(jget '.matches | length')" 0 "an explanation records nothing"
call GET "/v1/sms/matches?limit=0"
expect_error 400 limit "must be an integer from 1 to 1000" "matches: limit 0"
call GET "/v1/sms/matches?after=x"
expect_error 400 after "must be a record id (a non-negative integer)" "matches: bad after"

# --- the CLI ----------------------------------------------------------------------------
out=$("$KORYO" sms check $CITIZEN $CITIZEN2 "hello there") || fail "koryo sms check: exit $?"
expect_eq "$out" "deliver by default: no rule matched" "koryo sms check: deliver"
rc=0
out=$("$KORYO" sms check $CITIZEN $CITIZEN2 "claim your prize today") || rc=$?
expect_eq "$rc" 1 "koryo sms check: a hold exits 1"
expect_eq "$out" "hold by prize-scam: looks like a prize scam; held for review" "koryo sms check: hold"
out=$("$KORYO" sms rules) || fail "koryo sms rules: exit $?"
expect_contains "$out" "voucher-pin-phishing" "koryo sms rules"
expect_contains "$out" "you have won;claim your prize;lottery winner" "koryo sms rules: the words"
out=$("$KORYO" sms rule set cli-test --priority 999 --action refuse --class official \
  --words 'alpha;beta gamma' --reason 'a test') || fail "koryo sms rule set: exit $?"
expect_contains "$out" "alpha;beta gamma" "koryo sms rule set: the answer"
out=$("$KORYO" sms check 467052000000001 $CITIZEN "Beta Gamma!" --class official) || true
expect_eq "$out" "refuse by cli-test: a test" "koryo sms check --class"
rc=0
"$KORYO" sms rule set cli-test2 --priority 999 --action hold --reason 'a test' 2>"$T/err" || rc=$?
expect_eq "$rc" 1 "koryo sms rule set: a taken priority"
expect_contains "$(cat "$T/err")" "priority: 999 is already the priority of rule cli-test" \
  "koryo sms rule set: the error names the field"
rc=0
"$KORYO" sms rule set cli-test3 --priority 998 --action hold --regex '(' --reason x 2>"$T/err" || rc=$?
expect_eq "$rc" 1 "koryo sms rule set: a bad regex"
expect_contains "$(cat "$T/err")" "regex: not a POSIX extended regular expression" \
  "koryo sms rule set: the regex error"
"$KORYO" sms rule del cli-test >/dev/null || fail "koryo sms rule del"
out=$("$KORYO" sms limits --messages 0 --seconds 0) || fail "koryo sms limits set: exit $?"
expect_contains "$out" "messages   0" "koryo sms limits: off"
out=$("$KORYO" sms limits) || fail "koryo sms limits: exit $?"
expect_contains "$out" "seconds    0" "koryo sms limits: show"
out=$("$KORYO" sms matches) || fail "koryo sms matches: exit $?"
expect_contains "$out" "RULE" "koryo sms matches: the header"
echo "api_sms: OK"
