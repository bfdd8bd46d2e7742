#!/usr/bin/env bash
# Bounded libFuzzer run over the IPA framing, CCM ID_RESP and GSUP decoders
# (tests/fuzz/fuzz_gsup.c), built with clang's fuzzer, ASan and UBSan, seeded
# with the osmo-hlr captures of GSUP_NOTES.md section 8. Fails if the fuzzer
# finds a crash, a sanitizer report or a broken round-trip invariant.
#
# Env: KORYO_SRC (the source tree). Optional: FUZZ_GSUP_SECONDS (default 30).
# clang is a test dependency (scripts/deps.sh installs clang and
# libclang-rt-14-dev): without it this test fails, it does not skip.
set -euo pipefail

: "${KORYO_SRC:?KORYO_SRC must name the source tree}"
source "$KORYO_SRC/tests/integration/fuzz_lib.sh"
SECONDS_BUDGET=${FUZZ_GSUP_SECONDS:-30}

# Seed corpus: the section 8 captures, framed as they travel (4-octet IPA
# header with the GSUP extension octet), plus the CCM exchange.
mkdir "$T/corpus"
seed() { # seed NAME HEX...
  local name=$1 hex esc=""
  shift
  hex=$(echo "$*" | tr -d ' |')
  for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
  printf '%b' "$esc" >"$T/corpus/$name"
}
gsup() { # gsup NAME HEX...: one GSUP message in an IPA frame
  local name=$1 hex len
  shift
  hex=$(echo "$*" | tr -d ' |')
  len=$((${#hex} / 2 + 1))
  seed "$name" "$(printf '%04x' "$len") ee 05 $hex"
}
IMSI="01 08 00 01 01 00 00 00 00 f1"
R16=00112233445566778899aabbccddeeff
gsup sai_req "08 $IMSI 52 01 01 28 01 02 0a 01 01"
gsup sai_res "0a $IMSI 03 62 20 10 $R16 21 04 01020304 22 08 0102030405060708 23 10 $R16 24 10 $R16 25 10 $R16 27 08 0102030405060708 0a 01 01"
gsup sai_resync "08 $IMSI 52 01 02 26 0e 0102030405060708090a0b0c0d0e 20 10 $R16 28 01 02 0a 01 01"
gsup sai_err "09 01 08 99 99 09 00 00 00 00 f1 02 01 02 0a 01 01"
gsup ul_cs "04 $IMSI 28 01 02 0a 01 01"
gsup isd_cs "10 $IMSI 08 07 06 94 00 00 00 00 f1 28 01 02 0a 01 01"
gsup isd_ps "10 $IMSI 08 07 06 94 00 00 00 00 f1 05 07 10 01 01 12 02 01 2a 28 01 01"
gsup isd_res "12 $IMSI 28 01 02 0a 01 01"
gsup ul_res "06 $IMSI 0a 01 01"
gsup ul_err "05 $IMSI 02 01 11 0a 01 01"
gsup purge "0c $IMSI 28 01 02 0a 01 01"
gsup check_imei "30 $IMSI 50 08 07 53 96 83 30 65 34 08 0a 01 01"
gsup check_imei_res "32 $IMSI 51 01 00 0a 01 01"
gsup short_imsi "08 01 03 21 43 f5 28 01 02 0a 01 01"
gsup ussd "20 $IMSI 30 04 00 00 00 01 31 01 01 35 05 a1 03 02 01 01 0a 01 03 60 06 4d 53 43 2d 31 00"
seed ccm_id_get "00 11 fe 04 01 08 01 07 01 02 01 03 01 04 01 05 01 01 01 00"
seed ccm_ping_ack "00 01 fe 00 00 01 fe 06"
# ID_RESP as libosmo-abis answers that ID_GET, then a SAI request in the same read.
seed ccm_id_resp "00 5b fe 05 00 07 08 302f302f3000 00 13 07 30303a30303a30303a30303a30303a303000 \
  00 02 02 00 00 02 03 00 00 02 04 00 00 02 05 00 \
  00 14 01 677375702d6c6f61642d7665726966792d3000 00 14 00 677375702d6c6f61642d7665726966792d3000 \
  0015ee05 08 $IMSI 52 01 01 28 01 02 0a 01 01"

fuzz_run fuzz_gsup "$T/corpus" "$SECONDS_BUDGET" 4096 \
  tests/fuzz/fuzz_gsup.c src/hlr/ipa.c src/hlr/gsup.c
