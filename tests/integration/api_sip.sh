#!/usr/bin/env bash
# The operator API of the SIP service core (docs/api.md) against a real
# koryod: SIP passwords set and cleared by PATCH (validation errors name
# sip_password; a refused PATCH changes nothing; the password shows in no
# answer, not in koryod's log, not in the store), sip_password_set in every
# subscriber answer; registrations, calls and call detail records with no SIP
# traffic (paging and CSV over records put in the store), their errors;
# the SIP core's metrics; and what each answers with SIP off. Registrations
# and calls made by real phones are the SIPp tests' (sip_*.sh).
source "$KORYO_SRC/tests/integration/lib.sh"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

K=11223344556677889900aabbccddeeff
OPC=cd63cb71954a9f4e48a5994e37a02baf
# Passwords a grep can find anywhere: none is a substring of another.
PW1='Ch0llima-Speed-2026'
PW2='Taedonggang beer & noodles'
PW3='Juche-Tower-170m!'
PW4='Mansudae|Assembly|Hall'

JSON=(-H 'Content-Type: application/json')
S=/v1/subscribers/467059960000001
# sub_state: the subscriber as GET shows it.
sub_state() { api GET $S -f | head -n -1; }
# refused_patch STATUS FIELD ERROR WHAT BODY: refused exactly so, nothing changed.
refused_patch() {
  local before
  before=$(sub_state)
  call PATCH $S "${JSON[@]}" -d "$5"
  expect_error "$1" "$2" "$3" "$4"
  expect_eq "$(sub_state)" "$before" "$4: the refused PATCH changed the subscriber"
}

# --- SIP passwords ------------------------------------------------------------
call POST /v1/subscribers "${JSON[@]}" -d "{\"imsi\":\"467059960000001\",\"msisdn\":\"850199600001\",
  \"class\":\"citizen\",\"status\":\"active\",\"k\":\"$K\",\"opc\":\"$OPC\"}"
expect_code 201 "create without a SIP password"
expect_eq "$(jget .sip_password_set)" false "sip_password_set after a create without one"
call GET $S
expect_eq "$(jget .sip_password_set)" false "GET: sip_password_set before any password"

call PATCH $S "${JSON[@]}" -d "{\"sip_password\":\"$PW1\"}"
expect_code 200 "PATCH sip_password"
expect_eq "$(jget '[.sip_password_set, .status, .msisdn] | join(" ")')" "true active 850199600001" \
  "PATCH sip_password: the answer"
expect_eq "$(jget '[.. | objects | keys[] | select(test("password") and . != "sip_password_set")] | length')" 0 \
  "PATCH sip_password: no password member in the answer"
call GET $S
expect_eq "$(jget .sip_password_set)" true "GET after setting the password"

# Every subscriber answer carries the flag: the list too.
call GET "/v1/subscribers?after=467052000000296&limit=10"
expect_code 200 "list"
expect_eq "$(jget '.items[] | select(.imsi == "467059960000001") | .sip_password_set')" true \
  "list: sip_password_set of the subscriber with a password"
expect_eq "$(jget '[.items[] | select(.imsi != "467059960000001") | .sip_password_set] | unique | join(",")')" \
  false "list: sip_password_set of the others"
expect_eq "$(jget '[.items[] | has("sip_password_set")] | all')" true "list: every item has the flag"
expect_eq "$(jget '.items | length')" 5 "list: four demo subscribers and ours"

BAD="must be 8 to 128 printable ASCII characters"
refused_patch 400 sip_password "$BAD" "7 characters" '{"sip_password":"Pyongya"}'
refused_patch 400 sip_password "$BAD" "empty" '{"sip_password":""}'
refused_patch 400 sip_password "$BAD" "129 characters" \
  "{\"sip_password\":\"$(printf 'p%.0s' $(seq 1 129))\"}"
refused_patch 400 sip_password "$BAD" "a tab" '{"sip_password":"Pyong\tyang"}'
refused_patch 400 sip_password "$BAD" "not ASCII" '{"sip_password":"Pyŏngyang-2026"}'
refused_patch 400 sip_password "must be a string, or null to clear it" "a number" \
  '{"sip_password":12345678}'
