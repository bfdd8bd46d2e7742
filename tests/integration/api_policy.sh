#!/usr/bin/env bash
# The policy engine's API and CLI (docs/policy.md, docs/api.md "Policy")
# against a real koryod with the Koryolink demo: the check endpoint explains
# each class's rights with the rule that decided; switch and right changes are
# validated (a refused change changes nothing and writes no audit record),
# take effect at once, are audited with the actor and survive a restart; the
# audit pages by keyset; the koryo policy commands do the same.
source "$KORYO_SRC/tests/integration/lib.sh"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

JSON=(-H 'Content-Type: application/json')
CITIZEN=85019120000001
CITIZEN2=85019120000002
FOREIGNER=85019130000001
OFFICIAL=467052000000001

# check CALLER NUMBER SERVICE: VERDICT is "allowed RULE" or "refused RULE",
# BODY the whole answer.
check() {
  call POST /v1/policy/check "${JSON[@]}" -d "{\"caller\":\"$1\",\"number\":\"$2\",\"service\":\"$3\"}"
  expect_code 200 "check $*"
  VERDICT=$(jget 'if .allowed then "allowed " + .rule else "refused " + .rule end')
}
check_apn() {
  call POST /v1/policy/check "${JSON[@]}" -d "{\"caller\":\"$1\",\"service\":\"data\",\"apn\":\"$2\"}"
  expect_code 200 "check $*"
  VERDICT=$(jget 'if .allowed then "allowed " + .rule else "refused " + .rule end')
}

# --- the demo's rights, explained -------------------------------------------------
check $CITIZEN 0086105551234 voice; expect_eq "$VERDICT" "refused citizen-international" "citizen abroad"
expect_eq "$(jget .reason)" "citizens may not call or text international numbers" "citizen abroad: reason"
expect_eq "$(jget '.destination | [.kind, .["e164"], .range] | join(" ")')" "international 86105551234 world" \
  "citizen abroad: the number as read"
check $CITIZEN 0191-2000-0002 sms; expect_eq "$VERDICT" "allowed citizen-national" "citizen to citizen"
expect_eq "$(jget '.callee.class + " " + .callee.msisdn')" "citizen $CITIZEN2" "citizen to citizen: callee"
check +$FOREIGNER $CITIZEN voice; expect_eq "$VERDICT" "refused foreigner-citizens" "foreigner to citizen"
check $FOREIGNER 9986105551234 voice; expect_eq "$VERDICT" "allowed foreigner-international" "foreigner abroad"
check $CITIZEN '*123*1234#' voice; expect_eq "$VERDICT" "allowed service-codes" "balance code"
expect_eq "$(jget .destination.code)" 123 "balance code: the code"
check $CITIZEN 019190000001 voice; expect_eq "$VERDICT" "refused koryolink-reserved" "reserved, citizen"
check $OFFICIAL 019190000001 voice; expect_eq "$VERDICT" "allowed official-reserved" "reserved, official"
check_apn $FOREIGNER internet; expect_eq "$VERDICT" "allowed classes" "foreigner internet"

# --- bad input: named fields, nothing changed --------------------------------------
call POST /v1/policy/check "${JSON[@]}" -d '{"caller":"85019120000001","number":"123","service":"fax"}'
expect_error 400 service "must be voice, sms or data" "check: bad service"
call POST /v1/policy/check "${JSON[@]}" -d '{"caller":"85019999999999","number":"123"}'
expect_error 404 caller "no subscriber with this IMSI or MSISDN" "check: unknown caller"
call POST /v1/policy/check "${JSON[@]}" -d '{"caller":"85019120000001"}'
expect_error 400 number "is required" "check: no number"

S=/v1/policy/switches/foreigner_internet
call PATCH $S "${JSON[@]}" -d '{"enabled":"no"}'
expect_error 400 enabled "must be true or false" "PATCH: enabled not a boolean"
call PATCH $S "${JSON[@]}" -d '{"enabled":false,"colour":"red"}'
expect_error 400 colour "unknown field (only enabled changes)" "PATCH: unknown field"
call PATCH $S "${JSON[@]}" -H 'X-Koryo-Actor: bad actor;' -d '{"enabled":false}'
expect_error 400 X-Koryo-Actor "must be 1 to 64 of letters, digits, '.', '_', '@', '-'" "PATCH: bad actor"
call PATCH /v1/policy/switches/no_such "${JSON[@]}" -d '{"enabled":false}'
expect_error 404 - "no such switch" "PATCH: unknown switch"
call GET $S
expect_eq "$(jget .enabled)" true "the refused PATCHes left the switch on"
call GET /v1/policy/audit
expect_eq "$(jget '.audit | length')" 0 "no audit record for refused changes"

