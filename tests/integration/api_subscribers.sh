#!/usr/bin/env bash
# The subscriber REST API (docs/api.md) against a real koryod with the Koryolink
# demo profile: create, get by IMSI / msisdn: / iccid:, list with filters and
# paging, PATCH, DELETE, bulk import; every refused request gets the exact status,
# error text and `field`, and changes nothing (the full list and /metrics before
# and after are identical).
source "$KORYO_SRC/tests/integration/lib.sh"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

CSV="$KORYO_SRC/profiles/koryolink/subscribers.csv"
K=11223344556677889900aabbccddeeff
OP=cafebabedeadbeef0f1e2d3c4b5a6978
OPC=cd63cb71954a9f4e48a5994e37a02baf

# no_secrets WHAT: the response body has no k/op/opc member anywhere, nor the hex.
no_secrets() {
  local n
  n=$(jq '[.. | objects | keys[] | select(. == "k" or . == "op" or . == "opc")] | length' <<<"$BODY")
  expect_eq "$n" 0 "$1: secret members in the response"
  local s
  for s in "$K" "$OP" "$OPC"; do
    if grep -qiF "$s" <<<"$BODY"; then fail "$1: a secret shows in: $BODY"; fi
  done
}
# all_subscribers: every subscriber, the raw pages of limit=1000.
all_subscribers() {
  local after="" page next
  while :; do
    page=$(api GET "/v1/subscribers?limit=1000${after:+&after=$after}" -f) ||
      fail "listing all subscribers failed"
    page=${page%$'\n'*}
    echo "$page"
    next=$(jq -r .next <<<"$page")
    [ "$next" != null ] || break
    after=$next
  done
}
metric_counts() {
  api GET /metrics -f | grep '^koryo_subscribers{'
}
state() {
  all_subscribers
  metric_counts
}
# refused METHOD PATH STATUS FIELD ERROR WHAT [curl args...]: the request is
# refused exactly so, and the subscriber state is unchanged.
refused() {
  local method=$1 path=$2 status=$3 field=$4 error=$5 what=$6
  shift 6
  local before after
  before=$(state)
  call "$method" "$path" "$@"
  expect_error "$status" "$field" "$error" "$what"
  after=$(state)
  [ "$before" == "$after" ] || fail "$what: the refused request changed the subscribers"
}
post() { refused POST /v1/subscribers "$@"; }
# body EXTRA: a create body for IMSI 467059990000003 with good K and OP, plus EXTRA.
body() { echo "{\"imsi\":\"467059990000003\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"$1}"; }
# csv_count AWK-CONDITION: demo CSV rows matching ($4 class, $5 status, $9 city).
csv_count() { awk -F, "NR > 1 && ($1) { n++ } END { print n + 0 }" "$CSV"; }
metric() {
  api GET /metrics -f | awk -v k="koryo_subscribers{class=\"$1\",status=\"$2\"}" '$1 == k { print $2 }'
}
total() {
  api GET /metrics -f | awk '/^koryo_subscribers\{/ { n += $2 } END { print n + 0 }'
}
JSON=(-H 'Content-Type: application/json')

expect_eq "$(total)" "$(csv_count 1)" "subscribers after the profile install"
base=$(total)

# --- create -------------------------------------------------------------------
CREATE="{\"imsi\":\"467059990000001\",\"msisdn\":\"+850191299001\",\"iccid\":\"8985005999000000019\",
\"class\":\"citizen\",\"holder\":{\"name\":\"Ri Chol Su\",\"id_document\":\"P9990001\",\"nationality\":\"PRK\"},
\"city\":\"Pyongyang\",\"k\":\"$K\",\"op\":\"$OP\",\"amf\":\"8000\",\"sqn\":32,\"ind_bitlen\":4}"
call POST /v1/subscribers "${JSON[@]}" -d "$CREATE"
expect_code 201 "create"
no_secrets "create"
expect_eq "$(jget '[.imsi,.msisdn,.iccid,.class,.status,.city] | join(" ")')" \
  "467059990000001 850191299001 8985005999000000019 citizen pending Pyongyang" "create: fields"
