#!/usr/bin/env bash
# koryo sub against a real koryod: add, show (by IMSI, msisdn:, iccid:), list
# (filters, paging with --all), set, del; bad input gets the exact error and
# exit status and changes nothing; a wrong token, a missing token file and a
# dead koryod each exit 3 with a message that says which; and a K given to
# `sub add` never shows in the CLI's output, the API's JSON or koryod's log.
source "$KORYO_SRC/tests/integration/cli_lib.sh"
cli_start

# Test subscribers live in 46705 99..., away from the profile's own.
K=8baf473f2f8fd09487cccbd7097c6862
OPC=8e27b6af0e692e750f32667a3b14605d
K2=C0FFEE00DEADBEEF0123456789ABCDEF
OP2=5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A
CITY=$(curl -fsS -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" "$KORYO_API/v1/cities" |
  jq -r '.items[0].name')
if [ -z "$CITY" ] || [ "$CITY" == null ]; then fail "the profile has no city"; fi

base=$(api_count)
expect_eq "$(cli_count)" "$base" "sub list --all before any change"

# --- add and show ----------------------------------------------------------
run sub add --imsi 467059900000001 --class foreigner --k $K --opc $OPC --msisdn 8501999000001 \
  --iccid 8985005990000000011 --status active --name "Ri Yong Ho" --id-document P7654321 \
  --nationality GBR --city "$CITY" --amf 8000 --sqn 32
expect_rc 0 "sub add"
# Aligned: every value starts in the same column.
expect_eq "$(awk '{ print index($0, $2) }' <<<"$OUT" | sort -u | wc -l)" 1 "sub add alignment"
for line in "imsi: 467059900000001" "msisdn: 8501999000001" "iccid: 8985005990000000011" \
  "class: foreigner" "status: active" "name: Ri Yong Ho" "id_document: P7654321" \
  "nationality: GBR" "city: $CITY" "auth.algorithm: milenage" "auth.op_kind: opc" \
  "auth.amf: 8000" "auth.sqn: 32"; do
  grep -qx "${line%%: *}: *${line#*: }" <<<"$OUT" || fail "sub add: no line '$line' in: $OUT"
done
grep -qE '^created_at: +[0-9]{4}-' <<<"$OUT" || fail "sub add: no created_at"
grep -qE '^auth.ind_bitlen: +[0-9]+$' <<<"$OUT" || fail "sub add: no auth.ind_bitlen"
shown=$OUT

run sub show 467059900000001
expect_rc 0 "sub show IMSI"
expect_eq "$OUT" "$shown" "sub show IMSI"
for key in msisdn:8501999000001 iccid:8985005990000000011; do
  run sub show $key
  expect_rc 0 "sub show $key"
  expect_eq "$OUT" "$shown" "sub show $key"
done
run sub show --msisdn 8501999000001
expect_eq "$OUT" "$shown" "sub show --msisdn"
run sub show --iccid 8985005990000000011
expect_eq "$OUT" "$shown" "sub show --iccid"

# --json is the API's JSON: same as curl sees, secrets absent.
run --json sub show 467059900000001
expect_rc 0 "sub show --json"
api_json=$(api GET /v1/subscribers/467059900000001 | head -n -1)
expect_eq "$(jq -S . <<<"$OUT")" "$(jq -S . <<<"$api_json")" "sub show --json vs the API"
expect_eq "$(jq -r '.auth.op_kind' <<<"$OUT")" opc "sub show --json op_kind"
expect_eq "$(jq '[.. | objects | keys[] | select(. == "k" or . == "op" or . == "opc")] | length' \
  <<<"$OUT")" 0 "sub show --json has no key fields"

# A minimal subscriber: null fields show as "-", an OP key shows as op.
run sub add --imsi 467059900000002 --class citizen --k $K2 --op $OP2
expect_rc 0 "sub add minimal"
for f in msisdn iccid name id_document nationality city activated_at; do
  grep -qx "$f: *-" <<<"$OUT" || fail "sub add minimal: $f is not '-' in: $OUT"
done
grep -qx "status: *pending" <<<"$OUT" || fail "sub add minimal: status is not pending"
grep -qx "auth.op_kind: *op" <<<"$OUT" || fail "sub add minimal: op_kind is not op"

