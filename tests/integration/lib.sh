# Shared helpers for integration tests: start a real koryod on loopback with a
# private data directory, talk to it, and stop it by its PID.
# Usage: source "$KORYO_SRC/tests/integration/lib.sh"
set -euo pipefail

: "${KORYOD:?KORYOD must name the koryod binary}"
: "${KORYO:?KORYO must name the koryo binary}"
: "${KORYO_SRC:?KORYO_SRC must name the source tree}"

T=$(mktemp -d /tmp/koryo-test.XXXXXX)
KORYOD_PID=""

cleanup() {
  koryod_stop || true
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % 20000)) # below the ephemeral range (32768-)
    (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
  done
}

# free_sip_port: a port on 127.0.0.1 free for TCP and for UDP (SIP takes both).
free_sip_port() {
  local p
  while :; do
    p=$(free_port)
    [ -n "$(ss -Hlnu "sport = :$p" 2>/dev/null)" ] || { echo $p; return; }
  done
}

# koryod_config [extra lines...]: writes $T/koryod.conf for a private instance.
koryod_config() {
  API_PORT=${API_PORT:-$(free_port)}
  mkdir -p "$T/data"
  {
    echo "data_dir = $T/data"
    echo "api.listen = 127.0.0.1:$API_PORT"
    echo "workers = 2"
    echo "log.level = info"
    # A port of its own: tests run in parallel (a later line may override it).
    echo "gsup.listen = 127.0.0.1:$(free_port)"
    echo "sip.listen = 127.0.0.1:$(free_sip_port)"
    for l in "$@"; do echo "$l"; done
  } >"$T/koryod.conf"
  export KORYO_API="http://127.0.0.1:$API_PORT"
  export KORYO_TOKEN_FILE="$T/data/api.token"
}

# koryod_start [koryod args...]: starts koryod with $T/koryod.conf, waits for /health.
koryod_start() {
  [ -f "$T/koryod.conf" ] || koryod_config
  "$KORYOD" -c "$T/koryod.conf" "$@" >>"$T/koryod.log" 2>&1 &
  KORYOD_PID=$!
  for _ in $(seq 1 200); do
    if curl -fsS "$KORYO_API/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; fail "koryod exited during start"; }
    sleep 0.1
  done
  cat "$T/koryod.log" >&2
  fail "koryod did not answer /health within 20 s"
}

# koryod_stop: SIGTERM, wait for a clean exit; fails the test on a non-zero status.
koryod_stop() {
  [ -n "$KORYOD_PID" ] || return 0
  local pid=$KORYOD_PID rc=0
  KORYOD_PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  wait "$pid" || rc=$?
  if [ $rc -ne 0 ]; then
    cat "$T/koryod.log" >&2
    fail "koryod exited with status $rc on SIGTERM"
  fi
}

# api METHOD PATH [curl args...]: authenticated API call; prints the body, then
# the HTTP status on the last line.
api() {
  local method=$1 path=$2
  shift 2
  curl -sS -X "$method" -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
    -w '\n%{http_code}\n' "$@" "$KORYO_API$path"
}

# call METHOD PATH [curl args...]: an authenticated API call; the answer in
# BODY (without koryod's closing newline), its HTTP status in CODE. Every body
# is also kept in $T/api-output, for the tests that check that no secret is
# ever echoed.
call() {
  local out
  out=$(api "$@")
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
  BODY=${BODY%$'\n'}
  printf '%s\n' "$BODY" >>"$T/api-output"
}
# expect_code CODE WHAT: the last call's HTTP status.
expect_code() {
  [ "$CODE" == "$1" ] || fail "$2: expected HTTP $1, got $CODE: $BODY"
}
# expect_error STATUS FIELD ERROR WHAT: the last call was refused so; FIELD "-"
# means no field member.
expect_error() {
  expect_code "$1" "$4"
  local f
  f=$(jq -r 'if has("field") then .field else "-" end' <<<"$BODY") || fail "$4: not JSON: $BODY"
  expect_eq "$f" "$2" "$4: field"
  expect_eq "$(jq -r .error <<<"$BODY")" "$3" "$4: error"
}
# jget FILTER: a member of the last call's BODY.
jget() { jq -r "$1" <<<"$BODY"; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"
}

# expect_contains HAYSTACK NEEDLE WHAT
expect_contains() {
  case "$1" in *"$2"*) ;; *) fail "$3: '$2' not found in: $1" ;; esac
}