refused_patch 400 sip_password "must be a string, or null to clear it" "an object" \
  '{"sip_password":{"value":"Pyongyang-2026"}}'
# With other changes: the password is checked before anything is written.
refused_patch 400 sip_password "$BAD" "a bad password with a status" \
  '{"status":"suspended","sip_password":"short"}'
refused_patch 400 sip_password "the subscriber needs an MSISDN (the digest username)" \
  "a password and no MSISDN" "{\"msisdn\":null,\"sip_password\":\"$PW2\"}"
refused_patch 400 status "must be one of: pending, active, suspended, terminated" \
  "a good password with a bad status" "{\"status\":\"gone\",\"sip_password\":\"$PW2\"}"
refused_patch 409 msisdn "already in use by another subscriber" \
  "a good password with an MSISDN in use" "{\"msisdn\":\"85019120000001\",\"sip_password\":\"$PW2\"}"
# 128 characters is the longest allowed.
call PATCH $S "${JSON[@]}" -d "{\"sip_password\":\"$(printf 'q%.0s' $(seq 1 128))\"}"
expect_code 200 "a password of 128 characters"

# A new MSISDN and a password made for it, in one PATCH.
call PATCH $S "${JSON[@]}" -d "{\"msisdn\":\"850199600011\",\"sip_password\":\"$PW2\"}"
expect_code 200 "PATCH msisdn and sip_password"
expect_eq "$(jget '[.msisdn, .sip_password_set] | join(" ")')" "850199600011 true" \
  "PATCH msisdn and sip_password: the answer"

# Clearing, also when there is nothing to clear.
call PATCH $S "${JSON[@]}" -d '{"sip_password":null}'
expect_code 200 "PATCH sip_password null"
expect_eq "$(jget .sip_password_set)" false "sip_password_set after clearing"
call PATCH $S "${JSON[@]}" -d '{"sip_password":null}'
expect_code 200 "PATCH sip_password null again"
expect_eq "$(jget .sip_password_set)" false "sip_password_set after clearing twice"
call GET /v1/subscribers/msisdn:850199600011
expect_eq "$(jget .sip_password_set)" false "GET by MSISDN after clearing"

# Without an MSISDN there is no digest username.
call POST /v1/subscribers "${JSON[@]}" -d "{\"imsi\":\"467059960000002\",\"class\":\"citizen\",\"k\":\"$K\",\"opc\":\"$OPC\"}"
expect_code 201 "create without an MSISDN"
call PATCH /v1/subscribers/467059960000002 "${JSON[@]}" -d "{\"sip_password\":\"$PW3\"}"
expect_error 400 sip_password "the subscriber needs an MSISDN (the digest username)" \
  "a password for a subscriber without an MSISDN"
call PATCH /v1/subscribers/467059960000009 "${JSON[@]}" -d "{\"sip_password\":\"$PW3\"}"
expect_error 404 - "subscriber not found" "a password for no one"

# Create with a password.
call POST /v1/subscribers "${JSON[@]}" -d "{\"imsi\":\"467059960000003\",\"msisdn\":\"850199600003\",
  \"class\":\"foreigner\",\"k\":\"$K\",\"opc\":\"$OPC\",\"sip_password\":\"$PW3\"}"
expect_code 201 "create with a SIP password"
expect_eq "$(jget .sip_password_set)" true "create with a SIP password: the flag"
call POST /v1/subscribers "${JSON[@]}" -d "{\"imsi\":\"467059960000004\",\"msisdn\":\"850199600004\",
  \"class\":\"foreigner\",\"k\":\"$K\",\"opc\":\"$OPC\",\"sip_password\":\"short\"}"
expect_code 400 "create with a short SIP password"
expect_eq "$(jget .field)" sip_password "create with a short SIP password: field"
call GET /v1/subscribers/467059960000004
expect_code 404 "the subscriber of a refused create"

# And one more password, set last, that must survive the restart below.
call PATCH $S "${JSON[@]}" -d "{\"sip_password\":\"$PW4\"}"
expect_code 200 "PATCH the last password"

