#!/usr/bin/env bash
# koryo import subscribers against a real koryod: a good file of a few
# thousand rows is imported and counted; a file with one bad row (bad IMSI,
# bad hex K, an IMSI twice in the file, an IMSI already in the store, an
# unknown column, an unknown class) is refused with FILE:LINE: column C: ...,
# exit status 1, and nothing imported. Also: the progress bar on a terminal,
# koryod's progress of an import (GET /v1/import/progress/ID) and the rows
# checked and written on a terminal, a CSV on standard input, and that no key
# from a file is ever printed.
# KORYO_TEST_BIG_IMPORT=1 adds a 1 M row (~150 MB) import.
source "$KORYO_SRC/tests/integration/cli_lib.sh"
cli_start

CITY=$(curl -fsS -H "Authorization: Bearer $(cat "$KORYO_TOKEN_FILE")" "$KORYO_API/v1/cities" |
  jq -r '.items[0].name')

# gen FILE FIRST COUNT [BAD_LINE BAD_COLUMN BAD_VALUE [HEADER]]: a CSV with a
# header and COUNT good rows numbered from FIRST (IMSI 4670577 and 8 digits),
# except that on line BAD_LINE (the header is line 1) column BAD_COLUMN holds
# BAD_VALUE. Names carry a comma, so they are quoted as RFC 4180 says.
gen() {
  awk -v first="$2" -v n="$3" -v bad_line="${4:-0}" -v bad_col="${5:-}" -v bad_val="${6:-}" \
    -v header="${7:-imsi,msisdn,iccid,class,status,name,id_document,nationality,city,k,opc}" \
    -v city="$CITY" 'BEGIN {
      ncols = split("imsi,msisdn,iccid,class,status,name,id_document,nationality,city,k,opc", col, ",")
      split("citizen foreigner official", class, " ")
      print header
      for (j = 0; j < n; j++) {
        i = first + j
        v["imsi"] = sprintf("4670577%08d", i)
        v["msisdn"] = sprintf("8501977%07d", i)
        v["iccid"] = sprintf("89850057%011d", i)
        v["class"] = class[i % 3 + 1]
        v["status"] = "active"
        v["name"] = sprintf("\"Kim, No. %d\"", i)
        v["id_document"] = sprintf("P%07d", i)
        v["nationality"] = "PRK"
        v["city"] = city
        v["k"] = sprintf("6b6b6b6b6b6b6b6b6b6b6b6b%08x", i)
        v["opc"] = "cd63cb71954a9f4e48a5994e37a02baf"
        if (j + 2 == bad_line)
          v[bad_col] = bad_val
        row = v[col[1]]
        for (c = 2; c <= ncols; c++)
          row = row "," v[col[c]]
        print row
      }
    }' >"$1"
}

base=$(api_count)
cit=$(api_count class=citizen)

# --- a good file ---------------------------------------------------------------
gen "$T/good.csv" 1 3000
run import subscribers "$T/good.csv"
expect_rc 0 "import of a good file"
expect_eq "$OUT" "imported 3000 subscribers" "import of a good file"
expect_eq "$ERR" "" "import of a good file: stderr (not a terminal: no progress bar)"
count=$((base + 3000))
expect_eq "$(cli_count --limit 1000)" "$count" "sub list --all after the import"
expect_eq "$(api_count)" "$count" "the API's count after the import"
expect_eq "$(cli_count --class citizen --limit 1000)" $((cit + 1000)) "citizens imported"
run sub show 467057700000005
expect_rc 0 "show an imported subscriber"
grep -qx "name: *Kim, No. 5" <<<"$OUT" || fail "imported name (quoted comma) in: $OUT"
grep -qx "auth.op_kind: *opc" <<<"$OUT" || fail "imported op_kind in: $OUT"
grep -qx "msisdn: *85019770000005" <<<"$OUT" || fail "imported msisdn in: $OUT"

