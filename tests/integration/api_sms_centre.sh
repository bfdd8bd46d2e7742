#!/usr/bin/env bash
# The SMS centre as the operator sees it (docs/api.md "SMS centre", docs/cli.md
# "SMS COMMANDS", docs/metrics.md), against a real koryod with the demo
# profile and SIPp peers, in a network namespace with only loopback:
#   - a text/plain MESSAGE from a registered subscriber is answered 202 once
#     stored; to a subscriber not registered it stays waiting, and
#     /v1/sms/messages lists it (sender, recipient, segments, size, state),
#     never its text; ?msisdn= filters, paging by id works;
#   - a content rule with action hold makes a message held; release (API with
#     an actor, CLI) and delete (API, CLI) act on held messages only (404
#     JSON otherwise); a deleted one ends in a CDR with outcome deleted;
#   - when the recipient registers, its waiting message is delivered (the
#     recipient gets the text) and a CDR says sender, recipient, segments,
#     size, outcome delivered, channel sip; JSON, JSON lines and CSV, paged by
#     seq with next_after / X-Koryo-Next-After; koryo sms cdrs the same;
#   - /v1/sms/centre and the koryo_sms_* metrics count it all; bad queries are
#     400 naming the field; the text never appears in any API or CLI output;
#   - what is waiting survives a restart.
# Env: KORYOD, KORYO, KORYO_SRC, SIP_UA.
set -euo pipefail
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"

sip_koryod_start
msisdn() { echo "8501912${1: -7}"; }
PW=pw-koryo-smsapi
A=467050000000001 B=467050000000002 C=467050000000003
AM=$(msisdn $A) BM=$(msisdn $B) CM=$(msisdn $C)
for s in $A $B $C; do set_password "$s" "$PW"; done
NO_CELL="X-Koryo-Test: no cell"
JSON=(-H 'Content-Type: application/json')
# Every text carries this, so that one grep finds any leak of a text.
SECRET="zq$RANDOM$RANDOM-secret"

# The centre must be there: the paths answer 404 "the SMS centre is off"
# when koryod runs without it.
call GET /v1/sms/centre
expect_code 200 "GET /v1/sms/centre (is the SMS centre wired into koryod?)"

# ---- empty --------------------------------------------------------------------------------
call GET /v1/sms/messages
expect_code 200 "messages, empty"
expect_eq "$BODY" '{"messages":[],"next_after":null}' "no message stored"
call GET /v1/sms/cdrs
expect_eq "$BODY" '{"cdrs":[],"next_after":null}' "no CDR"
call GET /v1/sms/centre
for k in submitted refused no_credit delivered expired failed attempts retries reports_sent \
  waiting held in_flight segments_waiting incomplete_dropped; do
  expect_eq "$(jget ".$k")" 0 "centre: $k at start"
done
M=$(api_ok GET /metrics)
for m in submitted_total:counter refused_total:counter no_credit_total:counter \
  delivered_total:counter expired_total:counter failed_total:counter \
  delivery_attempts_total:counter delivery_retries_total:counter \
  status_reports_sent_total:counter incomplete_dropped_total:counter waiting:gauge held:gauge \
  deliveries_in_flight:gauge segments_waiting:gauge; do
  name=koryo_sms_${m%%:*}
  grep -q "^# HELP $name [A-Z]" <<<"$M" || fail "/metrics: no HELP for $name"
  grep -qx "# TYPE $name ${m##*:}" <<<"$M" || fail "/metrics: $name is not a ${m##*:}"
  grep -qx "$name 0" <<<"$M" || fail "/metrics: $name is not 0 at start"
done
echo "ok: an empty centre"