# --- the import's sip_password column -------------------------------------------
PW5='Ryugyong-Hotel-105'
printf 'imsi,msisdn,class,status,k,opc,sip_password\n467059960000021,850199600211,citizen,active,%s,%s,%s\n467059960000022,850199600221,citizen,active,%s,%s,\n' \
  "$K" "$OPC" "$PW5" "$K" "$OPC" >"$T/import-pw.csv"
call POST /v1/import/subscribers -H 'Content-Type: text/csv' --data-binary @"$T/import-pw.csv"
expect_code 200 "import with a sip_password column"
call GET /v1/subscribers/467059960000021
expect_eq "$(jget .sip_password_set)" true "imported with a password"
call GET /v1/subscribers/467059960000022
expect_eq "$(jget .sip_password_set)" false "imported with an empty password field"
printf 'imsi,msisdn,class,k,opc,sip_password\n467059960000023,850199600231,citizen,%s,%s,%s\n467059960000024,850199600241,citizen,%s,%s,short\n' \
  "$K" "$OPC" "$PW5" "$K" "$OPC" >"$T/import-bad-pw.csv"
call POST /v1/import/subscribers -H 'Content-Type: text/csv' --data-binary @"$T/import-bad-pw.csv"
expect_code 400 "import with a short sip_password on line 3"
expect_eq "$(jget '[(.line|tostring),.column] | join("|")')" "3|sip_password" \
  "import error names the line and the column"
call GET /v1/subscribers/467059960000023
expect_code 404 "nothing of a refused import is kept"

# --- registrations --------------------------------------------------------------
for key in 467059960000001 msisdn:850199600011; do
  call GET "/v1/subscribers/$key/registrations"
  expect_code 200 "registrations of $key"
  expect_eq "$BODY" '{"imsi":"467059960000001","cell":null,"cell_at":null,"bindings":[]}' \
    "registrations of $key, registered nowhere"
done
call GET /v1/subscribers/467059960000009/registrations
expect_error 404 - "subscriber not found" "registrations of an unknown IMSI"
call GET /v1/subscribers/msisdn:850199699999/registrations
expect_error 404 - "subscriber not found" "registrations of an unknown MSISDN"
call GET "/v1/subscribers/$(printf '4%.0s' $(seq 1 100))/registrations"
expect_error 404 - "subscriber not found" "registrations of a 100-digit key"
call DELETE /v1/subscribers/467059960000001/registrations
expect_error 405 - "method not allowed" "DELETE registrations"
call GET /v1/subscribers/467059960000001/bindings
expect_error 404 - "subscriber not found" "another path below a subscriber"

# --- calls --------------------------------------------------------------------
call GET /v1/calls
expect_code 200 "calls"
expect_eq "$BODY" '{"calls":[]}' "calls with no SIP traffic"
call POST /v1/calls
expect_error 405 - "method not allowed" "POST calls"

# --- call detail records ----------------------------------------------------------
call GET /v1/cdrs
expect_code 200 "cdrs"
expect_eq "$BODY" '{"cdrs":[],"next_after":null}' "cdrs with none written"
HEADER="id,call_id,caller_msisdn,caller_imsi,caller_cell,callee_msisdn,callee_imsi,callee_cell,started_at,answered_at,ended_at,duration_s,duration_ms,status,cause"
csv=$(curl -sS -D "$T/headers" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
  "$KORYO_API/v1/cdrs?format=csv")
expect_eq "$csv" "$HEADER"$'\r' "CSV of no records: the header line alone"
grep -qi '^Content-Type: text/csv; charset=utf-8; header=present' "$T/headers" ||
  fail "CSV: Content-Type: $(cat "$T/headers")"
if grep -qi '^X-Koryo-Next-After' "$T/headers"; then fail "CSV of no records names a next page"; fi

for q in after=abc after=-1 after= after=1.5 after=1234567890123456789; do
  call GET "/v1/cdrs?$q"
  expect_error 400 after "must be a CDR id (a non-negative integer)" "cdrs $q"
done
for q in limit=0 limit=1001 limit=ten limit= limit=-5; do
  call GET "/v1/cdrs?$q"
  expect_error 400 limit "must be an integer from 1 to 1000" "cdrs $q"