# --- a switch off: at once, audited, durable ---------------------------------------
call PATCH $S "${JSON[@]}" -H 'X-Koryo-Actor: ops.kim' -d '{"enabled":false}'
expect_code 200 "PATCH foreigner_internet off"
expect_eq "$(jget .enabled)" false "PATCH: the answer"
check_apn $FOREIGNER internet; expect_eq "$VERDICT" "refused switch foreigner_internet" "foreigner internet off"
check_apn $OFFICIAL internet; expect_eq "$VERDICT" "allowed classes" "officials' internet is not gated"
call GET /v1/policy/audit
expect_eq "$(jget '.audit[0] | [.actor, .object, .before, .after] | join(" ")')" \
  "api:ops.kim switch foreigner_internet on off" "audit record of the switch"
expect_contains "$(cat "$T/koryod.log")" "switch foreigner_internet off (by api:ops.kim)" "the change is logged"

koryod_stop
koryod_start
call GET $S
expect_eq "$(jget .enabled)" false "the switch is still off after a restart"
check_apn $FOREIGNER internet; expect_eq "$VERDICT" "refused switch foreigner_internet" "still refused after a restart"

# --- rights: put, replace, delete ---------------------------------------------------
R=/v1/policy/rights/citizen-sms-abroad
RIGHT='{"priority":105,"class":"citizen","service":"sms","destination":"international","verdict":"allow","reason":"citizens may text abroad"}'
call PUT $R "${JSON[@]}" -d "${RIGHT/citizen\"/soldier\"}"
expect_error 400 class "must be a subscriber class of the profile or '*', not 'soldier'" "PUT: unknown class"
call PUT $R "${JSON[@]}" -d "${RIGHT/105/100}"
expect_error 409 priority "100 is already the priority of right citizen-national" "PUT: priority taken"
call PUT $R "${JSON[@]}" -d "${RIGHT/\"verdict\":\"allow\"/\"verdict\":\"maybe\"}"
expect_error 400 verdict "must be allow or deny" "PUT: bad verdict"
call PUT $R "${JSON[@]}" -d '{"priority":105}'
expect_error 400 class "is required" "PUT: no class"
call GET /v1/policy/rights/citizen-sms-abroad
expect_code 404 "no right after refused PUTs"
check $CITIZEN 0086105551234 sms; expect_eq "$VERDICT" "refused citizen-international" "before the new right"

call PUT $R "${JSON[@]}" -d "$RIGHT"
expect_code 201 "PUT a new right"
expect_eq "$(jget '[.name, .priority, .switch] | map(tostring) | join(" ")')" "citizen-sms-abroad 105 null" "PUT: the answer"
check $CITIZEN 0086105551234 sms; expect_eq "$VERDICT" "allowed citizen-sms-abroad" "the new right at once"
check $CITIZEN 0086105551234 voice; expect_eq "$VERDICT" "refused citizen-international" "calls still refused"
call PUT $R "${JSON[@]}" -d "${RIGHT/\"allow\"/\"deny\"}"
expect_code 200 "PUT replaces"
check $CITIZEN 0086105551234 sms; expect_eq "$VERDICT" "refused citizen-sms-abroad" "the replaced right"
call GET /v1/policy/rights
expect_eq "$(jget '[.rights[].priority] | . == sort')" true "rights listed in priority order"
call DELETE $R
expect_code 204 "DELETE the right"
call DELETE $R
expect_error 404 - "no such right" "DELETE again"
check $CITIZEN 0086105551234 sms; expect_eq "$VERDICT" "refused citizen-international" "after the delete"

# Audit: four records now; keyset paging one at a time gets them all, in order.
ids=() after=0
while :; do
  call GET "/v1/policy/audit?after=$after&limit=1"
  expect_code 200 "audit page after $after"
  [ "$(jget '.audit | length')" -le 1 ] || fail "audit: a page longer than its limit"
  [ "$(jget '.audit | length')" -eq 1 ] && ids+=("$(jget '.audit[0].id')")
  next=$(jget .next_after)
  [ "$next" != null ] || break
  after=$next
done
expect_eq "${#ids[@]}" 4 "audit records over the pages"
call GET "/v1/policy/audit?after=${ids[0]}"
expect_eq "$(jget '.audit[1].before')" \
  'citizen-sms-abroad,105,citizen,sms,international,*,allow,,"citizens may text abroad"' \
  "audit: the replaced right before"