# --- bad input: exact error, exit status, nothing changed --------------------
count=$(api_count)
expect_eq "$count" $((base + 2)) "count after two adds"
run sub add --imsi 12345 --class citizen --k $K --opc $OPC
expect_rc 1 "sub add bad IMSI"
expect_eq "$ERR" "koryo: imsi: must be 14 or 15 digits" "sub add bad IMSI"
run sub add --imsi 467059900000003 --class citizen --opc $OPC
expect_rc 2 "sub add without --k"
expect_eq "$ERR" "koryo sub add: missing --k
Try 'koryo sub add --help'." "sub add without --k"
run sub add --imsi 467059900000003 --class citizen --k $K --op $OPC --opc $OPC
expect_rc 2 "sub add --op and --opc"
expect_eq "$ERR" "koryo sub add: give --op or --opc, not both
Try 'koryo sub add --help'." "sub add --op and --opc"
run sub add --imsi 467059900000003 --class tourist --k $K --opc $OPC
expect_rc 1 "sub add unknown class"
expect_contains "$ERR" "koryo: class: " "sub add unknown class"
expect_eq "$(grep -c . <<<"$ERR")" 1 "sub add unknown class: one line"
run sub add --imsi 467059900000001 --class citizen --k $K --opc $OPC
expect_rc 1 "sub add duplicate IMSI"
expect_contains "$ERR" "koryo: imsi: " "sub add duplicate IMSI"
run sub add --imsi 467059900000003 --class citizen --k $K --opc ZZZZ
expect_rc 1 "sub add bad OPc"
expect_contains "$ERR" "koryo: opc: " "sub add bad OPc"
run sub add --imsi 467059900000003 --class citizen --k $K --opc $OPC --city Atlantis
expect_rc 1 "sub add unknown city"
expect_contains "$ERR" "koryo: city: " "sub add unknown city"
expect_eq "$(api_count)" "$count" "count after refused adds"
run sub show 467059900000003
expect_rc 1 "sub show of a refused add"

# --- list: table, filters, paging -------------------------------------------
cit=$(api_count class=citizen)
for i in 3 4 5 6 7 8 9; do
  run sub add --imsi 46705990000000$i --class citizen --k $K2 --opc $OPC --status suspended \
    --city "$CITY" --name "Test $i"
  expect_rc 0 "sub add $i"
done
count=$((count + 7))
expect_eq "$(api_count)" "$count" "count after seven more adds"

run sub list --limit 3
expect_rc 0 "sub list --limit 3"
expect_eq "$(head -n 1 <<<"$OUT" | tr -s ' ')" "IMSI MSISDN ICCID STATUS CLASS CITY NAME" \
  "sub list header"
expect_eq "$(tail -n +2 <<<"$OUT" | wc -l)" 3 "sub list --limit 3 rows"
last=$(tail -n 1 <<<"$OUT" | awk '{print $1}')
expect_eq "$ERR" "(more: koryo sub list --after $last, or --all)" "sub list more hint"
run sub list --limit 3 --after "$last"
expect_rc 0 "sub list --after"
[ "$(sed -n 2p <<<"$OUT" | awk '{print $1}')" \> "$last" ] || fail "sub list --after did not move on"

# --all over many pages: every subscriber once, in IMSI order.
run sub list --all --limit 2
expect_rc 0 "sub list --all"
expect_eq "$(tail -n +2 <<<"$OUT" | wc -l)" "$count" "sub list --all rows"
tail -n +2 <<<"$OUT" | awk '{print $1}' >"$T/imsis"
sort -c "$T/imsis" || fail "sub list --all is not in IMSI order"
expect_eq "$(sort -u "$T/imsis" | wc -l)" "$count" "sub list --all: no IMSI twice"
grep -qE '^467059900000005 +- +- +suspended +citizen +.* +Test 5$' <<<"$OUT" ||
  fail "sub list: no row for 467059900000005"

# Filters, alone and combined, against the API's own count.
expect_eq "$(cli_count --class citizen --limit 3)" $((cit + 7)) "sub list --class citizen"
expect_eq "$(cli_count --status suspended)" "$(api_count status=suspended)" "sub list --status"
expect_eq "$(cli_count --status suspended --class citizen --city "$CITY")" \
  "$(api_count "status=suspended&class=citizen&city=$(jq -rn --arg c "$CITY" '$c|@uri')")" \
  "sub list --status --class --city"
