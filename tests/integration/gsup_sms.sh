#!/usr/bin/env bash
# SMS over GSUP (docs/gsup.md, "SMS over GSUP") against a real koryod with the
# Koryolink demo profile and its SMS centre, inside a network namespace with
# only loopback. tests/gsup/gsup_test_client.c --sms plays two osmo-msc (with
# `sms-over-gsup`) through Osmocom's libosmo-gsup-client:
#   - MO-Forward-SM from A to B's MSISDN answered with a result; B, attached
#     in CS at the second MSC, gets MT-Forward-SM whose SM-RP-UI is an
#     SMS-DELIVER from A's number with the same text; answered (with another
#     RP-MR, as osmo-msc does), it is not sent again;
#   - Korean text in UCS-2, and a concatenated message (two SUBMIT segments in,
#     two DELIVER segments out with SM-RP-MMS on the first);
#   - a message to C, not attached, kept until C attaches (the phone's
#     resubmission meanwhile, TP-RD set, answered but not stored twice); C's
#     "memory full" keeps it until C's ReadyForSM, then it arrives again;
#   - bad MO-Forward-SM (no SM-RP-UI, garbage and truncated TPDUs, an unknown
#     recipient) refused with an SM-RP-Cause, koryod still serving.
# Then the API's CDRs: every message delivered once, through the channel
# "gsup", and nothing left waiting or in flight.
set -euo pipefail
source "$KORYO_SRC/tests/integration/netns.sh"
need_tools jq curl
in_loopback_netns koryo-gsupsms "$0" "$@"
source "$KORYO_SRC/tests/integration/lib.sh"
: "${GSUP_TEST_CLIENT:?GSUP_TEST_CLIENT must name the gsup_test_client binary}"
[ -z "$(ip -4 route show | grep -v '^local\|127.0.0.0' || true)" ] ||
  fail "the namespace has routes: $(ip -4 route show)"

A_IMSI=467050000000001
B_IMSI=467050000000002
C_IMSI=467050000000003

GSUP_PORT=$(free_port)
koryod_config "gsup.listen = 127.0.0.1:$GSUP_PORT"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

call GET /v1/sms/centre
expect_code 200 "the SMS centre is on"

rc=0
timeout 70 "$GSUP_TEST_CLIENT" --sms 127.0.0.1 "$GSUP_PORT" MSC-SMS || rc=$?
kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; fail "koryod died during the run"; }
if [ $rc -ne 0 ]; then
  tail -n 80 "$T/koryod.log" >&2
  fail "gsup_test_client --sms: exit status $rc"
fi

# The CDRs are written when a message reaches its final state: wait for them.
# From A over GSUP: to B "Hello B", the Korean text, the concatenated one
# (one message of 2 segments) and "still here?"; to C one, after two attempts.
cdrs() {
  call GET "/v1/sms/cdrs?limit=100"
  expect_code 200 "GET /v1/sms/cdrs"
}
count() { # JQ-FILTER: CDRs selected
  jq "[.cdrs[] | select(.origin == \"gsup\" and .kind == \"message\" and
       (.sender_imsi | tostring) == \"$A_IMSI\") | select($1)] | length" <<<"$BODY"
}
for _ in $(seq 1 50); do
  cdrs
  [ "$(count "(.recipient_imsi | tostring) == \"$C_IMSI\"")" -ge 1 ] && break
  sleep 0.1
done
expect_eq "$(count "(.recipient_imsi | tostring) == \"$B_IMSI\"")" 4 \
  "messages from A to B with a CDR"
expect_eq "$(count "(.recipient_imsi | tostring) == \"$B_IMSI\" and .outcome == \"delivered\" and .channel == \"gsup\"")" 4 \
  "messages from A to B delivered through the channel gsup"
expect_eq "$(count "(.recipient_imsi | tostring) == \"$B_IMSI\" and .segments == 2")" 1 \
  "the concatenated message is one CDR of 2 segments"
expect_eq "$(count "(.recipient_imsi | tostring) == \"$C_IMSI\"")" 1 \
  "messages from A to C with a CDR (the resubmission is not another)"
expect_eq "$(count "(.recipient_imsi | tostring) == \"$C_IMSI\" and .outcome == \"delivered\" and .channel == \"gsup\" and .attempts == 2")" 1 \
  "the message to C delivered at the second attempt (after memory full, ReadyForSM)"
echo "ok   CDRs: every message delivered once, through gsup"

call GET /v1/sms/centre
expect_code 200 "GET /v1/sms/centre"
expect_eq "$(jget .waiting)" 0 "messages still waiting"
expect_eq "$(jget .in_flight)" 0 "attempts still in flight"
echo "ok   nothing left waiting or in flight"

koryod_stop
echo "gsup_sms: all passed"