# ---- bad requests: JSON errors naming the field --------------------------------------------
call GET "/v1/sms/messages?limit=0"
expect_error 400 limit "must be an integer from 1 to 1000" "messages: limit 0"
call GET "/v1/sms/messages?after=x"
expect_error 400 after "must be a message id (a non-negative integer)" "messages: after x"
call GET "/v1/sms/messages?msisdn=85019x"
expect_error 400 msisdn "must be an MSISDN: an optional '+' and 1 to 15 digits" "messages: bad msisdn"
call GET "/v1/sms/cdrs?format=xml"
expect_error 400 format "must be json, jsonl or csv" "cdrs: bad format"
call GET "/v1/sms/cdrs?after=-1&format=csv"
expect_error 400 after "must be a CDR seq (a non-negative integer)" "cdrs: a CSV's error is JSON"
call GET /v1/sms/messages/abc
expect_error 404 - "no such message" "message: not an id"
call GET /v1/sms/messages/424242
expect_error 404 - "no such message" "message: absent"
call DELETE /v1/sms/messages/424242
expect_error 404 - "no such held message" "delete: absent"
call POST /v1/sms/messages/424242/release
expect_error 404 - "no such held message" "release: absent"
call POST /v1/sms/messages/1/forward
expect_error 404 - "no such path: /v1/sms/messages/1/forward" "message: unknown action"
call PUT /v1/sms/messages/1
expect_error 405 - "method not allowed" "message: PUT"
call GET /v1/sms/messages/1/release
expect_error 405 - "method not allowed" "release: GET"
call POST /v1/sms/cdrs
expect_error 405 - "method not allowed" "cdrs: POST"
call GET /v1/sms/centre/x
expect_error 404 - "no such path: /v1/sms/centre/x" "centre: a sub-path"
echo "ok: bad requests"

# ---- submissions ---------------------------------------------------------------------------
PA=$(free_sip_port) PB=$(free_sip_port)
printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$AM" "$AM" "$PW" >"$T/reg-a.csv"
sipp_client reg-a reg_digest.xml "$PA" 1 -inf "$T/reg-a.csv" -key expires 3600 -key extra "$NO_CELL"

# send NAME RECIPIENT_MSISDN TEXT: A submits; the centre answers 202.
send() {
  sipp_client "$1" sms_api_message_uac.xml "$PA" 1 -key caller "$AM" -key ruri "sip:$2@$DOMAIN" \
    -key text "$3" -key extra "$NO_CELL"
}
# newest RECIPIENT_MSISDN: the id of the newest message to it.
newest() { api_ok GET "/v1/sms/messages?msisdn=$1&limit=1000" | jq -r '.messages[-1].id'; }