run sub list --class foreigner --status active --city "$CITY" --all
expect_contains "$OUT" "467059900000001" "sub list combined filters"
run sub list --class nobody
expect_rc 1 "sub list of an unknown class"
expect_contains "$ERR" "koryo: class: " "sub list of an unknown class"
run sub list --after 467059999999999
expect_rc 0 "sub list matching no one"
expect_eq "$OUT" "$(head -n 1 <<<"$OUT")" "sub list matching no one: the header alone"

# --json --all: one document holding every subscriber.
run sub list --all --json --limit 4
expect_rc 0 "sub list --all --json"
expect_eq "$(jq '.items | length' <<<"$OUT")" "$count" "sub list --all --json items"
expect_eq "$(jq -r '.next' <<<"$OUT")" null "sub list --all --json next"
run sub list --json --limit 2
expect_eq "$(jq '.items | length' <<<"$OUT")" 2 "sub list --json one page"

# What the API itself says about the test subscribers, for the secrets check.
for i in 1 2 3 4 5 6 7 8 9; do
  api GET /v1/subscribers/46705990000000$i >>"$T/api-output"
done
api GET "/v1/subscribers?limit=1000&after=467059900000000" >>"$T/api-output"

# --- set ----------------------------------------------------------------------
run sub set 467059900000001 --status suspended --no-msisdn --name "Ri Yong Su" --class official
expect_rc 0 "sub set"
grep -qx "status: *suspended" <<<"$OUT" || fail "sub set: status not changed: $OUT"
grep -qx "msisdn: *-" <<<"$OUT" || fail "sub set: msisdn not cleared: $OUT"
grep -qx "name: *Ri Yong Su" <<<"$OUT" || fail "sub set: name not changed: $OUT"
grep -qx "id_document: *P7654321" <<<"$OUT" || fail "sub set: other holder fields kept: $OUT"
grep -qx "class: *official" <<<"$OUT" || fail "sub set: class not changed: $OUT"
run sub show msisdn:8501999000001
expect_rc 1 "sub show by a cleared MSISDN"
run sub set iccid:8985005990000000011 --msisdn 8501999000011
expect_rc 0 "sub set by ICCID"
run sub show msisdn:8501999000011
expect_rc 0 "sub show by the new MSISDN"
before=$(api GET /v1/subscribers/467059900000001 | head -n -1)
run sub set 467059900000001 --status sleeping
expect_rc 1 "sub set bad status"
expect_contains "$ERR" "koryo: status: " "sub set bad status"
run sub set 467059900000001 --class tourist --status active
expect_rc 1 "sub set unknown class"
expect_contains "$ERR" "koryo: class: " "sub set unknown class"
expect_eq "$(api GET /v1/subscribers/467059900000001 | head -n -1)" "$before" \
  "a refused set changes nothing"
run sub set 467059900000099 --status active
expect_rc 1 "sub set of no one"

# --- del ------------------------------------------------------------------------
run sub del 467059900000002
expect_rc 0 "sub del"
expect_eq "$OUT" "deleted 467059900000002" "sub del"
run sub show 467059900000002
expect_rc 1 "sub show after del"
[ -n "$ERR" ] || fail "sub show after del: no message"
run sub del 467059900000002
expect_rc 1 "sub del twice"
run sub del --msisdn 8501999000011
expect_rc 0 "sub del --msisdn"
for i in 3 4 5 6 7 8 9; do
  run sub del 46705990000000$i
  expect_rc 0 "sub del $i"
done
expect_eq "$(api_count)" "$base" "count after deleting every test subscriber"
expect_eq "$(cli_count)" "$base" "sub list --all after deleting"

# --- SIP: passwords, registrations, calls, records -------------------------------
# The passwords never show: not in what koryo prints, not in what koryod
# answered, not in koryod's log (checked with the keys at the end).
SIP_PW1='Ryugyong-Hotel-105'
SIP_PW2='Arirang Mass Games 2026'
sip_flag() { api GET /v1/subscribers/467059900000010 | head -n -1 | jq -r .sip_password_set; }
run sub add --imsi 467059900000010 --class citizen --k $K --opc $OPC --msisdn 8501999000010 \
  --sip-password "$SIP_PW1"
