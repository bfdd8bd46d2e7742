#!/usr/bin/env bash
# API authentication and /metrics against a real koryod with the Koryolink demo
# profile: /health needs no token; every other endpoint refuses a missing token,
# a wrong one and Basic auth with 401 and changes nothing; /metrics counts the
# subscribers by class and status as the demo CSV does, follows a create, and has
# the latency histograms; an unknown path is a JSON 404, a wrong method a 405.
source "$KORYO_SRC/tests/integration/lib.sh"
koryod_start --profile "$KORYO_SRC/profiles/koryolink"

CSV="$KORYO_SRC/profiles/koryolink/subscribers.csv"
K=11223344556677889900aabbccddeeff
OP=cafebabedeadbeef0f1e2d3c4b5a6978
TOKEN=$(cat "$KORYO_TOKEN_FILE")
[[ "$TOKEN" =~ ^[0-9a-f]{64}$ ]] || fail "the token file does not hold 256 bits in hex"
expect_eq "$(stat -c %a "$KORYO_TOKEN_FILE")" 600 "token file mode"

# raw METHOD PATH [curl args...]: an unauthenticated call (the caller adds any
# Authorization); sets BODY, CODE and HEADERS.
raw() {
  local method=$1 path=$2
  shift 2
  local out
  out=$(curl -sS -X "$method" -D "$T/headers" -w '\n%{http_code}\n' "$@" "$KORYO_API$path")
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
  BODY=${BODY%$'\n'} # koryod ends JSON with a newline
  HEADERS=$(tr -d '\r' <"$T/headers")
}
csv_count() { awk -F, "NR > 1 && ($1) { n++ } END { print n + 0 }" "$CSV"; }
metrics() { api GET /metrics -f | sed '$d'; }
metric() { metrics | awk -v k="$1" '$1 == k { print $2 }'; }
sub_metric() { metric "koryo_subscribers{class=\"$1\",status=\"$2\"}"; }
all_subscribers() {
  local after="" page next
  while :; do
    page=$(api GET "/v1/subscribers?limit=1000${after:+&after=$after}" -f)
    page=${page%$'\n'*}
    echo "$page"
    next=$(jq -r .next <<<"$page")
    [ "$next" != null ] || break
    after=$next
  done
}
state() {
  all_subscribers
  metrics | grep '^koryo_subscribers{'
}