expect_eq "$(jget '.holder | [.name,.id_document,.nationality] | join("|")')" \
  "Ri Chol Su|P9990001|PRK" "create: holder"
expect_eq "$(jget '.auth | [.algorithm,.op_kind,.amf,(.sqn|tostring),(.ind_bitlen|tostring)] | join(" ")')" \
  "milenage op 8000 32 4" "create: auth"
expect_eq "$(jget .activated_at)" null "create: activated_at of a pending subscriber"
[[ "$(jget .created_at)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
  fail "create: created_at is '$(jget .created_at)'"
expect_eq "$(jget 'keys | sort | join(",")')" \
  "activated_at,auth,city,class,created_at,holder,iccid,imei,imei_updated_at,imsi,msisdn,serving,sip_password_set,status" "create: members"
created=$BODY
expect_eq "$(total)" $((base + 1)) "subscribers after create"
expect_eq "$(metric citizen pending)" $(($(csv_count '$4 == "citizen" && $5 == "pending"') + 1)) \
  "citizen/pending after create"

# Defaults: status pending, amf 0000, sqn 0, ind_bitlen 5 (auc.ind_bitlen); opc kind.
call POST /v1/subscribers "${JSON[@]}" -d "{\"imsi\":\"46705999000002\",\"class\":\"foreigner\",\"status\":\"active\",\"k\":\"$K\",\"opc\":\"$OPC\"}"
expect_code 201 "create with defaults (14-digit IMSI)"
no_secrets "create with defaults"
expect_eq "$(jget '[.imsi,.status,(.msisdn|tostring),(.iccid|tostring),(.city|tostring)] | join(" ")')" \
  "46705999000002 active null null null" "create with defaults: fields"
expect_eq "$(jget '.auth | [.op_kind,.amf,(.sqn|tostring),(.ind_bitlen|tostring)] | join(" ")')" \
  "opc 0000 0 5" "create with defaults: auth"
[ "$(jget .activated_at)" != null ] || fail "created active but activated_at is null: $BODY"

# --- get ----------------------------------------------------------------------
for key in 467059990000001 msisdn:850191299001 msisdn:+850191299001 iccid:8985005999000000019; do
  call GET "/v1/subscribers/$key"
  expect_code 200 "GET $key"
  no_secrets "GET $key"
  expect_eq "$BODY" "$created" "GET $key"
done
for key in 467059990000009 msisdn:850191299009 iccid:8985005999000000098 bogus msisdn:abc; do
  call GET "/v1/subscribers/$key"
  expect_error 404 - "subscriber not found" "GET $key"
done
# A demo subscriber, as in the CSV.
call GET /v1/subscribers/467051000000007
expect_code 200 "GET a demo subscriber"
no_secrets "GET a demo subscriber"
IFS=, read -r c_imsi c_msisdn c_iccid c_class c_status c_name c_doc c_nat c_city _ < <(grep '^467051000000007,' "$CSV")
expect_eq "$(jget '[.imsi,.msisdn,.iccid,.class,.status,.holder.name,.holder.id_document,.holder.nationality,.city] | join(",")')" \
  "$c_imsi,$c_msisdn,$c_iccid,$c_class,$c_status,$c_name,$c_doc,$c_nat,$c_city" "demo subscriber"

# --- list: filters and paging -------------------------------------------------
call DELETE /v1/subscribers/46705999000002
expect_code 204 "delete the defaults subscriber"
call DELETE /v1/subscribers/467059990000001
expect_code 204 "delete the created subscriber (for list counts)"
# list_count QUERY PAGE: walks the pages of QUERY with limit PAGE until next is
# null; prints the number of items; checks IMSI order and that every item matches.
list_count() {
  local q=$1 lim=$2 after="" n=0 pages=0 last="" next items
  while :; do
    call GET "/v1/subscribers?$q&limit=$lim${after:+&after=$after}"
    expect_code 200 "list $q page $pages"
    no_secrets "list $q"
    items=$(jget '.items | length')
    [ "$items" -le "$lim" ] || fail "list $q: $items items on a page of $lim"
    jget '.items[].imsi' >>"$T/imsis"
    n=$((n + items))
    pages=$((pages + 1))
    next=$(jget .next)
    [ "$next" == null ] && break
    expect_eq "$next" "$(jget '.items[-1].imsi')" "list $q: next is the last IMSI of the page"
    after=$next
    [ $pages -lt 2000 ] || fail "list $q: no end of the pages"
  done
  echo "$n"
}
check_list() {
  local q=$1 lim=$2 cond=$3 jqsel=$4
  : >"$T/imsis"
  local n
  n=$(list_count "$q" "$lim") || exit 1
  expect_eq "$n" "$(csv_count "$cond")" "list $q (limit $lim): count"
  sort -c "$T/imsis" || fail "list $q: not in IMSI order"
  expect_eq "$(sort -u "$T/imsis" | wc -l)" "$n" "list $q: duplicates across pages"
  expect_eq "$(sort "$T/imsis" | tr '\n' ' ')" \
    "$(awk -F, "NR > 1 && ($cond) { print \$1 }" "$CSV" | sort | tr '\n' ' ')" "list $q: IMSIs"
  # Every item of one page matches the filter.
  call GET "/v1/subscribers?$q&limit=1000"
  expect_eq "$(jget "[.items[] | select(($jqsel) | not)] | length")" 0 "list $q: items off the filter"
}
check_list "x=1" 1000 1 true
check_list "x=1" 100 1 true
check_list "class=citizen" 37 '$4 == "citizen"' '.class == "citizen"'
check_list "status=suspended" 5 '$5 == "suspended"' '.status == "suspended"'
check_list "city=Pyongyang" 64 '$9 == "Pyongyang"' '.city == "Pyongyang"'
check_list "class=official&status=active&city=Pyongyang" 10 \
  '$4 == "official" && $5 == "active" && $9 == "Pyongyang"' \
  '.class == "official" and .status == "active" and .city == "Pyongyang"'
check_list "class=foreigner&status=terminated" 3 '$4 == "foreigner" && $5 == "terminated"' \
  '.class == "foreigner" and .status == "terminated"'
call GET "/v1/subscribers"
expect_code 200 "list, default limit"
expect_eq "$(jget '.items | length')" 100 "list: default page size"
expect_eq "$(jget .next)" "$(jget '.items[99].imsi')" "list: default page next"

refused GET "/v1/subscribers?limit=0" 400 limit "must be an integer from 1 to 1000" "list limit=0"
refused GET "/v1/subscribers?limit=1001" 400 limit "must be an integer from 1 to 1000" "list limit=1001"
refused GET "/v1/subscribers?limit=ten" 400 limit "must be an integer from 1 to 1000" "list limit=ten"
refused GET "/v1/subscribers?status=bogus" 400 status \
  "must be one of: pending, active, suspended, terminated" "list status=bogus"
refused GET "/v1/subscribers?class=peasant" 400 class \
  "must be one of: citizen, foreigner, official" "list class=peasant"
refused GET "/v1/subscribers?city=Seoul" 400 city "unknown city 'Seoul'" "list city=Seoul"
refused GET "/v1/subscribers?after=12" 400 after "must be an IMSI" "list after=12"

# Recreate the test subscriber for the rest.
call POST /v1/subscribers "${JSON[@]}" -d "$CREATE"
expect_code 201 "create again"
created=$BODY

# --- bad input on create ------------------------------------------------------
post 400 - "invalid JSON at line 1 column 11: ':' expected near 'bad'" "invalid JSON" \
  "${JSON[@]}" -d '{"imsi" bad'
post 400 - "the body must be a JSON object" "a JSON array body" "${JSON[@]}" -d '["imsi"]'
# jansson reads only objects and arrays at the top level.
post 400 - "invalid JSON at line 1 column 6: '[' or '{' expected near '\"imsi\"'" "a JSON string body" \
  "${JSON[@]}" -d '"imsi"'
post 400 - "a JSON object body is required" "no body" "${JSON[@]}"
post 400 colour "unknown field" "unknown field" "${JSON[@]}" -d "$(body ',"colour":"red"')"
post 400 holder.unknown "unknown field" "holder.unknown" "${JSON[@]}" \
  -d "$(body ',"holder":{"name":"Ri","unknown":"x"}')"
post 400 holder "must be an object" "holder a string" "${JSON[@]}" -d "$(body ',"holder":"Ri"')"
post 400 imsi "must be 14 or 15 digits" "13-digit IMSI" "${JSON[@]}" \
  -d "{\"imsi\":\"4670599900003\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 400 imsi "must start with the network's MCC+MNC 46705" "IMSI of another MCC" "${JSON[@]}" \
  -d "{\"imsi\":\"468059990000003\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 400 imsi "must start with the network's MCC+MNC 46705" "IMSI of another MNC" "${JSON[@]}" \
  -d "{\"imsi\":\"467069990000003\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 400 imsi "is required" "no IMSI" "${JSON[@]}" -d "{\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 400 k "must be 32 hex digits" "K of 31 hex digits" "${JSON[@]}" \
  -d "{\"imsi\":\"467059990000003\",\"class\":\"citizen\",\"k\":\"${K:0:31}\",\"op\":\"$OP\"}"
post 400 k "must be 32 hex digits" "K not hex" "${JSON[@]}" \
  -d "{\"imsi\":\"467059990000003\",\"class\":\"citizen\",\"k\":\"${K:0:31}g\",\"op\":\"$OP\"}"
post 400 k "is required" "no K" "${JSON[@]}" \
  -d "{\"imsi\":\"467059990000003\",\"class\":\"citizen\",\"op\":\"$OP\"}"
post 400 opc "exactly one of op and opc is required" "both OP and OPc" "${JSON[@]}" \
  -d "$(body ",\"opc\":\"$OPC\"")"
post 400 op "exactly one of op and opc is required" "neither OP nor OPc" "${JSON[@]}" \
  -d "{\"imsi\":\"467059990000003\",\"class\":\"citizen\",\"k\":\"$K\"}"
post 400 class "must be one of: citizen, foreigner, official" "unknown class" "${JSON[@]}" \
  -d "{\"imsi\":\"467059990000003\",\"class\":\"peasant\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 400 class "is required" "no class" "${JSON[@]}" \
  -d "{\"imsi\":\"467059990000003\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 400 city "unknown city 'Seoul'" "unknown city" "${JSON[@]}" -d "$(body ',"city":"Seoul"')"
post 400 holder.nationality "must be an ISO 3166 alpha-3 code such as PRK" "nationality xx" \
  "${JSON[@]}" -d "$(body ',"holder":{"nationality":"xx"}')"
post 400 sqn "must be a non-negative integer" "sqn as a string" "${JSON[@]}" -d "$(body ',"sqn":"5"')"
post 400 sqn "must be a non-negative integer" "sqn negative" "${JSON[@]}" -d "$(body ',"sqn":-1')"
post 400 sqn "must be an integer from 0 to 2^48-1" "sqn 2^48" "${JSON[@]}" \
  -d "$(body ',"sqn":281474976710656')"
post 400 ind_bitlen "must be an integer from 0 to 10" "ind_bitlen 11" "${JSON[@]}" \
  -d "$(body ',"ind_bitlen":11')"
post 400 amf "must be 4 hex digits" "amf of 3 digits" "${JSON[@]}" -d "$(body ',"amf":"800"')"
post 400 status "must be one of: pending, active, suspended, terminated" "unknown status" \
  "${JSON[@]}" -d "$(body ',"status":"sleeping"')"
post 400 msisdn "must be an E.164 number: 5 to 15 digits, optional leading +" "msisdn of 4 digits" \
  "${JSON[@]}" -d "$(body ',"msisdn":"8501"')"
post 400 iccid "must be 18 to 22 digits" "iccid of 17 digits" "${JSON[@]}" \
  -d "$(body ',"iccid":"89850059990000000"')"
post 409 imsi "already in use by another subscriber" "duplicate IMSI" "${JSON[@]}" -d "$CREATE"
post 409 imsi "already in use by another subscriber" "duplicate of a demo IMSI" "${JSON[@]}" \
  -d "{\"imsi\":\"467050000000001\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"}"
post 409 msisdn "already in use by another subscriber" "duplicate MSISDN" "${JSON[@]}" \
  -d "$(body ',"msisdn":"850191299001"')"
post 409 msisdn "already in use by another subscriber" "duplicate MSISDN with +" "${JSON[@]}" \
  -d "$(body ',"msisdn":"+85019120000001"')"
post 409 iccid "already in use by another subscriber" "duplicate ICCID" "${JSON[@]}" \
  -d "$(body ',"iccid":"8985005999000000019"')"
post 409 iccid "already in use by another subscriber" "duplicate of a demo ICCID" "${JSON[@]}" \
  -d "$(body ',"iccid":"8985005000000000017"')"

# --- PATCH --------------------------------------------------------------------
S=/v1/subscribers/467059990000001
call PATCH $S "${JSON[@]}" -d '{"status":"active"}'
expect_code 200 "PATCH status active"
no_secrets "PATCH"
expect_eq "$(jget .status)" active "PATCH status active"
act=$(jget .activated_at)
[[ "$act" =~ ^[0-9]{4}-.*Z$ ]] || fail "activated_at not set on the first activation: $BODY"
sleep 1.1
call PATCH $S "${JSON[@]}" -d '{"status":"suspended"}'
expect_code 200 "PATCH status suspended"
expect_eq "$(jget .status)" suspended "PATCH status suspended"
expect_eq "$(jget .activated_at)" "$act" "activated_at after suspension"
call PATCH $S "${JSON[@]}" -d '{"status":"active"}'
expect_code 200 "PATCH status active again"
expect_eq "$(jget .activated_at)" "$act" "activated_at after a second activation"
call PATCH $S "${JSON[@]}" \
  -d '{"class":"official","msisdn":"+850191299002","city":"Nampo","holder":{"name":"Ri Chol Jin","nationality":"CHN"}}'
expect_code 200 "PATCH class, msisdn, city, holder members"
expect_eq "$(jget '[.class,.msisdn,.city,.holder.name,.holder.id_document,.holder.nationality,.status,.iccid] | join(",")')" \
  "official,850191299002,Nampo,Ri Chol Jin,P9990001,CHN,active,8985005999000000019" "PATCH result"
expect_eq "$(jget '[.created_at,.activated_at,(.auth|tostring)] | join(" ")')" \
  "$(jq -r '[.created_at,"'"$act"'",(.auth|tostring)] | join(" ")' <<<"$created")" "PATCH kept the rest"
patched=$BODY
call GET $S
expect_eq "$BODY" "$patched" "GET after PATCH"
call GET /v1/subscribers/msisdn:850191299002
expect_code 200 "GET by the new MSISDN"
call GET /v1/subscribers/msisdn:850191299001
expect_error 404 - "subscriber not found" "GET by the old MSISDN"
call PATCH /v1/subscribers/msisdn:850191299002 "${JSON[@]}" -d '{"msisdn":null}'
expect_code 200 "PATCH msisdn null"
expect_eq "$(jget .msisdn)" null "msisdn after PATCH null"
call GET /v1/subscribers/msisdn:850191299002
expect_error 404 - "subscriber not found" "GET by a cleared MSISDN"
# The cleared number is free again.
call PATCH $S "${JSON[@]}" -d '{"msisdn":"850191299002"}'
expect_code 200 "PATCH msisdn back"
expect_eq "$(jget .msisdn)" 850191299002 "msisdn set again"
expect_eq "$(metric official active)" $(($(csv_count '$4 == "official" && $5 == "active"') + 1)) \
  "official/active after PATCH"

RO="unknown or read-only field (can change: status, class, msisdn, city, holder, sip_password)"
for f in imsi k op opc iccid amf sqn ind_bitlen created_at activated_at auth; do
  refused PATCH $S 400 "$f" "$RO" "PATCH read-only $f" "${JSON[@]}" -d "{\"$f\":\"1\"}"
done
refused PATCH $S 400 imsi "$RO" "PATCH status and imsi" "${JSON[@]}" \
  -d '{"status":"terminated","imsi":"467059990000005"}'
refused PATCH $S 409 msisdn "already in use by another subscriber" "PATCH msisdn in use" \
  "${JSON[@]}" -d '{"msisdn":"85019120000001"}'
refused PATCH $S 409 msisdn "already in use by another subscriber" "PATCH msisdn in use, with a status" \
  "${JSON[@]}" -d '{"status":"terminated","msisdn":"85019120000001"}'
refused PATCH $S 400 status "must be one of: pending, active, suspended, terminated" \
  "PATCH bad status" "${JSON[@]}" -d '{"status":"gone"}'
refused PATCH $S 400 class "must be one of: citizen, foreigner, official" "PATCH bad class" \
  "${JSON[@]}" -d '{"class":"peasant"}'
refused PATCH $S 400 city "unknown city 'Seoul'" "PATCH bad city" "${JSON[@]}" -d '{"city":"Seoul"}'
refused PATCH $S 400 holder.unknown "unknown field" "PATCH holder.unknown" "${JSON[@]}" \
  -d '{"holder":{"unknown":"x"}}'
refused PATCH $S 400 holder.nationality "must be an ISO 3166 alpha-3 code such as PRK" \
  "PATCH nationality xx" "${JSON[@]}" -d '{"holder":{"nationality":"xx"}}'
refused PATCH $S 400 - "the body must be a JSON object" "PATCH array body" "${JSON[@]}" -d '[]'
refused PATCH $S 400 - "invalid JSON at line 1 column 1: '[' or '{' expected near 'x'" \
  "PATCH invalid JSON" "${JSON[@]}" -d 'x'
refused PATCH /v1/subscribers/467059990000009 404 - "subscriber not found" "PATCH unknown" \
  "${JSON[@]}" -d '{"status":"active"}'
refused DELETE /v1/subscribers/467059990000009 404 - "subscriber not found" "DELETE unknown"

# --- DELETE -------------------------------------------------------------------
call DELETE $S
expect_code 204 "DELETE"
expect_eq "$BODY" "" "DELETE body"
call GET $S
expect_error 404 - "subscriber not found" "GET after DELETE"
call GET /v1/subscribers/iccid:8985005999000000019
expect_error 404 - "subscriber not found" "GET by ICCID after DELETE"
call DELETE $S
expect_error 404 - "subscriber not found" "DELETE again"
expect_eq "$(total)" "$base" "subscribers after DELETE"
# Its IMSI, MSISDN and ICCID are free again.
call POST /v1/subscribers "${JSON[@]}" -d "$CREATE"
expect_code 201 "create with the deleted subscriber's IMSI, MSISDN, ICCID"
call DELETE $S
expect_code 204 "DELETE again"

# --- bulk import --------------------------------------------------------------
cat >"$T/good.csv" <<EOF
imsi,msisdn,iccid,class,status,name,id_document,nationality,city,k,opc
467059980000001,850191298001,8985005998000000011,citizen,active,"Pak, Song Nam",P9980001,PRK,Pyongyang,$K,$OPC
467059980000002,,,foreigner,,,,,,$K,$OPC
467059980000003,+850191298003,,official,suspended,Kim Il,,,Nampo,$K,$OPC
EOF
call POST /v1/import/subscribers -H 'Content-Type: text/csv' --data-binary @"$T/good.csv"
expect_code 200 "import a good CSV"
expect_eq "$(jget .imported)" 3 "import: imported"
no_secrets "import"
expect_eq "$(total)" $((base + 3)) "subscribers after import"
call GET /v1/subscribers/467059980000001
expect_code 200 "GET an imported subscriber"
no_secrets "GET an imported subscriber"
expect_eq "$(jget '[.msisdn,.iccid,.class,.status,.holder.name,.city,.auth.op_kind] | join("|")')" \
  "850191298001|8985005998000000011|citizen|active|Pak, Song Nam|Pyongyang|opc" "imported subscriber"
call GET /v1/subscribers/msisdn:850191298003
expect_eq "$(jget '[.imsi,.status,.class] | join(" ")')" "467059980000003 suspended official" \
  "imported subscriber by MSISDN"

# A bad row anywhere: 400 with line and column, nothing imported (not even the good rows).
bad_import() {
  local what=$1 status=$2 line=$3 column=$4 error=$5 before after
  before=$(state)
  call POST /v1/import/subscribers -H 'Content-Type: text/csv' --data-binary @"$T/bad.csv"
  expect_code "$status" "$what"
  expect_eq "$(jget '[.error,(.line|tostring),.column] | join("|")')" "$error|$line|$column" "$what"
  after=$(state)
  [ "$before" == "$after" ] || fail "$what: the refused import changed the subscribers"
  call GET /v1/subscribers/467059970000001
  expect_error 404 - "subscriber not found" "$what: the good first row"
}
cat >"$T/bad.csv" <<EOF
imsi,class,k,opc
467059970000001,citizen,$K,$OPC
4670599700002,citizen,$K,$OPC
467059970000003,citizen,$K,$OPC
EOF
bad_import "import with a 13-digit IMSI on line 3" 400 3 imsi "must be 14 or 15 digits"
cat >"$T/bad.csv" <<EOF
imsi,class,k,opc
467059970000001,citizen,$K,$OPC
467059970000002,citizen,${K:0:31},$OPC
EOF
bad_import "import with a 31-digit K on line 3" 400 3 k "must be 32 hex digits"
cat >"$T/bad.csv" <<EOF
imsi,class,k,opc
467059970000001,citizen,$K,$OPC
467059970000002,peasant,$K,$OPC
EOF
bad_import "import with an unknown class on line 3" 400 3 class \
  "must be one of: citizen, foreigner, official"
call POST /v1/import/subscribers -H 'Content-Type: text/csv' --data-binary @"$T/good.csv"
expect_code 409 "import of rows already in the store"
expect_eq "$(jget '[(.line|tostring),.column] | join(" ")')" "2 imsi" "import duplicate: line, column"
expect_eq "$(total)" $((base + 3)) "subscribers after a refused import"

# --- import progress (X-Koryo-Import-Id, GET /v1/import/progress/{id}) --------
# The header changes no answer; the import's end stays readable for a minute.
ID=api-subscribers-progress-$$
call POST /v1/import/subscribers -H 'Content-Type: text/csv' -H "X-Koryo-Import-Id: $ID" \
  --data-binary @"$T/good.csv"
expect_code 409 "import of rows already in the store, with an import id"
expect_eq "$(jget '[(.line|tostring),.column] | join(" ")')" "2 imsi" "import with an id: line, column"
call GET "/v1/import/progress/$ID"
expect_code 200 "progress of a refused import"
expect_eq "$(jget '[.id,.phase,(.rows|tostring),(.bytes|tostring)] | join(" ")')" \
  "$ID failed 0 $(stat -c %s "$T/good.csv")" "progress of a refused import"
sed 's/46705998000000/46705998000001/; s/850191298/850191299/; s/89850059980000000/89850059980000001/' \
  "$T/good.csv" >"$T/good2.csv"
ID2=api-subscribers-progress-2-$$
call POST /v1/import/subscribers -H 'Content-Type: text/csv' -H "X-Koryo-Import-Id: $ID2" \
  --data-binary @"$T/good2.csv"
expect_code 200 "import with an import id"
expect_eq "$(jget .imported)" 3 "import with an import id: imported"
call GET "/v1/import/progress/$ID2"
expect_eq "$(jget '[.phase,(.rows|tostring)] | join(" ")')" "done 3" "progress of a good import"
expect_eq "$(total)" $((base + 6)) "subscribers after an import with an id"
# An id that is not 16-64 of [A-Za-z0-9_-] is ignored, not refused.
call POST /v1/import/subscribers -H 'Content-Type: text/csv' -H "X-Koryo-Import-Id: short" \
  --data-binary @"$T/good2.csv"
expect_code 409 "import with a short import id"
call GET /v1/import/progress/short
expect_error 404 - "no such import (or it ended over a minute ago)" "progress of an ignored id"
call GET /v1/import/progress/never-heard-of-this-one
expect_error 404 - "no such import (or it ended over a minute ago)" "progress of an unknown id"
call POST "/v1/import/progress/$ID2"
expect_error 405 - "method not allowed" "POST to a progress"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$KORYO_API/v1/import/progress/$ID2")
expect_eq "$code" 401 "progress without a token"

echo "PASS api_subscribers"