TEXT_B="see you at the station $SECRET"
# SIPp ends the body's last line with CRLF: the message is those octets too.
SIZE_B=$((${#TEXT_B} + 2))
send to-b "$BM" "$TEXT_B"
WB=$(newest "$BM")
call GET "/v1/sms/messages/$WB"
expect_code 200 "the waiting message"
expect_eq "$(jget '[.state, .kind, .origin, .sender_msisdn, .recipient_msisdn, .segments, .size] | join(" ")')" \
  "waiting message sip $AM $BM 1 $SIZE_B" "a message to a subscriber not registered waits"
expect_eq "$(jget '.report_requested, .last_error' | tr '\n' ' ')" "false null " "the waiting message: report, error"
if [ "$(jget .submitted_at)" = null ] || ! [ "$(jget .expires_at)" \> "$(jget .submitted_at)" ]; then
  fail "the waiting message: submitted_at and expires_at: $BODY"
fi
expect_eq "$(jq -r 'keys | join(",")' <<<"$BODY")" \
  "attempts,expires_at,id,kind,last_error,origin,recipient_msisdn,report_requested,segments,sender_msisdn,size,state,submitted_at" \
  "a message's members (no text)"

# A content rule holds what names the review phrase.
call PUT /v1/sms/rules/sms-api-review "${JSON[@]}" \
  -d '{"priority":150,"words":["quarantine test"],"action":"hold","reason":"held for the API test"}'
expect_code 201 "the hold rule"
for i in 1 2 3 4; do
  send "held-$i" "$CM" "quarantine test $i $SECRET"
done
mapfile -t H < <(api_ok GET "/v1/sms/messages?msisdn=%2B$CM" | jq -r '.messages[].id')
expect_eq "${#H[@]}" 4 "four held messages to C"
call GET "/v1/sms/messages?msisdn=$CM"
expect_eq "$(jget '[.messages[].state] | unique | join(",")')" held "they are held"
expect_eq "$(jget '.messages[0].size')" "$(printf 'quarantine test 1 %s\r\n' "$SECRET" | wc -c)" "held: the size"
call GET /v1/sms/messages
expect_eq "$(jget '[.messages[].id] | join(" ")')" "$WB ${H[*]}" "every message, oldest first"
call GET "/v1/sms/messages?limit=2"
expect_eq "$(jget '[.messages[].id] | join(" ")') $(jget .next_after)" "$WB ${H[0]} ${H[0]}" "page 1 of 2"
call GET "/v1/sms/messages?limit=2&after=${H[0]}"
expect_eq "$(jget '[.messages[].id] | join(" ")') $(jget .next_after)" "${H[1]} ${H[2]} ${H[2]}" "page 2"
call GET "/v1/sms/messages?limit=2&after=${H[2]}"
expect_eq "$(jget '[.messages[].id] | join(" ")') $(jget .next_after)" "${H[3]} null" "the last page"
call GET /v1/sms/centre
expect_eq "$(jget '[.submitted, .waiting, .held] | join(" ")')" "5 5 4" "centre: submitted, waiting, held"
expect_eq "$(metric koryo_sms_held) $(metric koryo_sms_waiting) $(metric koryo_sms_submitted_total)" \
  "4 5 5" "metrics: held, waiting, submitted"
echo "ok: waiting and held messages listed"

# ---- release and delete ----------------------------------------------------------------------
call POST "/v1/sms/messages/$WB/release"
expect_error 404 - "no such held message" "release of a waiting message"
call DELETE "/v1/sms/messages/$WB"
expect_error 404 - "no such held message" "delete of a waiting message"
call POST "/v1/sms/messages/${H[0]}/release" -H 'X-Koryo-Actor: bad actor'
expect_error 400 X-Koryo-Actor "must be 1 to 64 of letters, digits, '.', '_', '@', '-'" "release: bad actor"
call GET "/v1/sms/messages/${H[0]}"
expect_eq "$(jget .state)" held "a refused release changes nothing"

call POST "/v1/sms/messages/${H[0]}/release" -H 'X-Koryo-Actor: ops.kim'
expect_code 204 "release"
call GET "/v1/sms/messages/${H[0]}"
expect_eq "$(jget .state)" waiting "released: waiting for C, who is not registered"
call POST "/v1/sms/messages/${H[0]}/release"
expect_error 404 - "no such held message" "a second release"
grep -q "message ${H[0]} released by api:ops.kim" "$T/koryod.log" || fail "the release's actor is not logged"

call DELETE "/v1/sms/messages/${H[1]}"
expect_code 204 "delete"
call GET "/v1/sms/messages/${H[1]}"
expect_error 404 - "no such message" "a deleted message is gone"
call DELETE "/v1/sms/messages/${H[1]}"
expect_error 404 - "no such held message" "a second delete"

out=$("$KORYO" sms release "${H[2]}") || fail "koryo sms release: exit $?"
expect_eq "$out" "message ${H[2]} released" "koryo sms release"
out=$("$KORYO" sms delete "${H[3]}") || fail "koryo sms delete: exit $?"
expect_eq "$out" "message ${H[3]} deleted" "koryo sms delete"
rc=0
"$KORYO" sms delete "${H[3]}" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "$rc:$(cat "$T/err")" "1:koryo: no such held message" "koryo sms delete, again"
rc=0
"$KORYO" sms release "$WB" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "$rc:$(cat "$T/err")" "1:koryo: no such held message" "koryo sms release of a waiting one"

call GET "/v1/sms/messages?msisdn=$CM"
expect_eq "$(jget '[.messages[] | "\(.id):\(.state)"] | join(" ")')" "${H[0]}:waiting ${H[2]}:waiting" \
  "C's messages after two releases and two deletes"
call GET /v1/sms/centre
expect_eq "$(jget '[.waiting, .held] | join(" ")')" "3 0" "centre after release and delete"
call GET /v1/sms/cdrs
expect_eq "$(jget '[.cdrs[] | "\(.id):\(.outcome)"] | join(" ")')" "${H[1]}:deleted ${H[3]}:deleted" \
  "a CDR per deleted message"
expect_eq "$(jget '.cdrs[0] | [.kind, .origin, .sender_msisdn, .sender_imsi, .recipient_msisdn, .recipient_imsi, .segments, .channel] | map(tostring) | join(" ")')" \
  "message sip $AM $A $CM $C 1 null" "the deleted message's CDR"
echo "ok: release and delete"

# ---- the CLI's view -----------------------------------------------------------------------------
out=$("$KORYO" sms messages) || fail "koryo sms messages: exit $?"
expect_eq "$(head -1 <<<"$out" | tr -s ' ')" \
  "ID STATE KIND SENDER RECIPIENT SEGMENTS SIZE SUBMITTED EXPIRES ATTEMPTS LAST_ERROR" \
  "koryo sms messages: the header"
expect_eq "$(awk 'NR > 1 {print $1 ":" $2 ":" $4 ":" $5}' <<<"$out" | tr '\n' ' ')" \
  "$WB:waiting:$AM:$BM ${H[0]}:waiting:$AM:$CM ${H[2]}:waiting:$AM:$CM " "koryo sms messages: the rows"
"$KORYO" sms messages --msisdn "$BM" --limit 1 >"$T/out" 2>"$T/err" || fail "koryo sms messages --msisdn"
expect_eq "$(awk 'NR > 1 {print $1}' "$T/out")" "$WB" "koryo sms messages --msisdn"
[ ! -s "$T/err" ] || fail "koryo sms messages --msisdn: one page, no next: $(cat "$T/err")"
"$KORYO" sms messages --limit 1 >"$T/out" 2>"$T/err" || fail "koryo sms messages --limit 1"
expect_eq "$(cat "$T/err")" "(more: koryo sms messages --after $WB, or --all)" "koryo sms messages: the next page"
out=$("$KORYO" sms messages --all --limit 1 --json) || fail "koryo sms messages --all --json"
expect_eq "$(jq -r '[.messages[].id] | join(" ")' <<<"$out") $(jq -r .next_after <<<"$out")" \
  "$WB ${H[0]} ${H[2]} null" "koryo sms messages --all --json"
out=$("$KORYO" sms message "$WB") || fail "koryo sms message: exit $?"
expect_eq "$(awk '$1 == "state" || $1 == "recipient_msisdn" || $1 == "size" {print $2}' <<<"$out" | tr '\n' ' ')" \
  "waiting $BM $SIZE_B " "koryo sms message"
out=$("$KORYO" sms message "$WB" --json) || fail "koryo sms message --json: exit $?"
expect_eq "$(jq -r .id <<<"$out")" "$WB" "koryo sms message --json"
rc=0
"$KORYO" sms message "${H[1]}" >"$T/out" 2>"$T/err" || rc=$?
expect_eq "$rc:$(cat "$T/err")" "1:koryo: no such message" "koryo sms message of a deleted one"
out=$("$KORYO" sms centre) || fail "koryo sms centre: exit $?"
expect_eq "$(awk '$1 == "submitted" || $1 == "waiting" || $1 == "held" {print $1 "=" $2}' <<<"$out" | tr '\n' ' ')" \
  "submitted=5 waiting=3 held=0 " "koryo sms centre"
echo "ok: koryo sms messages, message, release, delete, centre"

# ---- delivery when the recipient registers -------------------------------------------------------
# koryod sends to the address a phone registered from. B registers from PB
# (SIPp, which then exits) and the centre sends at once; B's phone, SIPp
# again, binds PB right after and gets the MESSAGE by its retransmission
# (RFC 3261 timer E: 0.5 s, 1 s, 2 s... until 32 s).
printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$BM" "$BM" "$PW" >"$T/reg-b.csv"
sipp_client reg-b reg_digest.xml "$PB" 1 -inf "$T/reg-b.csv" -key expires 3600 -key extra "$NO_CELL"
sipp_server deliver-b sms_api_message_uas.xml "$PB" 1
sipp_server_wait deliver-b
grep -qF "body $TEXT_B" "$T/sipp-deliver-b.log" || fail "B did not get the text: $(cat "$T/sipp-deliver-b.log")"
grep -q "from .*$AM" "$T/sipp-deliver-b.log" || fail "the delivery does not name A: $(cat "$T/sipp-deliver-b.log")"
for _ in $(seq 1 50); do
  [ "$(api_ok GET /v1/sms/cdrs | jq '.cdrs | length')" = 3 ] && break
  sleep 0.1
done
call GET /v1/sms/cdrs
expect_eq "$(jget '.cdrs | length')" 3 "a CDR for the delivered message"
r=$(jq -c '.cdrs[2]' <<<"$BODY")
expect_eq "$(jq -r '[.id, .kind, .origin, .sender_msisdn, .sender_imsi, .recipient_msisdn, .recipient_imsi, .segments, .size, .outcome, .channel] | map(tostring) | join(" ")' <<<"$r")" \
  "$WB message sip $AM $A $BM $B 1 $SIZE_B delivered sip" "the delivered message's CDR"
[ "$(jq -r .attempts <<<"$r")" -ge 1 ] || fail "the CDR counts no attempt: $r"
[ "$(jq -r .final_at <<<"$r")" \> "$(jq -r .submitted_at <<<"$r")" ] || fail "final_at after submitted_at: $r"
[[ "$(jq -r .final_at <<<"$r")" =~ ^20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z$ ]] || fail "final_at with milliseconds: $r"
call GET "/v1/sms/messages/$WB"
expect_error 404 - "no such message" "a delivered message is no longer stored"
call GET /v1/sms/centre
expect_eq "$(jget '[.delivered, .waiting, .in_flight] | join(" ")')" "1 2 0" "centre after the delivery"
[ "$(jget .attempts)" -ge 1 ] || fail "centre: no attempt counted: $BODY"
expect_eq "$(metric koryo_sms_delivered_total) $(metric koryo_sms_waiting)" "1 2" "metrics after the delivery"
echo "ok: delivered when the recipient registered"

# ---- CDRs: paging and formats --------------------------------------------------------------------
call GET /v1/sms/cdrs
SEQS=$(jget '[.cdrs[].seq] | join(" ")')
read -r S1 S2 S3 <<<"$SEQS"
call GET "/v1/sms/cdrs?limit=2"
expect_eq "$(jget '[.cdrs[].seq] | join(" ")') $(jget .next_after)" "$S1 $S2 $S2" "cdrs: page 1"
call GET "/v1/sms/cdrs?limit=2&after=$S2"
expect_eq "$(jget '[.cdrs[].seq] | join(" ")') $(jget .next_after)" "$S3 null" "cdrs: page 2"
hdr=$(curl -sS -D - -o "$T/page.csv" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
  "$KORYO_API/v1/sms/cdrs?format=csv&limit=2" | tr -d '\r')
expect_contains "$hdr" "Content-Type: text/csv; charset=utf-8; header=present" "CSV: the type"
expect_contains "$hdr" "X-Koryo-Next-After: $S2" "CSV: the next page's cursor"
expect_eq "$(head -1 "$T/page.csv" | tr -d '\r')" \
  "seq,id,kind,origin,sender_msisdn,sender_imsi,sender_cell,recipient_msisdn,recipient_imsi,recipient_cell,segments,size,submitted_at,final_at,attempts,outcome,channel" \
  "CSV: the header line"
expect_eq "$(wc -l <"$T/page.csv")" 3 "CSV: the header and two records"
grep -q $'\r$' "$T/page.csv" || fail "CSV: lines end with CRLF"
curl -sS -o "$T/all.csv" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" "$KORYO_API/v1/sms/cdrs?format=csv"
expect_eq "$(awk -F, 'NR == 4 {print $2, $5, $8, $11, $12, $16, $17}' "$T/all.csv" | tr -d '\r')" \
  "$WB $AM $BM 1 $SIZE_B delivered sip" "CSV: the delivered record"
hdr=$(curl -sS -D - -o "$T/page.jsonl" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
  "$KORYO_API/v1/sms/cdrs?format=jsonl&after=$S1" | tr -d '\r')
expect_contains "$hdr" "Content-Type: application/jsonl" "JSON lines: the type"
case "$hdr" in *X-Koryo-Next-After*) fail "JSON lines: a cursor on the last page" ;; esac
expect_eq "$(jq -r .seq "$T/page.jsonl" | tr '\n' ' ')" "$S2 $S3 " "JSON lines: one record a line"

"$KORYO" sms cdrs --csv --all --limit 1 >"$T/cli.csv" || fail "koryo sms cdrs --csv --all"
cmp -s "$T/cli.csv" "$T/all.csv" || fail "koryo sms cdrs --csv --all differs from one page of all"
"$KORYO" sms cdrs --limit 2 >"$T/out" 2>"$T/err" || fail "koryo sms cdrs --limit 2"
expect_eq "$(awk '{print $1}' "$T/out" | tr '\n' ' ')" "SEQ $S1 $S2 " "koryo sms cdrs: the rows"
expect_eq "$(cat "$T/err")" "(more: koryo sms cdrs --after $S2, or --all)" "koryo sms cdrs: the next page"
out=$("$KORYO" sms cdrs --after "$S2")
expect_eq "$(awk 'NR == 2 {print $1, $2, $3, $4, $5, $6, $7, $11, $12}' <<<"$out")" \
  "$S3 $WB message $AM $BM 1 $SIZE_B delivered sip" "koryo sms cdrs: the delivered row"
out=$("$KORYO" sms cdrs --all --json --limit 1) || fail "koryo sms cdrs --all --json"
expect_eq "$(jq -r '[.cdrs[].seq] | join(" ")' <<<"$out") $(jq -r .next_after <<<"$out")" "$SEQS null" \
  "koryo sms cdrs --all --json"
out=$("$KORYO" sms cdrs --all --jsonl --limit 2) || fail "koryo sms cdrs --all --jsonl"
expect_eq "$(jq -r .seq <<<"$out" | tr '\n' ' ')" "$S1 $S2 $S3 " "koryo sms cdrs --all --jsonl"
echo "ok: CDRs in JSON, JSON lines and CSV, paged"

# ---- the text is never shown ---------------------------------------------------------------------
for f in "$T"/api-output "$T"/out "$T"/cli.csv "$T"/all.csv "$T"/page.*; do
  if grep -q "$SECRET" "$f"; then fail "a message's text in $f"; fi
done
for cmd in "sms messages --all" "sms messages --all --json" "sms message ${H[0]}" "sms cdrs --all" \
  "sms cdrs --all --json" "sms centre --json"; do
  # shellcheck disable=SC2086 # the words are the command
  if "$KORYO" $cmd | grep -q "$SECRET"; then fail "koryo $cmd shows a message's text"; fi
done
echo "ok: no text in the API's or the CLI's output"

# ---- a restart keeps what waits ------------------------------------------------------------------
koryod_stop
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
call GET /v1/sms/messages
expect_eq "$(jget '[.messages[] | "\(.id):\(.state)"] | join(" ")')" "${H[0]}:waiting ${H[2]}:waiting" \
  "the waiting messages after a restart"
call GET /v1/sms/cdrs
expect_eq "$(jget '[.cdrs[].seq] | join(" ")')" "$SEQS" "the CDRs after a restart"
expect_eq "$(metric koryo_sms_waiting)" 2 "koryo_sms_waiting after a restart"
alive "the restart"
echo "ok: a restart"