expect_eq "$(jget '.audit[1].after')" \
  'citizen-sms-abroad,105,citizen,sms,international,*,deny,,"citizens may text abroad"' \
  "audit: the replaced right after"
expect_eq "$(jget '.audit | map(.object) | unique | join(",")')" "right citizen-sms-abroad" "audit objects"
expect_eq "$(jget '.audit[0].before')" null "audit: a created right had no before"
expect_eq "$(jget '.audit[2].after')" null "audit: a deleted right has no after"
call GET "/v1/policy/audit?limit=0"
expect_error 400 limit "must be an integer from 1 to 1000" "audit: limit 0"

# --- the CLI ----------------------------------------------------------------------------
out=$("$KORYO" policy switch foreigner_internet on) || fail "koryo policy switch on: exit $?"
expect_eq "$out" "foreigner_internet: on" "koryo policy switch on"
out=$("$KORYO" policy check $FOREIGNER --apn internet) || fail "koryo policy check --apn: exit $?"
expect_eq "$out" "allowed by classes: the class has this APN" "koryo policy check --apn"
rc=0
out=$("$KORYO" policy check $CITIZEN 0086105551234) || rc=$?
expect_eq "$rc" 1 "koryo policy check: a refusal exits 1"
expect_contains "$out" "refused by citizen-international: citizens may not call or text international numbers" \
  "koryo policy check: the refusal"
rc=0
"$KORYO" policy switch foreigner_internet maybe 2>/dev/null || rc=$?
expect_eq "$rc" 2 "koryo policy switch with a bad state"
out=$("$KORYO" policy audit --all) || fail "koryo policy audit: exit $?"
expect_eq "$(grep -c 'switch foreigner_internet' <<<"$out")" 2 "koryo policy audit: both switch records"
expect_contains "$out" "api:ops.kim" "koryo policy audit: the actor"
out=$("$KORYO" policy rights) || fail "koryo policy rights: exit $?"
expect_contains "$out" "foreigner-citizens" "koryo policy rights"
"$KORYO" policy right set cli-test --priority 999 --class official --verdict deny \
  --reason 'a test' >/dev/null || fail "koryo policy right set"
rc=0
"$KORYO" policy right set cli-test2 --priority 999 --class official --verdict deny \
  --reason 'a test' 2>"$T/err" || rc=$?
expect_eq "$rc" 1 "koryo policy right set: a taken priority"
expect_contains "$(cat "$T/err")" "priority: 999 is already the priority of right cli-test" \
  "koryo policy right set: the error"
"$KORYO" policy right del cli-test || fail "koryo policy right del"
# --- reserved numbers are never sold outside their group ---------------------------------
K=000102030405060708090a0b0c0d0e0f OPC=00112233445566778899aabbccddeeff
out=$(api POST /v1/subscribers -H 'Content-Type: application/json' \
  -d "{\"imsi\":\"467050000099001\",\"class\":\"citizen\",\"msisdn\":\"85019190000001\",\"k\":\"$K\",\"opc\":\"$OPC\"}")
expect_eq "$(tail -1 <<<"$out")" 400 "a citizen with a reserved number"
expect_eq "$(head -n -1 <<<"$out" | jq -r .field)" msisdn "the refusal names msisdn"
out=$(api POST /v1/subscribers -H 'Content-Type: application/json' \
  -d "{\"imsi\":\"467052000099001\",\"class\":\"official\",\"msisdn\":\"85019190000001\",\"k\":\"$K\",\"opc\":\"$OPC\"}")
expect_eq "$(tail -1 <<<"$out")" 201 "an official with a reserved number"
out=$(api PATCH /v1/subscribers/467052000099001 -H 'Content-Type: application/json' -d '{"class":"citizen"}')
expect_eq "$(tail -1 <<<"$out")" 400 "moving the reserved number's holder to another class"
printf 'imsi,msisdn,class,k,opc\n467050000099002,85019120099002,citizen,%s,%s\n467050000099003,85019190000003,citizen,%s,%s\n' \
  "$K" "$OPC" "$K" "$OPC" >"$T/reserved.csv"
out=$(api POST /v1/import/subscribers -H 'Content-Type: text/csv' --data-binary @"$T/reserved.csv")
expect_eq "$(tail -1 <<<"$out")" 400 "an import giving a citizen a reserved number"
expect_eq "$(head -n -1 <<<"$out" | jq -r '[(.line|tostring),.column] | join(" ")')" "3 msisdn" \
  "the import's refusal names the line and the column"
out=$(api GET /v1/subscribers/467050000099002)
expect_eq "$(tail -1 <<<"$out")" 404 "nothing of the refused import is kept"
echo "api_policy: OK"