expect_rc 0 "sub add --sip-password"
grep -qx "sip_password: *set" <<<"$OUT" || fail "sub add --sip-password: no 'sip_password: set' in: $OUT"
expect_eq "$(awk '{ print index($0, $2) }' <<<"$OUT" | sort -u | wc -l)" 1 \
  "sub add --sip-password alignment"
expect_eq "$(sip_flag)" true "sub add --sip-password: the API's flag"
run sub show 467059900000010
grep -qx "sip_password: *set" <<<"$OUT" || fail "sub show: no 'sip_password: set' in: $OUT"
run sub set 467059900000010 --clear-sip-password
expect_rc 0 "sub set --clear-sip-password"
grep -qx "sip_password: *not set" <<<"$OUT" || fail "sub set --clear-sip-password: $OUT"
expect_eq "$(sip_flag)" false "sub set --clear-sip-password: the API's flag"
# From standard input: not on the command line, not echoed.
run sub set 467059900000010 --sip-password - <<<"$SIP_PW2"
expect_rc 0 "sub set --sip-password -"
grep -qx "sip_password: *set" <<<"$OUT" || fail "sub set --sip-password -: $OUT"
expect_eq "$(sip_flag)" true "sub set --sip-password -: the API's flag"
run sub set 467059900000010 --sip-password - </dev/null
expect_rc 2 "sub set --sip-password - with nothing on stdin"
expect_eq "$ERR" "koryo sub set: --sip-password -: no password on standard input
Try 'koryo sub set --help'." "sub set --sip-password - with nothing on stdin"
run sub set 467059900000010 --sip-password short7!
expect_rc 1 "sub set --sip-password too short"
expect_eq "$ERR" "koryo: sip_password: must be 8 to 128 printable ASCII characters" \
  "sub set --sip-password too short"
run sub set 467059900000010 --sip-password "$SIP_PW1" --clear-sip-password
expect_rc 2 "sub set --sip-password and --clear-sip-password"
expect_eq "$ERR" "koryo sub set: give --sip-password or --clear-sip-password, not both
Try 'koryo sub set --help'." "sub set --sip-password and --clear-sip-password"
expect_eq "$(sip_flag)" true "the refused sets left the password"
# A subscriber without an MSISDN has no digest username.
run sub add --imsi 467059900000011 --class citizen --k $K --opc $OPC --sip-password "$SIP_PW1"
expect_rc 1 "sub add --sip-password without --msisdn"
expect_contains "$ERR" "koryo: sip_password: " "sub add --sip-password without --msisdn"
run sub show 467059900000011
expect_rc 1 "sub show of the refused add"
api GET /v1/subscribers/467059900000010 >>"$T/api-output"

# Registrations: none yet (phones registering are the SIPp tests').
run sub registrations 467059900000010
expect_rc 0 "sub registrations"
expect_eq "$(head -n 2 <<<"$OUT")" "cell:    -
cell_at: -" "sub registrations: the cell"
expect_eq "$(tail -n +3 <<<"$OUT" | tr -s ' ')" "CONTACT SOURCE EXPIRES_IN PATH" \
  "sub registrations of a phone registered nowhere: the header alone"
run sub registrations --msisdn 8501999000010 --json
expect_rc 0 "sub registrations --json"
expect_eq "$(jq -c . <<<"$OUT")" \
  '{"imsi":"467059900000010","cell":null,"cell_at":null,"bindings":[]}' "sub registrations --json"
run sub registrations 467059900000099
expect_rc 1 "sub registrations of no one"
expect_eq "$ERR" "koryo: subscriber not found" "sub registrations of no one"
run sub registrations
expect_rc 2 "sub registrations without a subscriber"

# Calls and records: none (no SIP traffic here).
run calls
expect_rc 0 "calls"
expect_eq "$(tr -s ' ' <<<"$OUT")" "STATE CALLER CALLEE CALLER_CELL CALLEE_CELL STARTED TALK CALL_ID" \
  "calls with none up: the header alone"
run calls --json
expect_eq "$(jq -c . <<<"$OUT")" '{"calls":[]}' "calls --json"
run cdrs
expect_rc 0 "cdrs"
expect_eq "$(tr -s ' ' <<<"$OUT")" "ID STARTED CALLER CALLEE TALK STATUS CAUSE CALL_ID" \
  "cdrs with none written: the header alone"
