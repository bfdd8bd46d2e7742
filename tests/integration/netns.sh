# shellcheck shell=bash
# What every test that sends SIP shares: it runs inside a network namespace
# with only loopback, so that a send to any address but 127.0.0.1 fails there
# instead of leaving the machine. Sourced first; needs root (ip netns).
#
#   source "$KORYO_SRC/tests/integration/netns.sh"
#   need_tools sipp jq
#   in_loopback_netns koryo-NAME "$0" "$@"   # returns only in the inner run

# need_tools TOOL...: fails the test if one is not installed.
need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "FAIL: $t not installed (scripts/deps.sh test)" >&2; exit 1; }
  done
}

# in_loopback_netns PREFIX SCRIPT ARGS...: unless ARGS start with --inner,
# runs SCRIPT --inner in a new namespace PREFIX-PID (deleted at exit) and
# exits with its status.
in_loopback_netns() {
  local prefix=$1 script=$2
  shift 2
  [ "${1:-}" != "--inner" ] || return 0
  : "${KORYO_SRC:?KORYO_SRC must name the source tree}"
  local ns=$prefix-$$ rc=0
  ip netns add "$ns" || { echo "FAIL: cannot create network namespace $ns (needs root)" >&2; exit 1; }
  # shellcheck disable=SC2064
  trap "ip netns delete $ns 2>/dev/null || true" EXIT
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" bash "$script" --inner || rc=$?
  exit $rc
}