# --- /health needs no token ------------------------------------------------------
raw GET /health
expect_eq "$CODE" 200 "/health without a token"
expect_eq "$(jq -r '.status' <<<"$BODY")" ok "/health status"
[[ "$(jq -r .version <<<"$BODY")" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "/health version: $BODY"
raw GET /health -H "Authorization: Bearer wrong"
expect_eq "$CODE" 200 "/health with a wrong token"

# --- 401 for everything else --------------------------------------------------------
cat >"$T/import.csv" <<EOF
imsi,class,k,op
467059960000001,citizen,$K,$OP
EOF
CREATE="{\"imsi\":\"467059960000002\",\"class\":\"citizen\",\"k\":\"$K\",\"op\":\"$OP\"}"
JSON=(-H 'Content-Type: application/json')
requests=(
  "GET /v1/subscribers"
  "GET /v1/subscribers/467050000000001"
  "GET /metrics"
  "GET /v1/network"
  "POST /v1/subscribers"
  "PATCH /v1/subscribers/467050000000001"
  "DELETE /v1/subscribers/467050000000001"
  "POST /v1/import/subscribers"
)
args_for() {
  case "$1" in
  "POST /v1/subscribers") ARGS=("${JSON[@]}" -d "$CREATE") ;;
  "PATCH "*) ARGS=("${JSON[@]}" -d '{"status":"terminated","msisdn":null}') ;;
  "POST /v1/import/subscribers") ARGS=(-H 'Content-Type: text/csv' --data-binary @"$T/import.csv") ;;
  *) ARGS=() ;;
  esac
}
auths=(
  "none"
  "Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000"
  "Authorization: Bearer ${TOKEN:0:63}"
  "Authorization: Bearer ${TOKEN}x"
  "Authorization: Bearer "
  "Authorization: Bearer"
  "Authorization: $TOKEN"
  "Authorization: Basic $(printf 'koryo:%s' "$TOKEN" | base64 -w0)"
  "Authorization: Basic $(printf '%s:' "$TOKEN" | base64 -w0)"
  "Authorization: Token $TOKEN"
  "X-Api-Token: $TOKEN"
)
before=$(state)
demo=$(api GET /v1/subscribers/467050000000001 -f)
for r in "${requests[@]}"; do
  args_for "$r"
  for a in "${auths[@]}"; do
    h=()
    [ "$a" == none ] || h=(-H "$a")
    raw ${r% *} ${r#* } "${h[@]}" "${ARGS[@]}"
    what="$r with auth '${a:0:40}'"
    expect_eq "$CODE" 401 "$what: status"
    expect_eq "$BODY" '{"error":"missing or invalid bearer token"}' "$what: body"
    grep -qix 'content-type: application/json' <<<"$HEADERS" || fail "$what: not JSON: $HEADERS"
    grep -qix 'www-authenticate: Bearer realm="koryo"' <<<"$HEADERS" ||
      fail "$what: no WWW-Authenticate: $HEADERS"
  done
done
after=$(state)
[ "$before" == "$after" ] || fail "refused requests changed the subscribers"
expect_eq "$(api GET /v1/subscribers/467050000000001 -f)" "$demo" "the demo subscriber after 401s"
for imsi in 467059960000001 467059960000002; do
  raw GET /v1/subscribers/$imsi -H "Authorization: Bearer $TOKEN"
  expect_eq "$CODE" 404 "$imsi after refused create/import"
done
# The token itself, in any case that is not its own, is wrong too.
raw GET /v1/subscribers -H "Authorization: Bearer ${TOKEN^^}"
expect_eq "$CODE" 401 "the token in upper case"
# The scheme name is case-insensitive (RFC 7235).
raw GET /metrics -H "Authorization: bearer $TOKEN"
expect_eq "$CODE" 200 "lower-case 'bearer' scheme"

# --- /metrics -----------------------------------------------------------------------
raw GET /metrics -H "Authorization: Bearer $TOKEN"
expect_eq "$CODE" 200 "/metrics"
grep -qix 'content-type: text/plain; version=0.0.4' <<<"$HEADERS" ||
  fail "/metrics content type: $HEADERS"
M=$BODY
for cl in citizen foreigner official; do
  for st in pending active suspended terminated; do
    expect_eq "$(awk -v k="koryo_subscribers{class=\"$cl\",status=\"$st\"}" '$1 == k { print $2 }' <<<"$M")" \
      "$(csv_count "\$4 == \"$cl\" && \$5 == \"$st\"")" "koryo_subscribers $cl/$st"
  done
done
expect_eq "$(sub_metric citizen active)" 287 "koryo_subscribers citizen/active (demo CSV)"
grep -qx '# TYPE koryo_subscribers gauge' <<<"$M" || fail "no TYPE line for koryo_subscribers"
grep -qx '# TYPE koryo_api_request_duration_seconds histogram' <<<"$M" ||
  fail "no TYPE line for koryo_api_request_duration_seconds"
for route in /v1/policy /v1/charging /v1/sms other; do
  grep -q "^koryo_api_request_duration_seconds_count{route=\"$route\"}" <<<"$M" ||
    fail "metrics: no latency series for route $route"
done
! grep -q '(null)' <<<"$M" || fail "metrics: a series without a name: $(grep '(null)' <<<"$M" | head -1)"
grep -qE '^koryo_api_request_duration_seconds_bucket\{route="/v1/subscribers",le="\+Inf"\} [0-9]+$' <<<"$M" ||
  fail "no koryo_api_request_duration_seconds_bucket line for /v1/subscribers"
grep -q '^koryo_api_request_duration_seconds_bucket{' <<<"$M" ||
  fail "no koryo_api_request_duration_seconds_bucket lines"
grep -qE '^koryo_store_commit_duration_seconds_count [0-9]+$' <<<"$M" ||
  fail "no koryo_store_commit_duration_seconds_count line"
grep -qE '^koryo_store_statement_duration_seconds_count [0-9]+$' <<<"$M" ||
  fail "no koryo_store_statement_duration_seconds_count line"
grep -qE '^koryo_workers 2$' <<<"$M" || fail "koryo_workers is not 2 (workers = 2)"
# Every sample line is NAME{labels} VALUE or NAME VALUE with a number.
bad=$(grep -v '^#' <<<"$M" | grep -vE '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$' || true)
[ -z "$bad" ] || fail "malformed metric lines: $bad"
# Buckets are cumulative and end at _count.
h=koryo_api_request_duration_seconds
r='route="/v1/subscribers"'
awk -v b="${h}_bucket{$r," '
  index($1, b) == 1 { if ($2 + 0 < prev) { print "not cumulative: " $0; exit 1 } prev = $2 + 0; last = $2 }
  END { print last }' <<<"$M" >"$T/last" || fail "$(cat "$T/last")"
expect_eq "$(cat "$T/last")" "$(awk -v k="${h}_count{$r}" '$1 == k { print $2 }' <<<"$M")" \
  "$h +Inf bucket equals _count"

# Requests are counted, refused ones too: the 22 401s above went through /v1/subscribers.
[ "$(awk -v k="${h}_count{$r}" '$1 == k { print $2 }' <<<"$M")" -ge 22 ] ||
  fail "${h}_count for /v1/subscribers does not count the requests made"

commits=$(metric koryo_store_commit_duration_seconds_count)
pending=$(sub_metric citizen pending)
call_create() {
  curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${JSON[@]}" \
    -d "$1" "$KORYO_API/v1/subscribers"
}
expect_eq "$(call_create "$CREATE")" 201 "create"
expect_eq "$(sub_metric citizen pending)" $((pending + 1)) "citizen/pending after a create"
expect_eq "$(sub_metric citizen active)" 287 "citizen/active after a create of a pending one"
[ "$(metric koryo_store_commit_duration_seconds_count)" -gt "$commits" ] ||
  fail "koryo_store_commit_duration_seconds_count did not grow with a create"
raw PATCH /v1/subscribers/467059960000002 -H "Authorization: Bearer $TOKEN" "${JSON[@]}" \
  -d '{"status":"active"}'
expect_eq "$CODE" 200 "PATCH to active"
expect_eq "$(sub_metric citizen pending)" "$pending" "citizen/pending after activation"
expect_eq "$(sub_metric citizen active)" 288 "citizen/active after activation"
raw DELETE /v1/subscribers/467059960000002 -H "Authorization: Bearer $TOKEN"
expect_eq "$CODE" 204 "DELETE"
expect_eq "$(sub_metric citizen active)" 287 "citizen/active after DELETE"

# --- unknown path, wrong method -------------------------------------------------------
for p in /nope /v1 /v1/subscriber /v1/import /v2/subscribers /metrics/x; do
  raw GET "$p" -H "Authorization: Bearer $TOKEN"
  expect_eq "$CODE" 404 "GET $p"
  expect_eq "$(jq -r .error <<<"$BODY")" "no such path: $p" "GET $p: error"
  grep -qix 'content-type: application/json' <<<"$HEADERS" || fail "GET $p: not JSON"
done
for mp in "POST /metrics" "DELETE /metrics" "PUT /v1/subscribers" "DELETE /v1/subscribers" \
  "PATCH /v1/subscribers" "PUT /v1/subscribers/467050000000001" "POST /v1/subscribers/467050000000001" \
  "GET /v1/import/subscribers" "PUT /v1/import/subscribers" "POST /v1/network" "POST /health" \
  "DELETE /health"; do
  before=$(state)
  raw ${mp% *} ${mp#* } -H "Authorization: Bearer $TOKEN"
  expect_eq "$CODE" 405 "$mp"
  expect_eq "$BODY" '{"error":"method not allowed"}' "$mp: body"
  after=$(state)
  [ "$before" == "$after" ] || fail "$mp changed the subscribers"
done

echo "PASS api_auth_metrics"
