# koryod refuses a bad configuration before it touches anything: for an unknown
# key, a bad value or a missing file it exits with status 2, prints exactly
# "koryod: FILE:LINE: reason" (or "koryod: FILE: cannot open: reason") on stderr,
# and neither creates nor changes its data directory.
set -euo pipefail

: "${KORYOD:?KORYOD must name the koryod binary}"

T=$(mktemp -d /tmp/koryo-test-config-errors.XXXXXX)
trap 'rm -rf "$T"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_refused CONF WANT_STDERR: runs koryod -c CONF and checks status 2, the
# exact stderr, an empty stdout.
expect_refused() {
  local conf=$1 want=$2 rc=0
  timeout 10 "$KORYOD" -c "$conf" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -ne 124 ] || fail "koryod started with $conf (killed by timeout)"
  [ "$rc" -eq 2 ] || fail "$conf: exit status $rc, want 2; stderr: $(cat "$T/err")"
  local got
  got=$(cat "$T/err")
  [ "$got" = "$want" ] || fail "$conf: stderr
  got:  $got
  want: $want"
  [ ! -s "$T/out" ] || fail "$conf: unexpected stdout: $(cat "$T/out")"
  echo "ok: $want"
}

# 1. An unknown key; its line number counts the comments and blank lines above it.
cat >"$T/unknown.conf" <<CONF
# koryod configuration

data_dir = $T/data-unknown
api.listen = 127.0.0.1:18080
   # indented comment
colour = blue
workers = 2
CONF
expect_refused "$T/unknown.conf" "koryod: $T/unknown.conf:6: unknown key 'colour'"
[ ! -e "$T/data-unknown" ] || fail "a refused start created data_dir $T/data-unknown"

# 2. Bad values: the reason names the key and repeats the value.
cat >"$T/workers.conf" <<CONF
data_dir = $T/data-workers
workers = 0
CONF
expect_refused "$T/workers.conf" \
  "koryod: $T/workers.conf:2: workers: expected 'auto' or 1..256, got '0'"
[ ! -e "$T/data-workers" ] || fail "a refused start created data_dir $T/data-workers"

cat >"$T/listen.conf" <<CONF
data_dir = $T/data-listen
log.level = info
api.listen = localhost:8080
CONF
expect_refused "$T/listen.conf" \
  "koryod: $T/listen.conf:3: api.listen: expected IPV4:PORT (e.g. 127.0.0.1:8080), got 'localhost:8080'"
[ ! -e "$T/data-listen" ] || fail "a refused start created data_dir $T/data-listen"

cat >"$T/level.conf" <<CONF
data_dir = $T/data-level
log.level = loud
CONF
expect_refused "$T/level.conf" \
  "koryod: $T/level.conf:2: log.level: expected debug, info, notice, warn or error, got 'loud'"

# A line that is not "key = value".
printf 'data_dir = %s\nworkers 2\n' "$T/data-noeq" >"$T/noeq.conf"
expect_refused "$T/noeq.conf" "koryod: $T/noeq.conf:2: expected 'key = value'"
[ ! -e "$T/data-noeq" ] || fail "a refused start created data_dir $T/data-noeq"

# 3. A missing file: there is no line to name.
expect_refused "$T/nonexistent.conf" \
  "koryod: $T/nonexistent.conf: cannot open: No such file or directory"

# 4. An existing data directory is left exactly as it was by a refused start.
mkdir -m 700 "$T/data"
echo "not a database" >"$T/data/koryo.db"
printf '%s\n' "data_dir = $T/data" "store.sync = sometimes" >"$T/sync.conf"
snapshot() { (cd "$T/data" && find . -printf '%p %m %s %T@\n' | sort && cat koryo.db); }
before=$(snapshot)
expect_refused "$T/sync.conf" \
  "koryod: $T/sync.conf:2: store.sync: expected 'full' or 'normal', got 'sometimes'"
[ "$(snapshot)" = "$before" ] || fail "a refused start changed $T/data"
[ ! -e "$T/data/master.key" ] || fail "a refused start created a master key"

echo "PASS"
