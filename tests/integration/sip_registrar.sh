#!/usr/bin/env bash
# shellcheck disable=SC2046 # $(sim_args IMSI) is meant to split into options
# koryod's SIP registrar (docs/sip-testing.md) with SIPp and tests/sip/sip_ua.c,
# inside a network namespace with only loopback, against the demo profile:
#   - the challenges: Digest AKAv1-MD5 for a SIM, MD5 and SHA-256 (same nonce,
#     qop="auth") for a subscriber with a password; 404 for no subscriber;
#   - digest registration with MD5 (SIPp) and SHA-256 (sip_ua); a wrong
#     password refused and counted;
#   - AKA registration of 20 SIMs with SIPp, each outcome predicted from its
#     challenge (SIPp 3.6.1 answers wrongly when RES has a zero octet); a SIM
#     whose SQN is ahead of the AuC's (sip_ua): auts=, a fresh challenge, 200;
#     a forged AUTS refused;
#   - bindings: several contacts, Expires: 0 and "*", Min-Expires, the longest
#     registration granted, expiry, Path kept, survival of a restart;
#   - P-Access-Network-Info: the cell shown by the API, only from an
#     authenticated REGISTER; cells of other networks counted;
#   - failed authentications limited per identity and per source (403 with
#     Retry-After), without touching other identities and sources;
#   - what /metrics counts for all of it.
# Env: KORYOD, KORYO, KORYO_SRC, SIP_UA.
set -euo pipefail
source "$KORYO_SRC/tests/integration/sip_lib.sh"
sip_netns "$0" "$@"

# A short Min-Expires: the expiry check at the end waits for it.
sip_koryod_start "sip.min_expires = 30"
START=$(date +%s)

# Subscribers of the demo profile used here (IMSI: MSISDN is 8501912 + the last 7 digits).
msisdn() { echo "8501912${1: -7}"; }
PW_PREFIX=pw-koryo-
for i in 11 12 13 14 15 16 19 60; do
  set_password "4670500000000$i" "$PW_PREFIX$i"
done
[ "$(api_ok GET /v1/subscribers/467050000000011 | jq -r .sip_password_set)" = true ] ||
  fail "sip_password_set not shown"
api_ok GET /v1/subscribers/467050000000011 | grep -q "$PW_PREFIX" && fail "the API shows the password"

# ---- challenges ------------------------------------------------------------------------------
ua_expect ch-aka 401 --user 467050000000001 $(sim_args 467050000000001) --max-auth 0
out=$(cat "$T/ua-ch-aka")
expect_eq "$(grep -c '^challenge ' <<<"$out")" 1 "challenges for a SIM"
expect_contains "$out" "challenge algorithm=AKAv1-MD5 realm=$DOMAIN qop=auth stale=false" "AKA challenge"
ua_expect ch-digest 401 --user "$(msisdn 467050000000011)" --password x --max-auth 0
out=$(cat "$T/ua-ch-digest")
expect_eq "$(grep -c '^challenge ' <<<"$out")" 2 "challenges for a softphone"
expect_contains "$out" "challenge algorithm=MD5 realm=$DOMAIN qop=auth stale=false" "MD5 challenge"
expect_contains "$out" "challenge algorithm=SHA-256 realm=$DOMAIN qop=auth stale=false" "SHA-256 challenge"
expect_eq "$(sed -n 's/^challenge .* nonce=//p' <<<"$out" | sort -u | wc -l)" 1 "one nonce for both"
ua_expect ch-unknown 404 --user 85019999999999 --password x --max-auth 0
ua_expect ch-suspended 403 --user 467050000000040 $(sim_args 467050000000040) --max-auth 0
ua_expect ch-terminated 403 --user 467050000000099 $(sim_args 467050000000099) --max-auth 0
# An AoR named by IMSI or MSISDN reaches the same subscriber.
ua_expect ch-imsi-aor 401 --user 467050000000011 --password x --max-auth 0
expect_eq "$(grep -c '^challenge algorithm=MD5 ' "$T/ua-ch-imsi-aor")" 1 "softphone challenged by IMSI AoR"
challenges=$(metric koryo_sip_auth_challenges_total)
[ "$challenges" -ge 3 ] || fail "koryo_sip_auth_challenges_total: $challenges"
expect_eq "$(metric koryo_sip_bindings)" 0 "bindings after challenges only"
echo "ok: challenges"