# --- one bad row: FILE:LINE: column C: error, and nothing imported ----------------
# bad NAME LINE COLUMN VALUE WANT_COLUMN [HEADER]: a 20-row file of new IMSIs
# whose line LINE has VALUE in COLUMN (or whose header is HEADER); checks the
# exit status, that the message names the place (LINE, WANT_COLUMN), and that
# nothing changed. Leaves the message in ERR.
bad() {
  local f="$T/$1.csv" at="$T/$1.csv:$2: column $5: "
  gen "$f" 500001 20 "$2" "$3" "$4" "${6:-}"
  run import subscribers "$f"
  expect_rc 1 "import $1"
  expect_eq "$(grep -c . <<<"$ERR")" 1 "import $1: one line of error"
  expect_eq "${ERR:0:${#at}}" "$at" "import $1: the place"
  [ "${ERR#"$at"}" != "" ] || fail "import $1: no error message after the place"
  expect_eq "$OUT" "" "import $1: stdout"
  expect_eq "$(api_count)" "$count" "import $1: count unchanged"
}

bad bad_imsi 5 imsi 4670577123 imsi
expect_eq "$ERR" "$T/bad_imsi.csv:5: column imsi: must be 14 or 15 digits" "import bad_imsi"
bad bad_k 7 k 0123456789abcdef0123456789abcdeg k
case "$ERR" in *0123456789abcdef0123456789abcde*) fail "import bad_k: the key is echoed" ;; esac
bad dup_in_file 9 imsi 467057700500001 imsi
bad in_store 4 imsi 467057700000017 imsi
bad unknown_column 1 "" "" stauts \
  "imsi,msisdn,iccid,class,stauts,name,id_document,nationality,city,k,opc"
bad unknown_class 6 class tourist class
# The subscribers of the refused files' other rows are not there either.
run sub show 467057700500001
expect_rc 1 "a good row of a refused file"

# --json: the API's answer as is, and still the place on stderr.
run --json import subscribers "$T/bad_imsi.csv"
expect_rc 1 "import --json of a bad file"
expect_eq "$(jq -r '.line' <<<"$OUT")" 5 "import --json line"
expect_eq "$(jq -r '.column' <<<"$OUT")" imsi "import --json column"

# --- progress on a terminal, standard input ----------------------------------------
gen "$T/tty.csv" 10001 2000
script -qec "'$KORYO' import subscribers '$T/tty.csv'" "$T/typescript" >/dev/null ||
  fail "import on a terminal failed: $(cat "$T/typescript")"
grep -q "importing…" "$T/typescript" || fail "no 'importing…' on a terminal: $(cat "$T/typescript")"
grep -q "imported 2000 subscribers" "$T/typescript" || fail "import on a terminal: no result"
count=$((count + 2000))
gen "$T/quiet.csv" 20001 10
script -qec "'$KORYO' import subscribers --no-progress '$T/quiet.csv'" "$T/typescript2" >/dev/null ||
  fail "import --no-progress failed"
if grep -q "importing" "$T/typescript2"; then fail "--no-progress drew progress"; fi
count=$((count + 10))

gen "$T/stdin.csv" 30001 500
RC=0
"$KORYO" import subscribers - <"$T/stdin.csv" >"$T/out" 2>"$T/err" || RC=$?
cat "$T/out" "$T/err" >>"$T/cli-output"
expect_eq "$RC" 0 "import from standard input: $(cat "$T/err")"
expect_eq "$(cat "$T/out")" "imported 500 subscribers" "import from standard input"
count=$((count + 500))
expect_eq "$(api_count)" "$count" "count after all imports"

# --- the progress of an import: GET /v1/import/progress/ID ----------------------------
# An import of 200k rows named by X-Koryo-Import-Id, sent with curl in the
# background; its progress is polled until koryod is checking or writing with
# rows > 0; the import itself still answers 200 as without the header.
TOKEN=$(cat "$KORYO_TOKEN_FILE")
ID="cli-import-test-$$-$RANDOM"
gen "$T/progress.csv" 100001 200000
curl -sS -o "$T/progress.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: text/csv' -H "X-Koryo-Import-Id: $ID" \
  --data-binary @"$T/progress.csv" "$KORYO_API/v1/import/subscribers" >"$T/progress.code" &
