# bench/lib.sh: what the koryod benchmarks (import_bench.sh, coldstart_bench.sh,
# gsup_bench.sh) share: messages, a temporary directory removed at exit, free
# ports, a koryod config, starting koryod until /health answers, stopping it.
# Sourced, not run. The sourcing script sets BENCH (its name, the prefix of its
# messages) before sourcing, and before calling these: KORYOD, WORKERS,
# START_TIMEOUT and STOP_TIMEOUT (seconds).
# shellcheck shell=bash

die() { echo "$BENCH: $*" >&2; exit 1; }
say() { echo "$BENCH: $*" >&2; }

KORYOD_PID=""

# stop_pid PID NAME: SIGTERM, wait, SIGKILL after STOP_TIMEOUT
stop_pid() {
  local pid=$1 name=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name (pid $pid) did not exit ${STOP_TIMEOUT}s after SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
# koryod_stop: stops the koryod in KORYOD_PID, if any
koryod_stop() {
  [ -n "$KORYOD_PID" ] || return 0
  local pid=$KORYOD_PID
  KORYOD_PID=""
  stop_pid "$pid" koryod
}

# bench_stop: what the exit trap stops; a script running more than one koryod
# redefines it
bench_stop() { koryod_stop; }
# bench_tmpdir TEMPLATE: T = a new directory TEMPLATE.XXXXXX; at exit,
# bench_stop, then T is removed
bench_tmpdir() {
  T=$(mktemp -d "$1.XXXXXX")
  trap 'bench_stop || true; rm -rf "$T"' EXIT
  trap 'exit 130' INT TERM
}

# port_open IP PORT: something accepts TCP connections there
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# free_port: a port on 127.0.0.1 nothing listens on
free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % 20000)) # below the ephemeral range (32768-)
    port_open 127.0.0.1 $p || { echo $p; return; }
  done
}

# koryod_config CONF DATA_DIR API_PORT LOG_LEVEL [LINE...]: writes a koryod
# config (API on 127.0.0.1:API_PORT, WORKERS workers, then the extra LINEs)
# and exports KORYO_API and KORYO_TOKEN_FILE for the koryo CLI
koryod_config() {
  local conf=$1 data=$2 api_port=$3 level=$4
  shift 4
  mkdir -p "$data"
  {
    echo "data_dir = $data"
    echo "api.listen = 127.0.0.1:$api_port"
    echo "workers = $WORKERS"
    echo "log.level = $level"
    echo "gsup.listen = off" # a later line may turn it on
    echo "sip.listen = off"
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
  } >"$conf"
  export KORYO_API="http://127.0.0.1:$api_port"
  export KORYO_TOKEN_FILE="$data/api.token"
}

# koryod_start CONF LOG [ARG...]: starts koryod in the background (output
# appended to LOG), sets KORYOD_PID, returns once /health answers and the API
# token file is written (or START_TIMEOUT has passed)
koryod_start() {
  local conf=$1 log=$2 deadline
  shift 2
  "$KORYOD" -c "$conf" "$@" >>"$log" 2>&1 &
  KORYOD_PID=$!
  deadline=$((SECONDS + START_TIMEOUT))
  until curl -fsS --max-time 1 "$KORYO_API/health" >/dev/null 2>&1; do
    kill -0 "$KORYOD_PID" 2>/dev/null || { tail -20 "$log" >&2; die "koryod exited during start"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$log" >&2; die "koryod did not answer /health within ${START_TIMEOUT}s"; }
    sleep 0.1
  done
  while [ ! -s "$KORYO_TOKEN_FILE" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
}