# ---- expiry: started now, checked at the end -------------------------------------------------
EXP_IMSI=467050000000015
ua_expect exp-423 423 --user "$(msisdn $EXP_IMSI)" --password "${PW_PREFIX}15" --alg MD5 --expires 1
MIN_EXPIRES=$(sed -n 's/^min-expires //p' "$T/ua-exp-423")
[ -n "$MIN_EXPIRES" ] && [ "$MIN_EXPIRES" -ge 2 ] && [ "$MIN_EXPIRES" -le 120 ] ||
  fail "423 without a usable Min-Expires: $(cat "$T/ua-exp-423")"
expect_eq "$(nbind $EXP_IMSI)" 0 "binding after 423"
ua_expect exp 200 --user "$(msisdn $EXP_IMSI)" --password "${PW_PREFIX}15" --expires "$MIN_EXPIRES"
EXP_AT=$(($(date +%s) + MIN_EXPIRES))
grep -Eq "^contact <sip:$(msisdn $EXP_IMSI)@127\.0\.0\.1:[0-9]+>;expires=($MIN_EXPIRES|$((MIN_EXPIRES - 1)))\$" \
  "$T/ua-exp" || fail "granted expiry: $(cat "$T/ua-exp")"
echo "ok: Min-Expires $MIN_EXPIRES"

# ---- digest --------------------------------------------------------------------------------
# SIPp (MD5) registers three softphones from one port.
P_DIGEST=$(free_sip_port)
{
  echo SEQUENTIAL
  for i in 11 12 13; do
    m=$(msisdn "4670500000000$i")
    echo "$m;[authentication username=$m password=$PW_PREFIX$i]"
  done
} >"$T/digest.csv"
regs_before=$(metric koryo_sip_registrations_total)
sipp_client reg-md5 reg_digest.xml "$P_DIGEST" 3 -inf "$T/digest.csv" -key expires 600 \
  -key extra "X-Koryo-Test: md5"
for i in 11 12 13; do
  r=$(regs "4670500000000$i")
  expect_eq "$(jq -r '.bindings | length' <<<"$r")" 1 "bindings of 4670500000000$i"
  expect_eq "$(jq -r '.bindings[0].contact' <<<"$r")" "sip:$(msisdn "4670500000000$i")@127.0.0.1:$P_DIGEST" \
    "contact of 4670500000000$i"
  expect_eq "$(jq -r '.bindings[0].source' <<<"$r")" "udp:127.0.0.1:$P_DIGEST" "source of 4670500000000$i"
  left=$(jq -r '.bindings[0].expires_in' <<<"$r")
  [ "$left" -ge 590 ] && [ "$left" -le 600 ] || fail "expires_in $left"
done
expect_eq "$(metric koryo_sip_registrations_total)" $((regs_before + 3)) "registrations counted"