done
call GET "/v1/cdrs?format=xml"
expect_error 400 format "must be json or csv" "cdrs format=xml"
call GET "/v1/cdrs?format=csv&limit=0"
expect_error 400 limit "must be an integer from 1 to 1000" "cdrs CSV limit=0 answers in JSON"
call PUT /v1/cdrs
expect_error 405 - "method not allowed" "PUT cdrs"

# --- metrics --------------------------------------------------------------------
M=$(api GET /metrics -f)
for m in koryo_sip_bindings:gauge koryo_sip_registered_subscribers:gauge \
  koryo_sip_registrations_total:counter koryo_sip_auth_challenges_total:counter \
  koryo_sip_auth_failures_total:counter koryo_sip_auth_rate_limited_total:counter \
  koryo_sip_aka_resyncs_total:counter koryo_sip_unknown_cells_total:counter \
  koryo_sip_calls_active:gauge koryo_sip_calls_total:counter \
  koryo_sip_messages_relayed_total:counter koryo_sip_cdrs_written_total:counter \
  koryo_sip_cdr_write_errors_total:counter; do
  name=${m%:*}
  grep -qE "^# HELP $name .+" <<<"$M" || fail "metrics: no HELP for $name"
  grep -qx "# TYPE $name ${m#*:}" <<<"$M" || fail "metrics: no TYPE ${m#*:} for $name"
done
# No SIP traffic reached this koryod: every SIP core series is 0.
for name in koryo_sip_bindings koryo_sip_registered_subscribers koryo_sip_registrations_total \
  koryo_sip_auth_challenges_total koryo_sip_auth_failures_total koryo_sip_calls_active \
  koryo_sip_cdrs_written_total koryo_sip_cdr_write_errors_total; do
  expect_eq "$(awk -v n="$name" '$1 == n { print $2 }' <<<"$M")" 0 "metric $name"
done
for o in answered failed cancelled refused; do
  expect_eq "$(awk -v n="koryo_sip_calls_total{outcome=\"$o\"}" '$1 == n { print $2 }' <<<"$M")" 0 \
    "metric koryo_sip_calls_total outcome $o"
done
expect_eq "$(grep -c '^koryo_sip_calls_total{' <<<"$M")" 4 "koryo_sip_calls_total: four outcomes"
for r in '/v1/subscribers/{key}/registrations' /v1/calls /v1/cdrs; do
  grep -qF "koryo_api_request_duration_seconds_count{route=\"$r\"} " <<<"$M" ||
    fail "metrics: no latency series for route $r"
done
expect_eq "$(grep -F 'koryo_api_request_duration_seconds_count{route="/v1/cdrs"}' <<<"$M" | awk '{print $2}')" \
  15 "route /v1/cdrs counts the requests made to it"

# --- records in the store: paging and CSV ---------------------------------------
# What the proxy would have written after five calls; put straight into the
# store with koryod stopped, since it holds the database while it runs.
koryod_stop
sqlite3 "$T/data/koryo.db" <<'EOF'
INSERT INTO sip_cdr (id, call_id, caller_imsi, caller_msisdn, callee_imsi, callee_msisdn,
  caller_cell, callee_cell, start_ms, answer_ms, end_ms, status, cause) VALUES
 (7, 'a84b4c76e66710@10.0.0.7', 467059960000001, 850199600011, 467059960000003, 850199600003,
  'utran-cell-id-3gpp=46705000100001', 'utran-cell-id-3gpp=46705000100002',
  1795000000123, 1795000002000, 1795000065500, 200, 'normal'),
 (8, 'call "two", with quotes', 467059960000003, 850199600003, 467059960000001, 850199600011,
  '', '', 1795000100000, 0, 1795000110000, 487, 'cancelled'),
 (9, '=HYPERLINK("http://x")', 467059960000003, 850199600003, 467059960000001, 850199600011,
  '-1+1', '', 1795000200000, 0, 1795000200500, 486, 'busy'),
 (12, 'line
break', 467059960000001, 850199600011, 467059960000003, 850199600003,
  '', '', 1795003600000, 1795003601000, 1795007300999, 200, 'normal'),
 (20, 'last@host', 467059960000001, 850199600011, 467059960000003, 850199600003,
  '', '', 1795010000000, 0, 1795010030000, 403, 'refused');
EOF
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

