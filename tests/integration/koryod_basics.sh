#!/usr/bin/env bash
# koryod as an operator first meets it: --help, --version, the documented example
# configuration, the refusal to start without a profile, and a clean stop on
# SIGINT (Ctrl-C) with the store closed.
source "$KORYO_SRC/tests/integration/lib.sh"

out=$("$KORYOD" --help)
expect_contains "$out" "Usage: koryod" "koryod --help"
expect_contains "$out" "--profile DIR" "koryod --help lists --profile"
expect_eq "$("$KORYOD" --version)" "koryod $(sed -n 's/^project(koryo VERSION \([0-9.]*\).*/\1/p' "$KORYO_SRC/CMakeLists.txt")" "koryod --version"
rc=0
"$KORYOD" --bogus >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "unknown option exit status"

# The example configuration, pointed at a private directory and port, must load.
API_PORT=$(free_port)
GSUP_PORT=$(free_port)
sed -e "s|^data_dir = .*|data_dir = $T/data|" -e "s|^api.listen = .*|api.listen = 127.0.0.1:$API_PORT|" \
  -e "s|^gsup.listen = .*|gsup.listen = 127.0.0.1:$GSUP_PORT|" \
  -e "s|^sip.listen = .*|sip.listen = 127.0.0.1:$(free_sip_port)|" \
  "$KORYO_SRC/etc/koryod.conf.example" >"$T/koryod.conf"
export KORYO_API="http://127.0.0.1:$API_PORT" KORYO_TOKEN_FILE="$T/data/api.token"

# Without a profile an empty store is refused with a hint, and exits 1.
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/koryod.conf" 2>&1) || rc=$?
expect_eq "$rc" 1 "start without a profile"
expect_contains "$err" "has no operator profile yet: start with --profile DIR" "no-profile message"

# A profile whose policy has a bad line: refused naming the file and line,
# and the store it would have gone into is not left half installed.
cp -r "$KORYO_SRC/profiles/koryolink" "$T/badprofile"
echo 'broken,100,citizen,voice,national,*,maybe,,a verdict that is neither allow nor deny' \
  >>"$T/badprofile/rights.csv"
line=$(wc -l <"$T/badprofile/rights.csv")
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/koryod.conf" --profile "$T/badprofile" 2>&1) || rc=$?
expect_eq "$rc" 1 "start with a bad rights.csv"
expect_contains "$err" "rights.csv:$line:" "bad profile: the file and line named"
expect_contains "$err" "nothing was installed" "bad profile: nothing installed"
[ ! -e "$T/data/koryo.db" ] || fail "a bad profile left a store behind"

koryod_start --profile "$KORYO_SRC/profiles/koryolink"
expect_eq "$(stat -c %a "$T/data/master.key")" 600 "master key mode"
expect_eq "$(stat -c %a "$T/data/api.token")" 600 "token mode"
n=$(api GET /metrics | grep -c '^koryo_subscribers{')
expect_eq "$n" 12 "koryo_subscribers series (3 classes x 4 statuses)"

# Ctrl-C: SIGINT stops it with status 0 and the WAL folded into the database.
kill -INT "$KORYOD_PID"
rc=0
wait "$KORYOD_PID" || rc=$?
KORYOD_PID=""
expect_eq "$rc" 0 "exit status after SIGINT"
expect_contains "$(cat "$T/koryod.log")" "stopped cleanly" "clean-stop log line"
[ ! -s "$T/data/koryo.db-wal" ] || fail "WAL not checkpointed on stop"

# A second start finds the profile in the store and does not need --profile.
koryod_start
expect_eq "$(api GET /v1/network | head -1 | jq -r .name)" "Koryolink" "network name after restart"
koryod_stop

# A master key readable by others is refused.
chmod 644 "$T/data/master.key"
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/koryod.conf" 2>&1) || rc=$?
expect_eq "$rc" 1 "start with a world-readable master key"
expect_contains "$err" "readable by group or others" "master key mode message"
echo "koryod_basics: ok"

# A master key that does not belong to the store is noticed at start.
chmod 600 "$T/data/master.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/data/master.key"
echo >>"$T/data/master.key"
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/koryod.conf" 2>&1) || rc=$?
expect_eq "$rc" 1 "start with another master key"
expect_contains "$err" "wrong master key file?" "wrong master key message"
echo "koryod_basics: master key check ok"

# GSUP's address held by another koryod: a second one refuses to start instead
# of joining it through SO_REUSEPORT and splitting the traffic.
rm -rf "$T/data"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"
sed -e "s|^data_dir = .*|data_dir = $T/data2|" -e "s|^api.listen = .*|api.listen = 127.0.0.1:$(free_port)|" \
  "$T/koryod.conf" >"$T/second.conf"
rc=0
err=$(timeout 20 "$KORYOD" -c "$T/second.conf" --profile "$KORYO_SRC/profiles/koryolink" 2>&1) || rc=$?
expect_eq "$rc" 1 "second koryod on the same GSUP address"
expect_contains "$err" "cannot listen for GSUP on 127.0.0.1:$GSUP_PORT" "GSUP address in use message"
koryod_stop
echo "koryod_basics: GSUP address check ok"