# sip_ua answers SHA-256, then MD5, for the same subscriber from two ports.
ua_expect sha 200 --user "$(msisdn 467050000000014)" --password "${PW_PREFIX}14" --alg SHA-256
expect_contains "$(cat "$T/ua-sha")" "auth algorithm=SHA-256" "SHA-256 answered"
ua_expect md5 200 --user "$(msisdn 467050000000014)" --password "${PW_PREFIX}14" --alg MD5
expect_eq "$(grep -c '^contact ' "$T/ua-md5")" 2 "the 200 lists both contacts"
expect_eq "$(nbind 467050000000014)" 2 "two ports, two bindings"
# A wrong password: refused, counted, nothing bound.
fails_before=$(metric koryo_sip_auth_failures_total)
ua wrong --user "$(msisdn 467050000000016)" --password wrong-password --alg SHA-256
case "$UA_STATUS" in 401 | 403) ;; *) fail "wrong password answered '$UA_STATUS'" ;; esac
expect_eq "$(metric koryo_sip_auth_failures_total)" $((fails_before + 1)) "failure counted"
expect_eq "$(nbind 467050000000016)" 0 "binding after a wrong password"
# An answer computed over another user name is refused too.
ua wrong-user --user "$(msisdn 467050000000014)" --aor "$(msisdn 467050000000016)" --password "${PW_PREFIX}14"
case "$UA_STATUS" in 401 | 403) ;; *) fail "another user's credentials answered '$UA_STATUS'" ;; esac
expect_eq "$(nbind 467050000000016)" 0 "binding with another user's credentials"
echo "ok: digest MD5 and SHA-256"

# ---- AKA --------------------------------------------------------------------------------
# SIPp registers 20 SIMs; the scenario logs each challenge and its outcome.
# The outcome is right when it is 200 exactly for the challenges whose RES has
# no zero octet (sip_ua computes RES from the same keys).
{
  echo SEQUENTIAL
  for i in $(seq 121 140); do
    imsi=467050000000$i
    echo "$imsi;[authentication username=$imsi aka_K=k$imsi aka_OP=koryolink-op-467]"
  done
} >"$T/aka.csv"
P_AKA=$(free_sip_port)
fails_before=$(metric koryo_sip_auth_failures_total)
sipp_client reg-aka reg_aka.xml "$P_AKA" 20 -inf "$T/aka.csv"
n_ok=0 n_zero=0
for i in $(seq 121 140); do
  imsi=467050000000$i
  line=$(grep "^aka $imsi " "$T/sipp-reg-aka.log") || fail "no outcome logged for $imsi"
  nonce=$(sed 's/.* nonce=\([^ ]*\) .*/\1/' <<<"$line")
  sim=$("$SIP_UA" sim $(sim_args "$imsi") --amf 0000 --nonce "$nonce") || fail "$imsi: SIM refuses koryod's AUTN: $sim"
  if [ "${sim##*res_zero=}" = yes ]; then
    n_zero=$((n_zero + 1))
    expect_contains "$line" "result=refused" "$imsi (RES with a zero octet: SIPp answers wrongly)"
    expect_eq "$(nbind "$imsi")" 0 "$imsi bindings"
  else
    n_ok=$((n_ok + 1))
    expect_contains "$line" "result=200" "$imsi ($sim)"
    expect_eq "$(regs "$imsi" | jq -r '.bindings[0].contact')" "sip:$imsi@127.0.0.1:$P_AKA" "$imsi contact"
  fi
done
expect_eq "$(metric koryo_sip_auth_failures_total)" $((fails_before + n_zero)) "AKA failures counted"
echo "ok: AKA with SIPp ($n_ok registered, $n_zero challenges with a zero octet in RES refused as predicted)"

