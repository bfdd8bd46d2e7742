#!/usr/bin/env bash
# Bounded libFuzzer run over the SIP message and URI parser
# (tests/fuzz/fuzz_sip.c), built with clang's fuzzer, ASan and UBSan from the
# two parser sources only, seeded with the RFC 4475 torture messages. Fails if
# the fuzzer finds a crash, a sanitizer report or a broken invariant.
#
# Env: KORYO_SRC (the source tree), KORYO_TESTDATA (sip/rfc4475 inside).
# Optional: FUZZ_SIP_SECONDS (default 30). clang is a test dependency
# (scripts/deps.sh installs clang and libclang-rt-14-dev): without it this
# test fails, it does not skip.
set -euo pipefail

: "${KORYO_SRC:?KORYO_SRC must name the source tree}"
: "${KORYO_TESTDATA:?KORYO_TESTDATA must name the test data directory}"
source "$KORYO_SRC/tests/integration/fuzz_lib.sh"
SECONDS_BUDGET=${FUZZ_SIP_SECONDS:-30}
SEEDS="$KORYO_TESTDATA/sip/rfc4475"

[ -d "$SEEDS" ] || fail "no seed corpus at $SEEDS"

# The inputs are text: show a saved one as characters, its start only.
fuzz_show_input() {
  od -c -v "$1" | head -40
}

mkdir "$T/corpus"
cp "$SEEDS"/*.dat "$T/corpus/"
# A few messages koryod sees every second, and a stream of two.
printf 'REGISTER sip:ims.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\nFrom: <sip:001010000000001@ims.example>;tag=1\r\nTo: <sip:001010000000001@ims.example>\r\nCall-ID: a@b\r\nCSeq: 2 REGISTER\r\nContact: <sip:u@10.0.0.1:5060>;expires=600\r\nAuthorization: Digest username="u", realm="ims.example", nonce="bm9uY2U=", uri="sip:ims.example", response="0011", algorithm=AKAv1-MD5, qop=auth, nc=00000001, cnonce="c"\r\nP-Access-Network-Info: 3GPP-UTRAN-FDD; utran-cell-id-3gpp=4670500010001\r\nPath: <sip:pcscf.example;lr>\r\nContent-Length: 0\r\n\r\n' >"$T/corpus/register"
printf '\r\n\r\nMESSAGE tel:+850191234567 SIP/2.0\r\nv: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK2\r\nf: <sip:a@b>;tag=2\r\nt: <tel:+850-19-1234567>\r\ni: m@b\r\nCSeq: 1 MESSAGE\r\nl: 2\r\n\r\nhiSIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=2\r\nTo: <sip:c@d>;tag=3\r\nCall-ID: m@b\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n' >"$T/corpus/stream"

fuzz_run fuzz_sip "$T/corpus" "$SECONDS_BUDGET" 8192 -std=c11 -D_GNU_SOURCE \
  tests/fuzz/fuzz_sip.c src/sip/sip_msg.c src/sip/sip_uri.c
