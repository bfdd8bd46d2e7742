# Helpers for the cli_*.sh tests, on top of lib.sh: start koryod with a
# profile, run koryo keeping everything it printed (so a test can check at the
# end that no secret ever appeared), and count subscribers through the API
# itself, independently of the CLI under test.
# Usage: source "$KORYO_SRC/tests/integration/cli_lib.sh"
source "$KORYO_SRC/tests/integration/lib.sh"

# The profile koryod loads; KORYO_PROFILE points elsewhere to try another.
KORYO_PROFILE=${KORYO_PROFILE:-$KORYO_SRC/profiles/koryolink}

# cli_start: a private koryod with the profile loaded into an empty store.
cli_start() {
  # shellcheck disable=SC2119 # no extra config lines
  koryod_config
  koryod_start --profile "$KORYO_PROFILE"
}

# run ARGS...: runs koryo ARGS; sets OUT, ERR and RC, and appends both
# streams to $T/cli-output.
run() {
  RC=0
  "$KORYO" "$@" >"$T/out" 2>"$T/err" || RC=$?
  OUT=$(cat "$T/out")
  ERR=$(cat "$T/err")
  cat "$T/out" "$T/err" >>"$T/cli-output"
}

# expect_rc STATUS WHAT: the last run exited with STATUS.
expect_rc() {
  [ "$RC" == "$1" ] || fail "$2: exit status $RC, expected $1; stdout: $OUT; stderr: $ERR"
}

# api_count [QUERY]: subscribers matching QUERY (e.g. "class=citizen"),
# counted by paging through GET /v1/subscribers with curl.
api_count() {
  local after="" n=0 page
  while :; do
    page=$(curl -fsS -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" \
      "$KORYO_API/v1/subscribers?limit=1000${1:+&$1}${after:+&after=$after}")
    n=$((n + $(jq '.items | length' <<<"$page")))
    after=$(jq -r '.next // empty' <<<"$page")
    [ -n "$after" ] || break
  done
  echo "$n"
}

# cli_count [FILTER OPTIONS...]: data rows of `koryo sub list --all`.
cli_count() {
  local rows
  rows=$("$KORYO" sub list --all "$@") || fail "sub list --all $* failed"
  [ "$(head -n 1 <<<"$rows" | awk '{print $1}')" == "IMSI" ] || fail "sub list: no header row"
  tail -n +2 <<<"$rows" | grep -c . || true
}

# expect_no_secret HEX WHAT: HEX appears, in neither letter case, in nothing
# the CLI printed ($T/cli-output), in what the test saved of the API's answers
# ($T/api-output), nor in koryod's log.
expect_no_secret() {
  local lower upper f
  lower=$(tr 'A-F' 'a-f' <<<"$1")
  upper=$(tr 'a-f' 'A-F' <<<"$1")
  for f in "$T/cli-output" "$T/api-output" "$T/koryod.log"; do
    [ -f "$f" ] || continue
    if grep -q -e "$lower" -e "$upper" "$f"; then
      fail "$2 appears in $(basename "$f")"
    fi
  done
}
