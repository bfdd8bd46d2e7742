#!/usr/bin/env bash
# Every koryo command answers --help with a usage line and exit 0, --version
# prints the version, and a bad command line gets exit 2 and a pointer to the
# right --help. No koryod is needed.
source "$KORYO_SRC/tests/integration/lib.sh"

help_ok() {
  local out rc=0
  out=$("$KORYO" "$@" --help 2>"$T/err") || rc=$?
  [ $rc -eq 0 ] || fail "koryo $* --help: exit status $rc: $(cat "$T/err")"
  [ ! -s "$T/err" ] || fail "koryo $* --help wrote to stderr: $(cat "$T/err")"
  grep -qi "^usage: koryo $*" <<<"$out" || fail "koryo $* --help: no 'Usage: koryo $*' line"
}

help_ok
for c in sub "sub add" "sub show" "sub list" "sub set" "sub del" "sub registrations" calls cdrs \
  import "import subscribers" auc-gen policy sms "sms rules" "sms rule" "sms limits" \
  "sms matches" "sms check" "sms messages" "sms message" "sms release" "sms cdrs" \
  "sms centre" account "account show" "account ledger" \
  "account topup" "account adjust" "account cdrs" voucher "voucher gen" "voucher upload" \
  "voucher list"; do
  # shellcheck disable=SC2086 # the words are the command
  help_ok $c
done

# koryo --help lists every command.
out=$("$KORYO" --help)
for c in "sub add" "sub show" "sub list" "sub set" "sub del" "sub registrations" calls cdrs \
  "import subscribers" policy sms account voucher auc-gen; do
  expect_contains "$out" "  $c " "koryo --help"
done
# Options may also come before the command word: the global --help wins.
expect_eq "$("$KORYO" --help sub | head -n 1)" "$(head -n 1 <<<"$out")" "koryo --help sub"

version=$(sed -n 's/^project(koryo VERSION \([0-9.]*\).*/\1/p' "$KORYO_SRC/CMakeLists.txt")
expect_eq "$("$KORYO" --version)" "koryo $version" "koryo --version"

# usage_err EXPECTED_MESSAGE ARGS...: exit 2, the message, then the hint.
usage_err() {
  local want=$1 rc=0 err
  shift
  "$KORYO" "$@" >"$T/out" 2>"$T/err" || rc=$?
  err=$(cat "$T/err")
  expect_eq "$rc" 2 "koryo $* exit status"
  expect_eq "$(head -n 1 <<<"$err")" "$want" "koryo $* message"
  expect_contains "$err" "--help'." "koryo $* hint"
  [ ! -s "$T/out" ] || fail "koryo $*: printed on stdout"
}

usage_err "koryo: missing command (sub, calls, cdrs, import, policy, sms, account, voucher, auc-gen)"
usage_err "koryo: unknown command 'frob' (sub, calls, cdrs, import, policy, sms, account, voucher, auc-gen)" frob
SMS_CMDS="rules, rule, limits, matches, check, messages, message, release, delete, cdrs, centre"
usage_err "koryo sms: missing command ($SMS_CMDS)" sms
usage_err "koryo sms: unknown command 'frob' ($SMS_CMDS)" sms frob
usage_err "koryo sms message: expected one message ID" sms message
usage_err "koryo sms release: ID must be a decimal number" sms release 12x
usage_err "koryo sms cdrs: give --csv or --jsonl, not both" sms cdrs --csv --jsonl
usage_err "koryo sms cdrs: give --csv or --json, not both" sms cdrs --csv --json
usage_err "koryo sms check: expected SENDER, RECIPIENT and TEXT" sms check 85019120000001
usage_err "koryo sms rule: give --words or --regex, not both" \
  sms rule set r --words a --regex b
usage_err "koryo sms limits: give both --messages and --seconds" sms limits --messages 3
usage_err "koryo: unknown option --frob" --frob sub list
usage_err "koryo sub: missing command (add, show, list, set, del, registrations)" sub
usage_err "koryo sub: unknown command 'frob' (add, show, list, set, del, registrations)" sub frob
usage_err "koryo sub list: unknown option --frob" sub list --frob
usage_err "koryo sub list: option --limit needs a value" sub list --limit
usage_err "koryo sub list: --limit must be a decimal number" sub list --limit ten
usage_err "koryo sub list: unexpected argument 'extra'" sub list extra
usage_err "koryo sub show: which subscriber? give an IMSI, msisdn:N or iccid:N" sub show
usage_err "koryo sub show: give one subscriber, not 2" sub show 467050000000001 --msisdn 8501
usage_err "koryo sub del: which subscriber? give an IMSI, msisdn:N or iccid:N" sub del
usage_err "koryo sub set: nothing to change" sub set 467050000000001
usage_err "koryo sub set: give --msisdn or --no-msisdn, not both" \
  sub set 467050000000001 --msisdn 850191 --no-msisdn
usage_err "koryo import: missing what to import (subscribers)" import
usage_err "koryo import subscribers: missing FILE.csv" import subscribers

K=000102030405060708090a0b0c0d0e0f
OPC=cd63cb71954a9f4e48a5994e37a02baf
add=(sub add --imsi 467050000000001 --class citizen)
usage_err "koryo sub add: missing --imsi" sub add --class citizen --k $K --opc $OPC
usage_err "koryo sub add: missing --class" sub add --imsi 467050000000001 --k $K --opc $OPC
usage_err "koryo sub add: missing --k" "${add[@]}" --opc $OPC
usage_err "koryo sub add: missing --op or --opc" "${add[@]}" --k $K
usage_err "koryo sub add: give --op or --opc, not both" "${add[@]}" --k $K --op $OPC --opc $OPC
usage_err "koryo sub add: --sqn must be a decimal number" "${add[@]}" --k $K --opc $OPC --sqn -1
# A key typed where a value was due, or as a stray word, is never echoed.
usage_err "koryo sub add: option --k needs a value" "${add[@]}" --k --opc $OPC
usage_err "koryo sub add: unexpected argument (sub add takes only options)" "${add[@]}" --k $K $OPC
usage_err "koryo sub add: unknown option --kk" "${add[@]}" --kk=$K --opc $OPC
if grep -q -i -e $K -e $OPC "$T/err"; then fail "a key was echoed"; fi

# A file that cannot be read is the operator's mistake, not koryod's.
rc=0
"$KORYO" import subscribers "$T/missing.csv" 2>"$T/err" || rc=$?
expect_eq "$rc" 2 "import of a missing file"
expect_eq "$(cat "$T/err")" "koryo: cannot open $T/missing.csv: No such file or directory" \
  "import of a missing file"
echo "ok"
