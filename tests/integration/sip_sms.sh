#!/usr/bin/env bash
# The SMS centre through SIP (docs/sms-centre.md), with SIPp phones and the
# 3GPP phone of tests/sip/sms_phone.c, inside a network namespace with only
# loopback, against the demo profile:
#   - text/plain from a softphone to a 3GPP phone (registered with
#     +g.3gpp.smsip): a Korean text of three segments arrives as three
#     SMS-DELIVERs that reassemble to the text;
#   - application/vnd.3gpp.sms from a 3GPP phone (three RP-DATA segments of a
#     Korean text): each answered 202 and RP-ACK; the softphone gets the
#     whole text as one text/plain MESSAGE;
#   - a message to a subscriber who is not registered is kept (202), and
#     arrives when it registers; the sender asked for a delivery report
#     (Disposition-Notification) and gets it;
#   - a 3GPP sender with TP-SRR gets an SMS-STATUS-REPORT naming its TP-MR;
#   - a content rule refuses a text: 403 with its reason and rule (text),
#     RP-ERROR cause 21 (3GPP); nothing is delivered; a text that is not
#     UTF-8 gets 400;
#   - each accepted message charged once, per segment, across a kill -9;
#   - kept messages survive a kill -9 and are delivered after it; one whose
#     validity ends expires (clock.offset), and its CDR says so;
#   - a CDR per message: parties, cells, segments, size, outcome, channel.
# Env: KORYOD, KORYO, KORYO_SRC, SIP_UA, SMS_PHONE.
set -euo pipefail
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"

sip_koryod_start
msisdn() { echo "8501912${1: -7}"; }
PW=pw-koryo-sms
A=467050000000001 B=467050000000002 C=467050000000003 D=467050000000004 E=467050000000005
F=467050000000006
AM=$(msisdn $A) BM=$(msisdn $B) CM=$(msisdn $C) DM=$(msisdn $D) EM=$(msisdn $E) FM=$(msisdn $F)
for s in $A $B $C $D $E $F; do set_password $s "$PW"; done
CELL_A=4670500040000A01
PANI="P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=$CELL_A"
PA=$(free_sip_port) PB=$(free_sip_port) PC=$(free_sip_port) PD=$(free_sip_port)
PE=$(free_sip_port) PF=$(free_sip_port)

creds() { # NAME MSISDN: the CSV reg_digest.xml and sms_reg_recv.xml read
  printf 'SEQUENTIAL\n%s;[authentication username=%s password=%s]\n' "$2" "$2" "$PW" >"$T/$1.csv"
}
reg() { # NAME MSISDN PORT: a softphone registers (SIPp, MD5)
  creds "$1" "$2"
  sipp_client "$1" reg_digest.xml "$3" 1 -inf "$T/$1.csv" -key expires 3600 -key extra "$PANI"
}
reg3gpp() { # NAME MSISDN PORT: a 3GPP phone registers with the SMS-over-IP feature tag
  ua "$1" --user "$2" --password "$PW" --local-port "$3" \
    --contact "<sip:$2@127.0.0.1:$3>;+g.3gpp.smsip"
  expect_eq "$UA_STATUS" 200 "$1: registration of a 3GPP phone"
}
status_of() { # NAME: the first final status SIPp received in run NAME
  awk '/message received/ {r = 1; next} r && /^SIP\/2\.0 [2-6][0-9][0-9]/ && $2 >= 200 {print $2; exit}
       /message sent/ {r = 0}' "$T/sipp-$1.msg"
}
text() { # NAME PORT CALLER RECIPIENT TEXT [extra header]: a text/plain MESSAGE
  sipp_client "$1" sms_text_uac.xml "$2" 1 -key caller "$3" -key ruri "sip:+$4@$DOMAIN" \
    -key text "$5" -key extra "${6:-$PANI}"
}
phone() { # NAME PORT MSISDN COUNT: a 3GPP phone listens (background) on PORT
  timeout 60 "$SMS_PHONE" listen --port "$2" --server "127.0.0.1:$SIP_PORT" --user "$3" \
    --count "$4" --timeout 40000 --domain "$DOMAIN" >"$T/phone-$1" 2>&1 &
  PHONE_PID=$!
  sleep 0.3
}
phone_wait() { # NAME
  wait "$PHONE_PID" || { cat "$T/phone-$1" >&2; fail "phone $1 did not get its messages"; }
}
cdrs() { api_ok GET "/v1/sms/cdrs?limit=1000" | jq -c '.cdrs'; }
waiting() { api_ok GET "/v1/sms/messages?limit=1000" | jq -c '.messages'; }
wait_empty() { # WHAT: the centre's queue empties (its last writes are group-committed)
  for _ in $(seq 1 50); do [ "$(waiting)" = "[]" ] && return 0; sleep 0.1; done
  grep -iE "sms|message" "$T/koryod.log" | tail -20 >&2
  fail "$1: still waiting: $(waiting)"
}

