#!/usr/bin/env bash
# Runs every benchmark against the binaries in BUILD (default build-bench) and
# prints result blocks for docs/performance.md. Loopback only, bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-bench}
export KORYOD=$BUILD/koryod KORYO=$BUILD/koryo

echo "## Milenage (one thread)"
echo "Command: \`$BUILD/koryo-bench-milenage 3\`"
"$BUILD/koryo-bench-milenage" 3
echo
bench/import_bench.sh
echo
bench/coldstart_bench.sh
