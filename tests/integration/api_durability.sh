#!/usr/bin/env bash
# Secrets and durability against a real koryod with the Koryolink demo profile:
# a K and OP given on create never show in an API response, koryod's log or the
# SQLite store (as hex in either case, or as raw bytes); the master key and token
# files are mode 0600; after SIGTERM (clean exit) and a restart without
# --profile everything is still there; and after kill -9 right after a 201 the
# created subscriber is there (acknowledged means durable).
source "$KORYO_SRC/tests/integration/lib.sh"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

CSV="$KORYO_SRC/profiles/koryolink/subscribers.csv"
K=11223344556677889900aabbccddeeff
OP=cafebabedeadbeef0f1e2d3c4b5a6978
K2=0f0e0d0c0b0a09080706050403020100
OPC2=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
JSON=(-H 'Content-Type: application/json')
: >"$T/api-output"

total() {
  api GET /metrics -f | awk '/^koryo_subscribers\{/ { n += $2 } END { print n + 0 }'
}
# hex_to_pcre HEX: \xHH escapes for grep -P.
hex_to_pcre() { sed 's/../\\x&/g' <<<"$1"; }
# no_secret_in WHAT FILES...: neither K nor OP, as hex in lower or upper case or
# as raw bytes, is in any of FILES.
no_secret_in() {
  local what=$1 s f
  shift
  for f in "$@"; do
    [ -e "$f" ] || continue
    for s in "$K" "$OP" "$K2" "$OPC2"; do
      if LC_ALL=C grep -qaF -e "$s" -e "${s^^}" "$f"; then fail "$what: $f holds $s as hex"; fi
      if LC_ALL=C grep -qaiF "$s" "$f"; then fail "$what: $f holds $s as hex (mixed case)"; fi
      if LC_ALL=C grep -qaP "$(hex_to_pcre "$s")" "$f"; then fail "$what: $f holds $s as raw bytes"; fi
    done
  done
}
sub_json() { jq -cS 'del(.auth.sqn)' <<<"$1"; }

demo_total=$(($(wc -l <"$CSV") - 1))
expect_eq "$(total)" "$demo_total" "subscribers after the profile install"

# Sanity: the raw-byte search finds bytes that are there.
printf 'xx\x11\x22\x33\x44\x55\x66\x77\x88\x99\x00\xaa\xbb\xcc\xdd\xee\xffyy' >"$T/probe.bin"
LC_ALL=C grep -qaP "$(hex_to_pcre "$K")" "$T/probe.bin" || fail "the raw-byte search does not work"
rm "$T/probe.bin"

# --- secrets --------------------------------------------------------------------
CREATE="{\"imsi\":\"467059950000001\",\"msisdn\":\"850191295001\",\"iccid\":\"8985005995000000011\",
\"class\":\"foreigner\",\"status\":\"active\",\"holder\":{\"name\":\"Jon Secret\",\"id_document\":\"GB1234567\",\"nationality\":\"GBR\"},
\"city\":\"Pyongyang\",\"k\":\"$K\",\"op\":\"$OP\"}"
call POST /v1/subscribers "${JSON[@]}" -d "$CREATE"
expect_code 201 "create with a known K and OP"
created=$BODY
expect_eq "$(jget .auth.op_kind)" op "op_kind"
# Upper-case hex K/OPc on a second one.
call POST /v1/subscribers "${JSON[@]}" \
  -d "{\"imsi\":\"467059950000002\",\"class\":\"citizen\",\"k\":\"${K2^^}\",\"opc\":\"${OPC2^^}\"}"
expect_code 201 "create with upper-case hex K and OPc"
# Every way of reading them back.
for key in 467059950000001 msisdn:850191295001 iccid:8985005995000000011 467059950000002; do
  call GET "/v1/subscribers/$key"
  expect_code 200 "GET $key"
done
call GET "/v1/subscribers?class=foreigner&status=active&limit=1000"
expect_code 200 "list"
call GET "/v1/subscribers?after=467059950000000&limit=5"
expect_code 200 "list after"
call PATCH /v1/subscribers/467059950000001 "${JSON[@]}" -d '{"city":"Nampo"}'
expect_code 200 "PATCH"
created=$BODY
call PATCH /v1/subscribers/467059950000001 "${JSON[@]}" -d "{\"k\":\"$K\"}"
expect_code 400 "PATCH k"
call POST /v1/subscribers "${JSON[@]}" -d "${CREATE/467059950000001/467059950000009}"
expect_code 409 "create a duplicate"
call POST /v1/subscribers "${JSON[@]}" \
  -d "{\"imsi\":\"467059950000008\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\",\"opc\":\"$OPC2\"}"
