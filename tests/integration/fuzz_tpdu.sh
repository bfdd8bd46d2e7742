#!/usr/bin/env bash
# Bounded libFuzzer run over the SMS codec (tests/fuzz/fuzz_tpdu.c): TPDUs in
# both directions and RP messages, each decoded, re-encoded and decoded again.
# Built with clang's fuzzer, ASan and UBSan from the src/sms sources only,
# seeded with the published PDUs of sms/sms_pdus.tsv (SMSC prefix removed)
# and a few RP messages. Fails on a crash, a sanitizer report or a broken
# invariant.
#
# Env: KORYO_SRC, KORYO_TESTDATA (sms/sms_pdus.tsv inside).
# Optional: FUZZ_TPDU_SECONDS (default 20).
set -euo pipefail

: "${KORYO_SRC:?KORYO_SRC must name the source tree}"
: "${KORYO_TESTDATA:?KORYO_TESTDATA must name the test data directory}"
source "$KORYO_SRC/tests/integration/fuzz_lib.sh"
SECONDS_BUDGET=${FUZZ_TPDU_SECONDS:-20}
TSV="$KORYO_TESTDATA/sms/sms_pdus.tsv"

[ -f "$TSV" ] || fail "no seed PDUs at $TSV"

mkdir "$T/corpus"
i=0
# Column 2 is the PDU in hex: SMSC length octet, SMSC, then the TPDU.
while IFS=$'\t' read -r _ hex _; do
  i=$((i + 1))
  smsc_len=$((16#${hex:0:2}))
  tpdu=${hex:$((2 + 2 * smsc_len))}
  printf '%s' "$tpdu" | xxd -r -p >"$T/corpus/tpdu$i"
  # The same TPDU in an RP-DATA (MO for SUBMIT, MT otherwise).
  mti=00
  [[ $i -gt 0 ]] && [[ $(printf '%s' "$tpdu" | cut -c2) =~ [159d] ]] || mti=01
  printf '%s%s%s%02x%s' "$mti" 2a "00059144775810" $((${#tpdu} / 2)) "$tpdu" |
    xxd -r -p >"$T/corpus/rp$i"
done < <(tail -n +2 "$TSV")
printf '\x03\x07\x41\x09\x01\x00\x11\x10\x70\x81\x95\x83\x00' >"$T/corpus/rp_ack"
printf '\x04\x09\x02\x16\x03' >"$T/corpus/rp_error"
printf '\x06\x11' >"$T/corpus/rp_smma"

fuzz_run fuzz_tpdu "$T/corpus" "$SECONDS_BUDGET" 1024 -std=c11 -D_GNU_SOURCE \
  tests/fuzz/fuzz_tpdu.c src/sms/sms_err.c src/sms/gsm7.c src/sms/ucs2.c src/sms/tpdu.c \
  src/sms/rp.c src/sms/segment.c
