# shellcheck shell=bash
# Shared by the SIP registrar and proxy tests (docs/sip-testing.md): a koryod
# with the demo profile and SIP on, SIPp and tests/sip/sip_ua.c as its peers,
# and the API's view of what koryod did.
# Usage, at the top of a test:
#   source "$KORYO_SRC/tests/integration/sip_lib.sh"; sip_netns "$0" "$@"
# sip_netns re-runs the script inside a network namespace with only loopback
# (a stray send fails there instead of leaving the machine) and returns in the
# inner run, with lib.sh loaded.
set -euo pipefail

sip_netns() {
  source "$KORYO_SRC/tests/integration/netns.sh"
  need_tools sipp jq
  in_loopback_netns koryo-sip "$@"
  source "$KORYO_SRC/tests/integration/lib.sh"
  : "${SIP_UA:?SIP_UA must name the sip_ua helper}"
  [ -z "$(ip -4 route show | grep -v '^local\|127.0.0.0' || true)" ] ||
    fail "the namespace has routes: $(ip -4 route show)"
  SCEN="$KORYO_SRC/tests/sip"
  DOMAIN=koryo.local
  SIPP_PIDS=()
  trap sip_cleanup EXIT
}

sip_cleanup() {
  local p
  for p in "${SIPP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  cleanup
}

# sip_koryod_start [config lines...]: koryod with the demo profile, SIP on
# $SIP_PORT (kept across restarts).
sip_koryod_start() {
  SIP_PORT=${SIP_PORT:-$(free_sip_port)}
  [ -f "$T/koryod.conf" ] || koryod_config "sip.listen = 127.0.0.1:$SIP_PORT" "sip.domain = $DOMAIN" "$@"
  koryod_start --profile "$KORYO_SRC/profiles/koryolink"
}

alive() {
  kill -0 "$KORYOD_PID" 2>/dev/null || { cat "$T/koryod.log" >&2; fail "koryod died after: $1"; }
}

# ---- SIPp ---------------------------------------------------------------------------
# Output of a run NAME: $T/sipp-NAME.{out,err,log,msg}. Each run is bounded:
# -timeout for the whole run, -recv_timeout per message.
SIPP_COMMON=(-i 127.0.0.1 -t u1 -nostdin -nd -trace_err -trace_logs -trace_msg -recv_timeout 5000
  -timeout_error)

sipp_files() { # NAME
  rm -f "$T/sipp-$1".*
  echo -error_file "$T/sipp-$1.err" -log_file "$T/sipp-$1.log" -message_file "$T/sipp-$1.msg"
}

sipp_report() { # NAME WHAT
  { cat "$T/sipp-$1.out" "$T/sipp-$1.err" 2>/dev/null; tail -60 "$T/sipp-$1.msg" 2>/dev/null; } >&2
  fail "$2"
}

# sipp_client NAME SCENARIO PORT CALLS [sipp args...]: SIPp sends from
# 127.0.0.1:PORT to koryod, CALLS calls one at a time; every call must succeed.
sipp_client() {
  local name=$1 sf=$2 port=$3 calls=$4 rc=0
  shift 4
  # shellcheck disable=SC2046
  timeout 60 sipp "127.0.0.1:$SIP_PORT" -sf "$SCEN/$sf" -p "$port" -m "$calls" -l 1 -r 20 \
    -timeout 45s "${SIPP_COMMON[@]}" $(sipp_files "$name") -key domain "$DOMAIN" "$@" \
    >"$T/sipp-$name.out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || sipp_report "$name" "sipp $name ($sf from port $port): exit status $rc"
  echo "ok: sipp $name"
}

# sipp_server NAME SCENARIO PORT CALLS [sipp args...]: SIPp waits on
# 127.0.0.1:PORT for CALLS calls (in the background); sipp_server_wait NAME
# checks that every one succeeded.
declare -A SIPP_SERVER=()
sipp_server() {
  local name=$1 sf=$2 port=$3 calls=$4
  shift 4
  # shellcheck disable=SC2046
  timeout 60 sipp -sf "$SCEN/$sf" -p "$port" -m "$calls" -timeout 45s "${SIPP_COMMON[@]}" \
    $(sipp_files "$name") -key domain "$DOMAIN" "$@" >"$T/sipp-$name.out" 2>&1 &
  SIPP_SERVER[$name]=$!
  SIPP_PIDS+=($!)
  for _ in $(seq 1 50); do
    [ -n "$(ss -Hlnu "sport = :$port")" ] && return 0
    sleep 0.1
  done
  sipp_report "$name" "SIPp $name did not bind 127.0.0.1:$port"
}
sipp_server_wait() {
  local name=$1 rc=0
  wait "${SIPP_SERVER[$name]}" || rc=$?
  [ $rc -eq 0 ] || sipp_report "$name" "sipp $name (server): exit status $rc"
  echo "ok: sipp $name (server)"
}

# ---- sip_ua ----------------------------------------------------------------------------
# ua NAME ARGS...: one registration with tests/sip/sip_ua.c; output in
# $T/ua-NAME, exit status in $UA_RC, the final status in $UA_STATUS.
ua() {
  local name=$1
  shift
  UA_RC=0
  timeout 30 "$SIP_UA" register --server "127.0.0.1:$SIP_PORT" --domain "$DOMAIN" "$@" \
    >"$T/ua-$name" 2>&1 || UA_RC=$?
  UA_STATUS=$(sed -n 's/^result //p' "$T/ua-$name")
}
# ua_expect NAME STATUS ARGS...: as ua, and the final status must be STATUS.
ua_expect() {
  local name=$1 want=$2
  shift 2
  ua "$name" "$@"
  [ "$UA_STATUS" = "$want" ] || { cat "$T/ua-$name" >&2; fail "sip_ua $name: want $want, got '$UA_STATUS'"; }
}

# ---- the API's view --------------------------------------------------------------------
api_ok() { # METHOD PATH [curl args]: the body; the HTTP status must be 2xx
  local out
  out=$(api "$@")
  case "$(tail -1 <<<"$out")" in 2??) ;; *) fail "API $1 $2: $out" ;; esac
  sed '$d' <<<"$out"
}
regs() { api_ok GET "/v1/subscribers/$1/registrations"; }
nbind() { regs "$1" | jq '.bindings | length'; }
cell() { regs "$1" | jq -r '.cell // ""'; }
metric() { api_ok GET /metrics | grep -E "^$1 " | awk '{print $2}'; }
set_password() { # IMSI PASSWORD
  api_ok PATCH "/v1/subscribers/$1" -H 'Content-Type: application/json' \
    -d "{\"sip_password\":\"$2\"}" >/dev/null
}
# The demo profile's SIMs: K is "k" and the IMSI, OP a fixed 16-character string.
sim_args() { echo --k "k$1" --op koryolink-op-467; }