expect_code 400 "create with op and opc"
api GET /metrics -f >>"$T/api-output"
n=$(grep '^{' "$T/api-output" |
  jq -s '[.[] | .. | objects | keys[] | select(. == "k" or . == "op" or . == "opc")] | length')
expect_eq "$n" 0 "k/op/opc members in API responses"
no_secret_in "API responses" "$T/api-output"
no_secret_in "running koryod" "$T/koryod.log" "$T"/data/koryo.db*
expect_eq "$(stat -c %a "$T/data/master.key")" 600 "master key file mode"
expect_eq "$(stat -c %a "$T/data/api.token")" 600 "token file mode"

# --- clean restart ------------------------------------------------------------------
koryod_stop
grep -q 'stopped cleanly' "$T/koryod.log" || fail "no 'stopped cleanly' in the log"
no_secret_in "stopped koryod" "$T/koryod.log" "$T"/data/koryo.db*
koryod_start
call GET /v1/subscribers/467059950000001
expect_code 200 "the created subscriber after a restart"
expect_eq "$(sub_json "$BODY")" "$(sub_json "$created")" "the created subscriber after a restart"
expect_eq "$(jget '.holder | [.name,.id_document,.nationality] | join("|")')" \
  "Jon Secret|GB1234567|GBR" "its holder after a restart"
call GET /v1/subscribers/467059950000002
expect_code 200 "the second subscriber after a restart"
expect_eq "$(jget .auth.op_kind)" opc "op_kind after a restart"
expect_eq "$(total)" $((demo_total + 2)) "subscribers after a restart"
call GET /v1/subscribers/467052000000300
expect_code 200 "the last demo official after a restart"
IFS=, read -r _ c_msisdn _ c_class c_status c_name _ _ c_city _ < <(grep '^467052000000300,' "$CSV")
expect_eq "$(jget '[.msisdn,.class,.status,.holder.name,.city] | join(",")')" \
  "$c_msisdn,$c_class,$c_status,$c_name,$c_city" "a demo subscriber after a restart"
grep -q 'not installed' "$T/koryod.log" && fail "the restart without --profile tried a profile"
expect_eq "$(stat -c %a "$T/data/master.key")" 600 "master key file mode after a restart"
expect_eq "$(stat -c %a "$T/data/api.token")" 600 "token file mode after a restart"

# --- kill -9 right after a 201 --------------------------------------------------------
for i in 1 2 3; do
  call POST /v1/subscribers "${JSON[@]}" \
    -d "{\"imsi\":\"46705995100000$i\",\"class\":\"official\",\"msisdn\":\"85019129510$i\",\"k\":\"$K\",\"op\":\"$OP\"}"
  expect_code 201 "create $i before kill -9"
  kill -9 "$KORYOD_PID"
  wait "$KORYOD_PID" 2>/dev/null || true
  KORYOD_PID=""
  koryod_start
  call GET "/v1/subscribers/46705995100000$i"
  expect_code 200 "subscriber $i after kill -9 and restart"
  expect_eq "$(jget .msisdn)" "85019129510$i" "subscriber $i MSISDN after kill -9"
  expect_eq "$(total)" $((demo_total + 2 + i)) "subscribers after kill -9 number $i"
done
# A PATCH and a DELETE acknowledged just before kill -9 are durable too.
call PATCH /v1/subscribers/467059951000001 "${JSON[@]}" -d '{"status":"suspended"}'
expect_code 200 "PATCH before kill -9"
call DELETE /v1/subscribers/467059951000002
expect_code 204 "DELETE before kill -9"
kill -9 "$KORYOD_PID"
wait "$KORYOD_PID" 2>/dev/null || true
KORYOD_PID=""
koryod_start
call GET /v1/subscribers/467059951000001
expect_eq "$(jget .status)" suspended "PATCH after kill -9"
call GET /v1/subscribers/467059951000002
expect_code 404 "DELETE after kill -9"
expect_eq "$(total)" $((demo_total + 4)) "subscribers after the last kill -9"
no_secret_in "after kill -9" "$T/koryod.log" "$T"/data/koryo.db* "$T/api-output"
koryod_stop

echo "PASS api_durability"