IMPORT_PID=$!
seen="" last=""
for _ in $(seq 1 2400); do
  last=$(curl -sS -H "Authorization: Bearer $TOKEN" "$KORYO_API/v1/import/progress/$ID" || true)
  phase=$(jq -r '.phase // empty' <<<"$last" 2>/dev/null || true)
  rows=$(jq -r '.rows // 0' <<<"$last" 2>/dev/null || echo 0)
  case "$phase" in
  checking | writing) if [ "$rows" -gt 0 ]; then seen="$phase $rows" && break; fi ;;
  done | failed) break ;;
  esac
  sleep 0.05
done
wait "$IMPORT_PID" || fail "the import with X-Koryo-Import-Id: curl failed"
expect_eq "$(cat "$T/progress.code")" 200 "the import with X-Koryo-Import-Id: $(cat "$T/progress.json")"
expect_eq "$(jq -r .imported "$T/progress.json")" 200000 "the import with X-Koryo-Import-Id"
[ -n "$seen" ] || fail "progress: never checking or writing with rows > 0 (last answer: $last)"
echo "progress seen: $seen"
count=$((count + 200000))
# The ended import stays readable for a minute: done, every row, every byte.
last=$(curl -sS -H "Authorization: Bearer $TOKEN" "$KORYO_API/v1/import/progress/$ID")
expect_eq "$(jq -r '[.id,.phase,(.rows|tostring),(.bytes|tostring)] | join(" ")' <<<"$last")" \
  "$ID done 200000 $(stat -c %s "$T/progress.csv")" "progress after the import"
code=$(curl -sS -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "$KORYO_API/v1/import/progress/no-such-import-0123456789")
expect_eq "$code" 404 "progress of an unknown id"
code=$(curl -sS -o "$T/out" -w '%{http_code}' "$KORYO_API/v1/import/progress/$ID")
expect_eq "$code" 401 "progress without a token"
code=$(curl -sS -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer x$TOKEN" \
  "$KORYO_API/v1/import/progress/$ID")
expect_eq "$code" 401 "progress with a wrong token"

# On a terminal koryo shows the rows koryod checks and writes, as a percentage
# of the data lines of the file; the result line is unchanged.
gen "$T/rows.csv" 300001 100000
script -qec "'$KORYO' import subscribers '$T/rows.csv'" /dev/null >"$T/typescript3" ||
  fail "import on a terminal failed: $(cat "$T/typescript3")"
grep -aqE '(checking|writing) +\[[#.]+\] +[0-9]+%  [0-9]+ / 100000 rows' "$T/typescript3" ||
  fail "no percentage of rows checked or written on a terminal: $(tr '\r' '\n' <"$T/typescript3")"
grep -aq "imported 100000 subscribers" "$T/typescript3" || fail "import of rows on a terminal: no result"
count=$((count + 100000))
# (Counted from /metrics: paging through 300k subscribers takes half a minute.)
expect_eq "$(curl -fsS -H "Authorization: Bearer $TOKEN" "$KORYO_API/metrics" |
  awk '/^koryo_subscribers\{/ { n += $2 } END { print n + 0 }')" "$count" \
  "count after the imports with progress"

# --- a big file ------------------------------------------------------------------------
if [ "${KORYO_TEST_BIG_IMPORT:-0}" = 1 ]; then
  gen "$T/big.csv" 1000001 1000000
  /usr/bin/time -f "%e s, %M KiB max RSS" "$KORYO" import subscribers "$T/big.csv" \
    >"$T/out" 2>"$T/time" || fail "big import: $(cat "$T/time")"
  expect_eq "$(cat "$T/out")" "imported 1000000 subscribers" "big import"
  echo "big import: $(stat -c %s "$T/big.csv") bytes, $(tail -n 1 "$T/time")"
  count=$((count + 1000000))
  expect_eq "$(api_count)" "$count" "count after the big import"
fi

# --- no key from a file is ever printed ------------------------------------------------
koryod_stop
for i in 1 5 3000 10001 30001; do
  expect_no_secret "$(printf '6b6b6b6b6b6b6b6b6b6b6b6b%08x' $i)" "the K of row $i"
done
expect_no_secret cd63cb71954a9f4e48a5994e37a02baf "the OPc"
echo "ok"