# A SIM whose SQN (1000) is ahead of the AuC's: auts=, then a fresh challenge.
R_IMSI=467050000000141
resyncs=$(metric koryo_sip_aka_resyncs_total)
ua_expect resync 200 --user "$R_IMSI" $(sim_args $R_IMSI) --amf 0000 --sqn-ms 1000
out=$(cat "$T/ua-resync")
expect_contains "$out" "sim sync-failure" "resync: the SIM rejected the first SQN"
grep -q "^sim sqn=[0-9]* sqn_ms=1000 amf=0000 mac=ok fresh=yes" <<<"$out" || fail "resync: no fresh SQN: $out"
SQN_MS=$(sed -n 's/^sqn_ms //p' <<<"$out")
[ "$SQN_MS" -gt 1000 ] || fail "SQN after resync: $SQN_MS"
expect_eq "$(metric koryo_sip_aka_resyncs_total)" $((resyncs + 1)) "resyncs counted"
# The AuC now continues from there: the next registration needs no resync.
ua_expect after-resync 200 --user "$R_IMSI@$DOMAIN" --aor "$R_IMSI" $(sim_args $R_IMSI) --sqn-ms "$SQN_MS"
grep -q "sync-failure" "$T/ua-after-resync" && fail "a second resync: $(cat "$T/ua-after-resync")"
expect_eq "$(metric koryo_sip_aka_resyncs_total)" $((resyncs + 1)) "no second resync"
# A SIM registering to its MSISDN (IMSI as the digest username).
ua_expect aka-msisdn 200 --user 467050000000142 --aor "$(msisdn 467050000000142)" $(sim_args 467050000000142)
expect_eq "$(nbind 467050000000142)" 1 "binding of a SIM registered by MSISDN"
# A forged AUTS (MAC-S wrong) and a wrong RES are refused; nothing is bound.
ua forged-auts --user 467050000000143 $(sim_args 467050000000143) --sqn-ms 5000 --bad-auts
expect_eq "$UA_STATUS" 403 "forged AUTS: $(cat "$T/ua-forged-auts")"
expect_eq "$(metric koryo_sip_aka_resyncs_total)" $((resyncs + 1)) "forged AUTS not counted as a resync"
ua bad-res --user 467050000000144 $(sim_args 467050000000144) --bad-response
case "$UA_STATUS" in 401 | 403) ;; *) fail "wrong RES answered '$UA_STATUS'" ;; esac
expect_eq "$(nbind 467050000000143)$(nbind 467050000000144)" 00 "bindings after refused AKA"
echo "ok: AKA resynchronisation and refusals"

# ---- bindings ---------------------------------------------------------------------------------
B_IMSI=467050000000016 B_MSISDN=$(msisdn 467050000000016) B_PW=${PW_PREFIX}16
PA=$(free_sip_port)
ua_expect b1 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PA" \
  --contact "<sip:$B_MSISDN@127.0.0.1:$PA>" --contact "<sip:$B_MSISDN-2@127.0.0.1:$PA>;expires=300"
expect_eq "$(nbind $B_IMSI)" 2 "two contacts in one REGISTER"
grep -Eq "^contact <sip:$B_MSISDN-2@127.0.0.1:$PA>;expires=(300|299)\$" "$T/ua-b1" ||
  fail "a contact's own expires: $(cat "$T/ua-b1")"
PB=$(free_sip_port)
ua_expect b2 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PB"
expect_eq "$(grep -c '^contact ' "$T/ua-b2")" 3 "the 200 lists every binding"
expect_eq "$(nbind $B_IMSI)" 3 "three bindings"
# Refreshing a contact does not add one.
ua_expect b2again 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PB" --expires 900
expect_eq "$(nbind $B_IMSI)" 3 "bindings after a refresh"
# Longer than the registrar allows: cut (RFC 3261 10.3 step 7), never longer.
ua_expect long 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PB" --expires 99999999
granted=$(sed -n "s/^contact <sip:$B_MSISDN@127.0.0.1:$PB>;expires=//p" "$T/ua-long")
[ -n "$granted" ] && [ "$granted" -lt 99999999 ] && [ "$granted" -ge 600 ] || fail "granted $granted"
# Expires: 0 removes that contact only; a query (no Contact) lists the rest.
ua_expect b-del 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PA" --expires 0 \
  --contact "<sip:$B_MSISDN-2@127.0.0.1:$PA>"