expect_eq "$ERR" "" "cdrs with none written: no next page"
run cdrs --csv --all
expect_rc 0 "cdrs --csv --all"
expect_eq "$(tr -d '\r' <<<"$OUT")" \
  "id,call_id,caller_msisdn,caller_imsi,caller_cell,callee_msisdn,callee_imsi,callee_cell,started_at,answered_at,ended_at,duration_s,duration_ms,status,cause" \
  "cdrs --csv with none written: the header line"
run cdrs --limit 0
expect_rc 1 "cdrs --limit 0"
expect_eq "$ERR" "koryo: limit: must be an integer from 1 to 1000" "cdrs --limit 0"
run cdrs --csv --limit 5000
expect_rc 1 "cdrs --csv --limit 5000"
expect_eq "$ERR" "koryo: limit: must be an integer from 1 to 1000" "cdrs --csv --limit 5000"
run cdrs --after yesterday
expect_rc 2 "cdrs --after a word"
expect_eq "$ERR" "koryo cdrs: --after must be a decimal number
Try 'koryo cdrs --help'." "cdrs --after a word"
run cdrs --csv --json
expect_rc 2 "cdrs --csv --json"
for c in "sub registrations" calls cdrs; do
  # shellcheck disable=SC2086 # the words are the command
  run $c --help
  expect_rc 0 "$c --help"
  grep -q "^Usage: koryo $c" <<<"$OUT" || fail "$c --help: no usage line in: $OUT"
done

run sub del 467059900000010
expect_rc 0 "sub del of the SIP subscriber"
expect_eq "$(api_count)" "$base" "count after the SIP tests"
for pw in "$SIP_PW1" "$SIP_PW2"; do
  if grep -qF -- "$pw" "$T/cli-output" "$T/api-output"; then fail "a SIP password was printed"; fi
done

# --- reaching koryod: each failure says which -------------------------------------
printf 'not-the-token\n' >"$T/bad.token"
run --token-file "$T/bad.token" sub list
expect_rc 3 "wrong token"
expect_eq "$ERR" "koryo: koryod at $KORYO_API refused the token from $T/bad.token (401: missing or invalid bearer token)" \
  "wrong token"
KORYO_TOKEN_FILE=$T/bad.token run sub show 467050000000001
expect_rc 3 "wrong token from the environment"
run --token-file "$T/nonexistent.token" sub list
expect_rc 3 "missing token file"
expect_eq "$ERR" "koryo: cannot read token file $T/nonexistent.token: No such file or directory" \
  "missing token file"
: >"$T/empty.token"
run --token-file "$T/empty.token" sub list
expect_rc 3 "empty token file"
expect_eq "$ERR" "koryo: token file $T/empty.token is empty" "empty token file"
# Surrounding whitespace in the token file is not part of the token.
printf '\n  %s \n\n' "$(cat "$KORYO_TOKEN_FILE")" >"$T/spaced.token"
run --token-file "$T/spaced.token" sub list --limit 1
expect_rc 0 "token with whitespace around it"
dead=http://127.0.0.1:$(free_port)
run --api "$dead" sub list
expect_rc 3 "no koryod"
expect_eq "$ERR" "koryo: cannot reach koryod at $dead: connection refused (is koryod running? see --api and KORYO_API)" \
  "no koryod"
KORYO_API=$dead run sub add --imsi 467059900000001 --class citizen --k $K --opc $OPC
expect_rc 3 "no koryod from the environment"
expect_eq "$(api_count)" "$base" "count after the failed connections"
# The token never shows.
token=$(cat "$KORYO_TOKEN_FILE")
if grep -qF "$token" "$T/cli-output"; then fail "the token appears in the CLI's output"; fi

# --- secrets -------------------------------------------------------------------------
# Everything the CLI printed, the API's JSON about the test subscribers, and
# koryod's log (complete once it has stopped).
koryod_stop
for s in $K $OPC $K2 $OP2; do
  expect_no_secret "$s" "key $s"
done
for pw in "$SIP_PW1" "$SIP_PW2"; do
  if grep -qF -- "$pw" "$T/koryod.log"; then fail "a SIP password is in koryod's log"; fi
done
echo "ok"