call GET /v1/cdrs
expect_code 200 "cdrs"
expect_eq "$(jget '[.cdrs[].id] | map(tostring) | join(" ")') $(jget .next_after)" "7 8 9 12 20 null" \
  "cdrs: every record, oldest first, no next page"
expect_eq "$(jget '.cdrs[0] | tojson')" \
  '{"id":7,"call_id":"a84b4c76e66710@10.0.0.7","caller_msisdn":"850199600011","caller_imsi":"467059960000001","caller_cell":"utran-cell-id-3gpp=46705000100001","callee_msisdn":"850199600003","callee_imsi":"467059960000003","callee_cell":"utran-cell-id-3gpp=46705000100002","started_at":"2026-11-18T11:06:40.123Z","answered_at":"2026-11-18T11:06:42.000Z","ended_at":"2026-11-18T11:07:45.500Z","duration_s":63,"duration_ms":63500,"status":200,"cause":"normal"}' \
  "an answered call's record"
expect_eq "$(jget '.cdrs[1] | [.answered_at, .duration_s, .duration_ms, .caller_cell, .status, .cause] | tojson')" \
  '[null,0,0,null,487,"cancelled"]' "a cancelled call's record"
expect_eq "$(jget '.cdrs[3] | [.duration_s, .duration_ms] | tojson')" '[3699,3699999]' \
  "an hour-long call's duration"

# Pages of 2: next_after is the last id shown, null on the last page.
pages=""
after=0
while :; do
  call GET "/v1/cdrs?after=$after&limit=2"
  expect_code 200 "cdrs page after $after"
  pages+="$(jget '[.cdrs[].id] | map(tostring) | join(",")')/$(jget .next_after) "
  [ "$(jget .next_after)" != null ] || break
  expect_eq "$(jget .next_after)" "$(jget '.cdrs[-1].id')" "next_after is the last id of the page"
  after=$(jget .next_after)
done
expect_eq "$pages" "7,8/8 9,12/12 20/null " "cdrs in pages of 2"
call GET "/v1/cdrs?after=20"
expect_eq "$BODY" '{"cdrs":[],"next_after":null}' "cdrs after the last"
call GET "/v1/cdrs?after=8&limit=1"
expect_eq "$(jget '[.cdrs[].id, .next_after] | map(tostring) | join(" ")')" "9 9" \
  "cdrs after an id, limit 1"

# The CSV: RFC 4180 (CRLF, quoted commas, quotes and line breaks), the JSON's
# fields, and the cursor in a header.
curl -sS -D "$T/headers" -o "$T/page.csv" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
  "$KORYO_API/v1/cdrs?format=csv&limit=4"
printf '%s\r\n' "$HEADER" \
  '7,a84b4c76e66710@10.0.0.7,850199600011,467059960000001,utran-cell-id-3gpp=46705000100001,850199600003,467059960000003,utran-cell-id-3gpp=46705000100002,2026-11-18T11:06:40.123Z,2026-11-18T11:06:42.000Z,2026-11-18T11:07:45.500Z,63,63500,200,normal' \
  '8,"call ""two"", with quotes",850199600003,467059960000003,,850199600011,467059960000001,,2026-11-18T11:08:20.000Z,,2026-11-18T11:08:30.000Z,0,0,487,cancelled' \
  "9,\"'=HYPERLINK(\"\"http://x\"\")\",850199600003,467059960000003,'-1+1,850199600011,467059960000001,,2026-11-18T11:10:00.000Z,,2026-11-18T11:10:00.500Z,0,0,486,busy" \
  "12,\"line"$'\n'"break\",850199600011,467059960000001,,850199600003,467059960000003,,2026-11-18T12:06:40.000Z,2026-11-18T12:06:41.000Z,2026-11-18T13:08:20.999Z,3699,3699999,200,normal" \
  >"$T/want.csv"
cmp -s "$T/page.csv" "$T/want.csv" || fail "CSV page: $(diff <(cat -A "$T/want.csv") <(cat -A "$T/page.csv"))"
grep -qi '^X-Koryo-Next-After: 12'$'\r''$' "$T/headers" || fail "CSV: no X-Koryo-Next-After: 12 in: $(cat "$T/headers")"
curl -sS -D "$T/headers" -o "$T/page.csv" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
  "$KORYO_API/v1/cdrs?format=csv&after=12"