expect_eq "$(nbind $B_IMSI)" 2 "bindings after Expires: 0"
regs $B_IMSI | jq -r '.bindings[].contact' | grep -q -- "-2@" && fail "the removed contact is still bound"
bindings_before=$(metric koryo_sip_bindings)
ua_expect b-star 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PA" --expires 0 --contact '*'
expect_eq "$(nbind $B_IMSI)" 0 "bindings after Contact: *"
expect_eq "$(grep -c '^contact ' "$T/ua-b-star")" 0 "the 200 to Contact: * lists none"
expect_eq "$(metric koryo_sip_bindings)" $((bindings_before - 2)) "koryo_sip_bindings after Contact: *"
# More contacts than allowed: refused as a whole.
args=()
for n in $(seq 1 9); do args+=(--contact "<sip:$B_MSISDN-$n@127.0.0.1:$PA>"); done
ua too-many --user "$B_MSISDN" --password "$B_PW" --local-port "$PA" "${args[@]}"
case "$UA_STATUS" in 403 | 400 | 500) ;; *) fail "9 contacts answered '$UA_STATUS'" ;; esac
[ "$UA_STATUS" != 500 ] || fail "9 contacts answered 500"
expect_eq "$(nbind $B_IMSI)" 0 "bindings after too many contacts"
# Path (RFC 3327) is kept with the binding and returned in the 200.
ua_expect path 200 --user "$B_MSISDN" --password "$B_PW" --local-port "$PA" \
  --header "Path: <sip:pcscf@127.0.0.1:$PA;lr>" --header "Supported: path"
expect_contains "$(cat "$T/ua-path")" "path <sip:pcscf@127.0.0.1:$PA;lr>" "Path in the 200"
expect_eq "$(regs $B_IMSI | jq -r '.bindings[0].path')" "<sip:pcscf@127.0.0.1:$PA;lr>" "Path in the API"
echo "ok: bindings"

# ---- P-Access-Network-Info -----------------------------------------------------------------
C_IMSI=467050000000019 C_MSISDN=$(msisdn 467050000000019)
CELL_A=467050001000000A CELL_B=4670500020000B0C
expect_eq "$(cell $C_IMSI)" "" "cell before any REGISTER"
ua_expect pani 200 --user "$C_MSISDN" --password "${PW_PREFIX}19" \
  --header "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=$CELL_A"
expect_eq "$(cell $C_IMSI)" "$CELL_A" "cell after REGISTER"
[ "$(regs $C_IMSI | jq -r .cell_at)" != null ] || fail "cell_at not set"
# Only an authenticated REGISTER says where the subscriber is: anyone can
# send an unauthenticated one.
ua_expect pani-unauth 401 --user "$C_MSISDN" --password x --max-auth 0 \
  --header "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=$CELL_B"
expect_eq "$(cell $C_IMSI)" "$CELL_A" "cell after an unauthenticated REGISTER"
ua wrong-pani --user "$C_MSISDN" --password wrong-password \
  --header "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=$CELL_B"
expect_eq "$(cell $C_IMSI)" "$CELL_A" "cell after a REGISTER with a wrong password"
# Another network's cell: counted as unknown, the last known cell kept.
unknown=$(metric koryo_sip_unknown_cells_total)
ua_expect pani-foreign 200 --user "$C_MSISDN" --password "${PW_PREFIX}19" \
  --header "P-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=3102600010000001"
expect_eq "$(metric koryo_sip_unknown_cells_total)" $((unknown + 1)) "unknown cells"
expect_eq "$(cell $C_IMSI)" "$CELL_A" "cell after another network's"
ua_expect pani-b 200 --user "$C_MSISDN" --password "${PW_PREFIX}19" \
  --header "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=$CELL_B"
expect_eq "$(cell $C_IMSI)" "$CELL_B" "cell after moving"
echo "ok: P-Access-Network-Info"

