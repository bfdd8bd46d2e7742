#!/usr/bin/env bash
# GSUP (docs/gsup.md) against a real koryod with the Koryolink demo profile,
# driven by tests/gsup/gsup_test_client.c (Osmocom's libosmo-gsup-client):
# SendAuthInfo with every vector recomputed, resync, UpdateLocation CS/PS with
# the APNs of each class, CancelLocation on a move, ISD error, PurgeMS,
# CheckIMEI, refusals with their exact causes, and changes made through the API
# pushed to the serving nodes. Then a second koryod with gsup.isd_timeout = 1
# for the ISD timeout (UpdateLocation error 0x26).
source "$KORYO_SRC/tests/integration/lib.sh"
: "${GSUP_TEST_CLIENT:?GSUP_TEST_CLIENT must name the gsup_test_client binary}"

GSUP_PORT=$(free_port)
koryod_config "gsup.listen = 127.0.0.1:$GSUP_PORT"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

rc=0
timeout 70 "$GSUP_TEST_CLIENT" 127.0.0.1 "$GSUP_PORT" MSC-TEST || rc=$?
kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; fail "koryod died during the run"; }
if [ $rc -ne 0 ]; then
  tail -n 50 "$T/koryod.log" >&2
  fail "gsup_test_client: exit status $rc"
fi

# The ISD timeout, on the same store with gsup.isd_timeout = 1.
koryod_stop
GSUP_PORT=$(free_port)
API_PORT=$(free_port)
koryod_config "gsup.listen = 127.0.0.1:$GSUP_PORT" "gsup.isd_timeout = 1"
koryod_start
timeout 20 "$GSUP_TEST_CLIENT" --isd-timeout 127.0.0.1 "$GSUP_PORT" MSC-TIMEOUT 467050000000010 ||
  { tail -n 30 "$T/koryod.log" >&2; fail "ISD timeout run failed"; }
kill -0 "$KORYOD_PID" 2>/dev/null || fail "koryod died during the ISD timeout run"
koryod_stop
echo "gsup_client: all passed"
