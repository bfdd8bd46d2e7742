# shellcheck shell=bash
# Shared part of the bounded libFuzzer tests (fuzz_gsup.sh, fuzz_sip.sh):
# clang must be there, $T is a private directory (removed at exit) for the
# fuzzer, its corpus and what it finds, and fuzz_run builds a target and runs
# it for a while. Each test writes its own seeds into a corpus directory
# (usually "$T/corpus") and makes its own checks.
#
# Env: KORYO_SRC (the source tree). Optional: FUZZ_CC (default clang).
# clang is a test dependency (scripts/deps.sh installs clang and
# libclang-rt-14-dev): without it a fuzz test fails, it does not skip.
# Usage: source "$KORYO_SRC/tests/integration/fuzz_lib.sh"
set -euo pipefail

: "${KORYO_SRC:?KORYO_SRC must name the source tree}"
CC=${FUZZ_CC:-clang}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v "$CC" >/dev/null ||
  fail "$CC not found: install clang and libclang-rt-14-dev (scripts/deps.sh) to build the fuzzer"

T=$(mktemp -d /tmp/koryo-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT

# fuzz_show_input FILE: shows an input the fuzzer saved, on stdout. Octets in
# hex; a test whose inputs are text may define its own after sourcing this.
fuzz_show_input() {
  od -An -tx1 -v "$1"
}

# fuzz_run NAME CORPUS SECONDS MAX_LEN [FLAG...] SOURCE...: builds the fuzz
# target NAME from SOURCE... (paths in $KORYO_SRC, which becomes the current
# directory), with any extra compiler FLAGs, clang's fuzzer, ASan and UBSan;
# runs it over the seeds in CORPUS for SECONDS with inputs of at most MAX_LEN
# octets. Fails (exits) if it does not build or if the fuzzer stops with an
# error (a crash, a sanitizer report, a broken invariant, a leak, a timeout,
# out of memory), after showing the end of its log and every input it saved.
fuzz_run() {
  local name=$1 corpus=$2 seconds=$3 max_len=$4 rc=0 a
  shift 4
  cd "$KORYO_SRC"
  if ! "$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$KORYO_SRC/src" "$@" -o "$T/$name" 2>"$T/build.log"; then
    cat "$T/build.log" >&2
    fail "could not build the fuzzer with $CC (is libclang-rt-14-dev installed?)"
  fi

  echo "fuzzing for ${seconds}s with $(find "$corpus" -type f | wc -l) seeds"
  "$T/$name" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$T/" "$corpus" >"$T/fuzz.log" 2>&1 || rc=$?

  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::)' "$T/fuzz.log" || true
  if [ "$rc" -ne 0 ]; then
    tail -60 "$T/fuzz.log" >&2
    for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-*; do
      [ -e "$a" ] || continue
      echo "--- $(basename "$a"):" >&2
      fuzz_show_input "$a" >&2
    done
    fail "the fuzzer stopped with status $rc"
  fi
  echo "PASS: no crash in ${seconds}s"
}