# ---- restart -----------------------------------------------------------------------------
before=$(for i in 11 12 13 14; do regs "4670500000000$i" | jq -c '[.bindings[] | {contact, source, expires_at}]'; done)
n_before=$(metric koryo_sip_bindings)
users_before=$(metric koryo_sip_registered_subscribers)
alive "registrations"
koryod_stop
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
after=$(for i in 11 12 13 14; do regs "4670500000000$i" | jq -c '[.bindings[] | {contact, source, expires_at}]'; done)
expect_eq "$after" "$before" "bindings after a restart"
expect_eq "$(metric koryo_sip_bindings)" "$n_before" "koryo_sip_bindings after a restart"
expect_eq "$(metric koryo_sip_registered_subscribers)" "$users_before" "registered subscribers after a restart"
expect_eq "$(cell $C_IMSI)" "$CELL_B" "cell after a restart"
# Registering again after the restart: the stored binding is refreshed, not doubled.
ua_expect after-restart 200 --user "$(msisdn 467050000000014)" --password "${PW_PREFIX}14" --alg SHA-256
expect_eq "$(nbind 467050000000014)" 3 "bindings of 467050000000014 (two kept, one new port)"
echo "ok: restart"

# ---- failed authentications limited -------------------------------------------------------------
# Sources are distinct loopback addresses; other sources and identities must
# not be touched.
limited_before=$(metric koryo_sip_auth_rate_limited_total)
L_IMSI=467050000000060 L_MSISDN=$(msisdn 467050000000060)
for n in $(seq 1 10); do
  ua id-fail-$n --local-ip "127.$n.$((n + 1)).$((n + 2))" --user "$L_MSISDN" --password wrong-password
  expect_eq "$UA_STATUS" 403 "wrong password $n for one identity"
  grep -q '^retry-after' "$T/ua-id-fail-$n" && fail "limited after only $n failures"
done
ua_expect id-limited 403 --local-ip 127.11.12.13 --user "$L_MSISDN" --password "${PW_PREFIX}60"
retry=$(sed -n 's/^retry-after \([0-9]*\).*/\1/p' "$T/ua-id-limited")
[ -n "$retry" ] && [ "$retry" -ge 1 ] && [ "$retry" -le 60 ] || fail "identity limit: $(cat "$T/ua-id-limited")"
expect_eq "$(nbind $L_IMSI)" 0 "bindings of a limited identity"
ua_expect id-other 200 --local-ip 127.11.12.14 --user "$(msisdn 467050000000012)" --password "${PW_PREFIX}12"
# Per source: ten identities fail from one address.
for n in $(seq 1 10); do
  imsi=$((467051000000000 + n))
  ua src-fail-$n --local-ip 127.20.0.1 --user "$imsi" $(sim_args $imsi) --bad-response
  expect_eq "$UA_STATUS" 403 "wrong RES $n from one source"
  grep -q '^retry-after' "$T/ua-src-fail-$n" && fail "source limited after only $((n - 1)) failures"
done
ua_expect src-limited 403 --local-ip 127.20.0.1 --user 467051000000011 $(sim_args 467051000000011)
retry=$(sed -n 's/^retry-after \([0-9]*\).*/\1/p' "$T/ua-src-limited")
[ -n "$retry" ] && [ "$retry" -ge 1 ] && [ "$retry" -le 60 ] || fail "source limit: $(cat "$T/ua-src-limited")"
# The same SIM from another address (even in the same /16) is served.
ua_expect src-other 200 --local-ip 127.20.9.9 --user 467051000000011 $(sim_args 467051000000011)
expect_eq "$(metric koryo_sip_auth_rate_limited_total)" $((limited_before + 2)) "rate-limited counted"
echo "ok: failed authentications limited"

# ---- expiry -------------------------------------------------------------------------------
expect_eq "$(nbind $EXP_IMSI)" 1 "binding before expiry"
now=$(date +%s)
[ "$now" -ge $((EXP_AT + 2)) ] || sleep $((EXP_AT + 2 - now))
expect_eq "$(nbind $EXP_IMSI)" 0 "binding $MIN_EXPIRES s after registering"
alive "the whole test"
grep -E "ERROR|sanitizer" "$T/koryod.log" && fail "koryod logged errors"
echo "sip_registrar: ok ($(($(date +%s) - START)) s)"