# 164 characters with Hangul: UCS-2, 67 characters a segment, so three segments.
KOREAN="$(for i in $(seq -w 1 18); do printf '평양 환율 %s ' "$i"; done)평양"

reg reg-a "$AM" "$PA"
reg3gpp reg-b "$BM" "$PB"

# ---- text/plain to a 3GPP phone: three SMS-DELIVERs ---------------------------------------
phone tb "$PB" "$BM" 1
text t-ab "$PA" "$AM" "$BM" "$KOREAN"
expect_eq "$(status_of t-ab)" 202 "text/plain MESSAGE accepted"
phone_wait tb
expect_eq "$(cat "$T/phone-tb")" "deliver from=+$AM srr=0 segments=3 text=$KOREAN" \
  "the 3GPP phone reassembles the three segments"
echo "ok: text/plain -> application/vnd.3gpp.sms, three segments"

# ---- 3GPP segments to a softphone: one text/plain MESSAGE ------------------------------------
n=$("$SMS_PHONE" submit --da "+$AM" --text "$KOREAN" --out "$T/k" --mr 10 --ref 77)
expect_eq "$n" 3 "the phone splits the Korean text into three segments"
sipp_server uas-a sms_text_uas.xml "$PA" 1
for i in 1 2 3; do
  sipp_client "g-ba$i" sms_3gpp_uac.xml "$PB" 1 -key caller "$BM" -key ruri "sip:+8500@$DOMAIN" \
    -key bodyfile "$T/k.$i" -oocsf "$SCEN/sms_ooc.xml"
  expect_eq "$("$SMS_PHONE" trace "$T/sipp-g-ba$i.msg")" "rp-ack mr=$((9 + i))" "segment $i: RP-ACK"
done
sipp_server_wait uas-a
expect_eq "$(sed -n 's/^sms from \([^ ]*\) body: \(.*\)$/\1 \2/p' "$T/sipp-uas-a.log")" \
  "+$BM $KOREAN" "the softphone gets the whole text, from B"
echo "ok: application/vnd.3gpp.sms -> text/plain, three segments reassembled"

c=$(cdrs)
expect_eq "$(jq -c '[.[] | select(.sender_msisdn == "'"$AM"'") | [.recipient_msisdn, .segments, .outcome, .channel, .origin, .sender_cell]]' <<<"$c")" \
  "[[\"$BM\",3,\"delivered\",\"sip\",\"sip\",\"$CELL_A\"]]" "CDR of A's message"
expect_eq "$(jq '[.[] | select(.sender_msisdn == "'"$BM"'")][0] | [.segments, .size, .origin, .recipient_cell] | @csv' -r <<<"$c")" \
  "3,$(printf %s "$KOREAN" | wc -c),\"sip-3gpp\",\"$CELL_A\"" "CDR of B's message: segments, octets, the recipient's cell"

# ---- kept for an absent subscriber; delivery report -----------------------------------------
text t-ac "$PA" "$AM" "$CM" "kept for C" "Disposition-Notification: positive-delivery"
expect_eq "$(status_of t-ac)" 202 "a message to an unregistered subscriber is accepted"
w=$(waiting)
expect_eq "$(jq -c '[.[] | [.recipient_msisdn, .state, .report_requested]]' <<<"$w")" "[[\"$CM\",\"waiting\",true]]" \
  "the message waits for C"
grep -q "kept for C" <<<"$w" && fail "the API shows a message's text"
sipp_server uas-a2 sms_text_uas.xml "$PA" 1
creds reg-c "$CM"
sipp_client reg-c sms_reg_wait.xml "$PC" 1 -inf "$T/reg-c.csv" -key expires 3600 -oocsf "$SCEN/sms_ooc.xml"
expect_eq "$(sed -n 's/^sms from \([^ ]*\) body: \(.*\)$/\1 \2/p' "$T/sipp-reg-c.log")" \
  "+$AM kept for C" "C gets the kept message when it registers"
sipp_server_wait uas-a2
grep -q "^sms from [+0-9]* body: Your message to +$CM was delivered" "$T/sipp-uas-a2.log" ||
  fail "A got no delivery report: $(cat "$T/sipp-uas-a2.log")"
wait_empty "after C's delivery and A's report"
echo "ok: kept until the recipient registers; the delivery report"

# ---- SMS-STATUS-REPORT to a 3GPP sender ---------------------------------------------------------
"$SMS_PHONE" submit --da "+$DM" --text "report please" --out "$T/r" --mr 42 --srr >/dev/null
sipp_client g-bd sms_3gpp_uac.xml "$PB" 1 -key caller "$BM" -key ruri "sip:+8500@$DOMAIN" \
  -key bodyfile "$T/r.1" -oocsf "$SCEN/sms_ooc.xml"
