#!/usr/bin/env bash
# Installs what koryo needs on Debian 12, idempotently. Run as root (or via sudo).
#   scripts/deps.sh build   libraries and tools to build and run koryod
#   scripts/deps.sh test    build deps plus the test peers used by `make check`
#   scripts/deps.sh bench   test deps plus the peers benchmarks compare against
set -euo pipefail

level=${1:-build}

build_pkgs=(cmake make gcc pkg-config libuv1-dev libssl-dev libsqlite3-dev libmicrohttpd-dev
  libjansson-dev libcurl4-openssl-dev libcmocka-dev curl ca-certificates)
test_pkgs=(libosmocore-utils libosmocore-dev libosmo-gsup-client-dev osmo-msc osmo-sgsn openssl jq clang libclang-rt-14-dev iproute2 procps sqlite3 time sip-tester baresip-core xxd)
bench_pkgs=(time osmo-hlr kamailio kamailio-sqlite-modules perl)

pkgs=("${build_pkgs[@]}")
case "$level" in
build) ;;
test) pkgs+=("${test_pkgs[@]}") ;;
bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
*)
  echo "usage: $0 build|test|bench" >&2
  exit 2
  ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