expect_eq "$(tail -n +2 "$T/page.csv" | cut -d, -f1,2,15)" "20,last@host,refused"$'\r' "CSV: the last page"
if grep -qi '^X-Koryo-Next-After' "$T/headers"; then fail "CSV: the last page names a next one"; fi

# The CLI pages the same records, as CSV and as a table.
"$KORYO" cdrs --csv --all --limit 2 >"$T/cli.csv" || fail "koryo cdrs --csv --all failed"
curl -sS -o "$T/all.csv" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
  "$KORYO_API/v1/cdrs?format=csv"
cmp -s "$T/cli.csv" "$T/all.csv" || fail "koryo cdrs --csv --all differs from one page of all"
"$KORYO" cdrs --limit 2 >"$T/cli.out" 2>"$T/cli.err" || fail "koryo cdrs --limit 2 failed"
expect_eq "$(awk '{print $1}' "$T/cli.out" | tr '\n' ' ')" "ID 7 8 " "koryo cdrs --limit 2: the ids"
expect_eq "$(cat "$T/cli.err")" "(more: koryo cdrs --after 8, or --all)" "koryo cdrs: the next page hint"
grep -qE '^7 +2026-11-18T11:06:40\.123Z +850199600011 +850199600003 +1:03 +200 +normal +a84b4c76e66710@10\.0\.0\.7$' \
  "$T/cli.out" || fail "koryo cdrs: row 7 in: $(cat "$T/cli.out")"
grep -qE '^8 .* 850199600011 +- +487 +cancelled +call "two", with quotes$' "$T/cli.out" ||
  fail "koryo cdrs: row 8 (never answered: no talk time) in: $(cat "$T/cli.out")"
"$KORYO" cdrs --all --json --limit 3 >"$T/cli.json" || fail "koryo cdrs --all --json failed"
expect_eq "$(jq -c '[[.cdrs[].id], .next_after]' "$T/cli.json")" '[[7,8,9,12,20],null]' \
  "koryo cdrs --all --json"

# The password set before the restart is still set.
call GET $S
expect_eq "$(jget .sip_password_set)" true "sip_password_set after a restart"

# --- SIP off ----------------------------------------------------------------------
koryod_stop
koryod_config "sip.listen = off"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
call GET /v1/subscribers/467059960000001/registrations
expect_error 404 - "SIP is off (sip.listen = off)" "registrations with SIP off"
call GET /v1/subscribers/467059960000009/registrations
expect_error 404 - "SIP is off (sip.listen = off)" "registrations of no one with SIP off"
call GET /v1/calls
expect_error 404 - "SIP is off (sip.listen = off)" "calls with SIP off"
# The records are the store's: still there for billing.
call GET /v1/cdrs
expect_eq "$(jget '[.cdrs[].id] | map(tostring) | join(" ")')" "7 8 9 12 20" "cdrs with SIP off"
M=$(api GET /metrics -f)
grep -q '^koryo_subscribers{' <<<"$M" || fail "metrics with SIP off: no koryo_subscribers"
for name in koryo_sip_bindings koryo_sip_registrations_total koryo_sip_calls_total \
  koryo_sip_cdrs_written_total; do
  if grep -q "^# TYPE $name " <<<"$M"; then fail "metrics with SIP off: $name is there"; fi
done

# --- no password anywhere -----------------------------------------------------------
# Not in an answer, not in koryod's log (complete once stopped), not in any
# file of the store (the database, its WAL).
koryod_stop
for pw in "$PW1" "$PW2" "$PW3" "$PW4" "$PW5"; do
  for f in "$T/api-output" "$T/koryod.log" "$T"/data/koryo.db*; do
    if grep -aqF -- "$pw" "$f"; then fail "the password '$pw' is in $(basename "$f")"; fi
  done
done
# The store did keep something for PW4: its HA1s, not the password.
expect_eq "$(sqlite3 "$T/data/koryo.db" "SELECT count(*) FROM subscriber_sip WHERE imsi_num = 467059960000001")" \
  1 "the store keeps the credential of the subscriber with a password"
echo "PASS api_sip"