expect_eq "$("$SMS_PHONE" trace "$T/sipp-g-bd.msg")" "rp-ack mr=42" "RP-ACK for the SUBMIT"
phone rb "$PB" "$BM" 1
creds reg-d "$DM"
sipp_client reg-d sms_reg_wait.xml "$PD" 1 -inf "$T/reg-d.csv" -key expires 3600 -oocsf "$SCEN/sms_ooc.xml"
phone_wait rb
expect_eq "$(cat "$T/phone-rb")" "report mr=42 st=00 ra=+$DM" "the status report names TP-MR 42"
echo "ok: SMS-STATUS-REPORT"

# ---- refused by a content rule -----------------------------------------------------------------
call PUT /v1/sms/rules/no-lottery -H 'Content-Type: application/json' \
  -d '{"priority":7,"words":["lottery winner"],"action":"refuse","reason":"Lottery offers are not allowed"}'
expect_code 201 "a refusing rule"
text t-rule "$PA" "$AM" "$BM" "you are a lottery winner"
expect_eq "$(status_of t-rule)" 403 "refused by the rule"
grep -q '^Warning: 399 koryo "Lottery offers are not allowed"' "$T/sipp-t-rule.msg" || fail "no Warning with the reason"
grep -q '^Reason: SIP;cause=403;text="no-lottery"' "$T/sipp-t-rule.msg" || fail "no Reason naming the rule"
"$SMS_PHONE" submit --da "+$AM" --text "lottery winner here" --out "$T/l" --mr 5 >/dev/null
sipp_client g-rule sms_3gpp_uac.xml "$PB" 1 -key caller "$BM" -key ruri "sip:+8500@$DOMAIN" \
  -key bodyfile "$T/l.1" -oocsf "$SCEN/sms_ooc.xml"
expect_eq "$("$SMS_PHONE" trace "$T/sipp-g-rule.msg")" "rp-error mr=5 cause=21" "RP-ERROR SM rejected"
wait_empty "a refused message is not kept"
text t-utf8 "$PA" "$AM" "$BM" $'bad \xff\xfe text'
expect_eq "$(status_of t-utf8)" 400 "a text that is not UTF-8"
echo "ok: refused by a content rule"

# ---- kill -9, then delivery; expiry --------------------------------------------------------------
text t-ae "$PA" "$AM" "$EM" "survives a crash"
expect_eq "$(status_of t-ae)" 202 "accepted for E"
text t-af "$PA" "$AM" "$FM" "expires unread" "Disposition-Notification: positive-delivery"
expect_eq "$(status_of t-af)" 202 "accepted for F"
kill -9 "$KORYOD_PID"
wait "$KORYOD_PID" 2>/dev/null || true
KORYOD_PID=""
koryod_start
expect_eq "$(waiting | jq -c '[.[] | .recipient_msisdn]')" "[\"$EM\",\"$FM\"]" "both wait after kill -9"
# Money: one ledger row per accepted message, its segments as the quantity,
# however the kill -9 fell between a charge and its mark (a charge whose
# mark was lost is asked again, under the same operation id).
l=$(api_ok GET "/v1/charging/accounts/$A/ledger?limit=1000")
expect_eq "$(jq -c '[.rows[] | select(.kind == "sms") | .quantity]' <<<"$l")" "[3,1,1,1]" \
  "A charged once per accepted message, per segment (refused ones not at all)"
expect_eq "$(api_ok GET /v1/charging/audit | jq -r .differ)" 0 "the ledger equals the balances"
creds reg-e "$EM"
sipp_client reg-e sms_reg_wait.xml "$PE" 1 -inf "$T/reg-e.csv" -key expires 3600 -oocsf "$SCEN/sms_ooc.xml"
grep -q "body: survives a crash$" "$T/sipp-reg-e.log" || fail "E did not get the kept message"
koryod_stop
# Three days later (the default validity is two): A's registration has
# lapsed too; its report waits for it.
echo "clock.offset = $((3 * 86400))" >>"$T/koryod.conf"
koryod_start
creds reg-a3 "$AM"
sipp_client reg-a3 sms_reg_wait.xml "$PA" 1 -inf "$T/reg-a3.csv" -key expires 3600 -oocsf "$SCEN/sms_ooc.xml"
grep -q "Your message to +$FM expired undelivered" "$T/sipp-reg-a3.log" || fail "no expiry report"
c=$(cdrs)
expect_eq "$(jq -r '[.[] | select(.recipient_msisdn == "'"$FM"'")][0].outcome' <<<"$c")" expired "F's CDR"
expect_eq "$(jq -r '[.[] | select(.recipient_msisdn == "'"$EM"'")][0].outcome' <<<"$c")" delivered "E's CDR"
wait_empty "after the expiry"
echo "ok: kept across kill -9; expired after its validity"

alive "the SMS tests"
grep -E "ERROR|sanitizer" "$T/koryod.log" && fail "koryod logged errors"
echo "ok: all"
