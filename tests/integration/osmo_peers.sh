#!/usr/bin/env bash
# koryod as the HLR of the real Osmocom core: osmo-sgsn 1.9 and osmo-msc 1.9
# (Debian packages osmo-sgsn, osmo-msc) connect to koryod's GSUP server on
# loopback. Checked:
#  - each completes the IPA identity exchange: koryod logs the peer by its
#    ipa-name, and the peer logs its GSUP link UP;
#  - keep-alive: the peers ping every 20 s and reconnect when a PONG is missing;
#    after two PING/PONG rounds neither peer has reconnected and both still run;
#  - a CS UpdateLocation driven without a radio: this script plays an MME on
#    osmo-msc's SGs interface (TS 29.118 SGsAP over TCP, see sctp_shim.c) and
#    sends SGsAP-LOCATION-UPDATE-REQUEST; osmo-msc's VLR asks koryod
#    (UpdateLocation, InsertSubscriberData) and answers LOCATION-UPDATE-ACCEPT.
#    koryod then shows MSC-koryo-test as the subscriber's serving VLR. An unknown
#    IMSI gets LOCATION-UPDATE-REJECT.
# osmo-sgsn's VTY has no command that sends a GSUP request without an MS
# (update-subscriber ... only changes its local cache), so the SGSN is checked
# for the connection and keep-alive only.
#
# Env: KORYOD, KORYO, KORYO_SRC (lib.sh); SCTP_SHIM (tests/peers/sctp_shim.c,
# preloaded into osmo-msc). Optional: OSMO_MSC, OSMO_SGSN (binaries);
# OSMO_PEERS_HLR=osmo-hlr runs the peers against osmo-hlr on 127.0.0.2:4222
# instead of koryod (a check of this script and the peer configs; koryod-side
# assertions are skipped).
# Exits 77 (skipped) when osmo-msc or osmo-sgsn is not installed.
set -euo pipefail

OSMO_MSC=${OSMO_MSC:-osmo-msc}
OSMO_SGSN=${OSMO_SGSN:-osmo-sgsn}
HLR=${OSMO_PEERS_HLR:-koryod}
command -v "$OSMO_MSC" >/dev/null || { echo "SKIP: $OSMO_MSC not installed"; exit 77; }
command -v "$OSMO_SGSN" >/dev/null || { echo "SKIP: $OSMO_SGSN not installed"; exit 77; }
: "${SCTP_SHIM:?SCTP_SHIM must name the sctp_shim library}"
[ -f "$SCTP_SHIM" ] || { echo "FAIL: no $SCTP_SHIM" >&2; exit 1; }

source "$KORYO_SRC/tests/integration/lib.sh"

MSC_NAME=MSC-koryo-test
SGSN_NAME=SGSN-koryo-test
# koryolink demo subscriber (profiles/koryolink/subscribers.csv), class citizen (CS and PS).
IMSI=467050000000001
MSISDN=85019120000001
IMSI_UNKNOWN=467059999999999

MSC_PID=""
SGSN_PID=""
HLR_PID=""

# stop_pid PID: SIGTERM, up to 5 s for the exit, then SIGKILL.
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

peers_cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    for f in osmo-msc.log osmo-sgsn.log osmo-hlr.log koryod.log; do
      [ -f "$T/$f" ] || continue
      echo "--- last lines of $f" >&2
      tail -n 40 "$T/$f" >&2
    done
  fi
  stop_pid "$MSC_PID"
  stop_pid "$SGSN_PID"
  stop_pid "$HLR_PID"
  cleanup
}
trap peers_cleanup EXIT

# port_open IP PORT: something accepts TCP connections there.
port_open() { (echo >"/dev/tcp/$1/$2") 2>/dev/null; }

# The peers' VTY, CTRL, GTP, SGs ... ports are fixed in these versions, only the
# address can be configured: give this run its own loopback address.
pick_peer_ip() {
  local ip p busy
  for _ in $(seq 1 20); do
    ip=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
    busy=0
    for p in 2775 4245 4251 4254 4255 29118; do
      if port_open "$ip" "$p"; then busy=1; fi
    done
    [ $busy -eq 1 ] || { echo "$ip"; return; }
  done
  fail "no free loopback address for the peers"
}

# wait_log FILE FIXED-STRING SECONDS WHAT: waits until FILE has the string.
wait_log() {
  local file=$1 s=$2 n=$(($3 * 10))
  for _ in $(seq 1 $n); do
    if [ -f "$file" ] && grep -aqF -- "$s" "$file"; then return 0; fi
    sleep 0.1
  done
  fail "$4: '$s' not in $(basename "$file") after $3 s"
}

# count_log FILE FIXED-STRING: number of lines with the string.
count_log() { grep -acF -- "$2" "$1" || true; }

# alive PID WHAT
alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited"; }

# --- the HLR -----------------------------------------------------------------
PEER_IP=$(pick_peer_ip)
if [ "$HLR" == osmo-hlr ]; then
  HLR_IP=127.0.0.2
  GSUP_PORT=4222 # osmo-hlr 1.5 cannot change it
  cat >"$T/osmo-hlr.cfg" <<EOF
line vty
 bind $HLR_IP
ctrl
 bind $HLR_IP
hlr
 gsup
  bind ip $HLR_IP
EOF
  osmo-hlr -c "$T/osmo-hlr.cfg" -l "$T/hlr.db" >"$T/osmo-hlr.log" 2>&1 &
  HLR_PID=$!
  for _ in $(seq 1 50); do port_open $HLR_IP 4258 && break; sleep 0.1; done
  exec 7<>"/dev/tcp/$HLR_IP/4258"
  printf 'enable\nsubscriber imsi %s create\nsubscriber imsi %s update msisdn %s\n' \
    "$IMSI" "$IMSI" "$MSISDN" >&7
  sleep 0.5
  exec 7>&-
else
  HLR_IP=127.0.0.1
  GSUP_PORT=$(free_port)
  koryod_config "gsup.listen = 127.0.0.1:$GSUP_PORT"
  koryod_start --profile "$KORYO_SRC/profiles/koryolink"
fi

# --- the peers ---------------------------------------------------------------
render() { # render NAME: tests/peers/NAME.cfg.in -> $T/NAME.cfg
  sed -e "s/@GSUP_PORT@/$GSUP_PORT/g" -e "s/@PEER_IP@/$PEER_IP/g" -e "s#@RUN_DIR@#$T#g" \
    -e "s/remote-ip 127\.0\.0\.1\$/remote-ip $HLR_IP/" \
    "$KORYO_SRC/tests/peers/$1.cfg.in" >"$T/$1.cfg"
}
render osmo-sgsn
render osmo-msc
# From $T: osmo-sgsn writes its GTP restart counter (gsn_restart) to the cwd.
(cd "$T" && exec "$OSMO_SGSN" -c "$T/osmo-sgsn.cfg") >"$T/osmo-sgsn.log" 2>&1 &
SGSN_PID=$!
(cd "$T" && LD_PRELOAD="$SCTP_SHIM" exec "$OSMO_MSC" -c "$T/osmo-msc.cfg") >"$T/osmo-msc.log" 2>&1 &
MSC_PID=$!

# --- identity exchange ---------------------------------------------------------
LINK_UP="GSUP link to $HLR_IP:$GSUP_PORT UP"
wait_log "$T/osmo-sgsn.log" "$LINK_UP" 10 "osmo-sgsn GSUP link"
wait_log "$T/osmo-msc.log" "$LINK_UP" 10 "osmo-msc GSUP link"
wait_log "$T/osmo-sgsn.log" "received ID_GET" 10 "osmo-sgsn identity request"
wait_log "$T/osmo-msc.log" "received ID_GET" 10 "osmo-msc identity request"
if [ "$HLR" == koryod ]; then
  # koryod (src/hlr/gsup_server.c) once the ID_RESP named the peer:
  #   gsup: GSUP peer 'NAME' connected (unit 'UNIT', IND n)
  wait_log "$T/koryod.log" "GSUP peer '$SGSN_NAME' connected" 10 "koryod: SGSN identity"
  wait_log "$T/koryod.log" "GSUP peer '$MSC_NAME' connected" 10 "koryod: MSC identity"
fi

# --- keep-alive: the first PING goes out on connect, the next after 20 s --------
for p in osmo-sgsn osmo-msc; do
  for i in $(seq 1 300); do
    [ "$(count_log "$T/$p.log" "GSUP receiving PONG")" -lt 2 ] || break
    [ "$i" -lt 300 ] || fail "$p: no second PONG within 30 s"
    sleep 0.1
  done
done
sleep 1
for p in osmo-sgsn osmo-msc; do
  expect_eq "$(count_log "$T/$p.log" "GSUP connecting to")" 1 "$p: GSUP connection attempts"
  if grep -aqF "GSUP link to $HLR_IP:$GSUP_PORT DOWN" "$T/$p.log"; then fail "$p: GSUP link went down"; fi
done
alive "$SGSN_PID" osmo-sgsn
alive "$MSC_PID" osmo-msc
if [ "$HLR" == koryod ]; then
  expect_eq "$(count_log "$T/koryod.log" "GSUP peer '$SGSN_NAME' connected")" 1 "koryod: SGSN connections"
  expect_eq "$(count_log "$T/koryod.log" "GSUP peer '$MSC_NAME' connected")" 1 "koryod: MSC connections"
fi

# --- a CS UpdateLocation through osmo-msc's SGs interface ------------------------
# hex helpers: TS 24.008 IMSI mobile identity (odd digit count), DNS labels.
imsi_hex() {
  local d=$1 out i
  out=$(printf '%s9' "${d:0:1}")
  for ((i = 1; i < ${#d}; i += 2)); do out+="${d:i+1:1}${d:i:1}"; done
  echo "$out"
}
labels_hex() {
  local IFS=. l out=""
  for l in $1; do
    out+=$(printf '%02x' ${#l})$(printf '%s' "$l" | od -An -tx1 | tr -d ' \n')
  done
  echo "$out"
}
# sgs_lu IMSI: one SGsAP-LOCATION-UPDATE-REQUEST on a new SGs connection; prints
# the answer in hex (one read: SGsAP keeps one message per read here).
MME_NAME=mmec01.mmegi0001.mme.epc.mnc005.mcc467.3gppnetwork.org
sgs_lu() {
  local hex
  hex="09"                                 # LOCATION-UPDATE-REQUEST
  hex+="0108$(imsi_hex "$1")"              # IMSI
  hex+="0937$(labels_hex "$MME_NAME")"     # MME name (55 octets)
  hex+="0a0101"                            # EPS LU type: IMSI attach
  hex+="04056407500001"                    # new LAI: 467-05, LAC 1
  # One write(): bash's printf would flush at the 0x0a octet and split the message.
  printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$T/sgs.bin"
  exec 8<>"/dev/tcp/$PEER_IP/29118"
  cat "$T/sgs.bin" >&8
  timeout 10 dd bs=4096 count=1 status=none <&8 | od -An -v -tx1 | tr -d ' \n' || true
  exec 8>&-
}
ANS=$(sgs_lu "$IMSI")
[ "${ANS:0:2}" == 0a ] || fail "SGs LU of $IMSI: expected LOCATION-UPDATE-ACCEPT (0a), got '$ANS'"
wait_log "$T/osmo-msc.log" "IMSI:$IMSI has MSISDN:$MSISDN" 5 "osmo-msc: MSISDN from InsertSubscriberData"
if [ "$HLR" == koryod ]; then
  out=$(api GET "/v1/subscribers/$IMSI")
  expect_eq "${out##*$'\n'}" 200 "GET /v1/subscribers/$IMSI"
  expect_eq "$(jq -r .serving.vlr <<<"${out%$'\n'*}")" "$MSC_NAME" "serving VLR of $IMSI"
  expect_eq "$(jq -r .serving.sgsn <<<"${out%$'\n'*}")" null "serving SGSN of $IMSI"
  # What an operator sees with the CLI.
  shown=$("$KORYO" sub show "$IMSI")
  grep -Eq "^serving\.vlr: +$MSC_NAME\$" <<<"$shown" || fail "koryo sub show: no serving.vlr $MSC_NAME in: $shown"
  grep -Eq "^serving\.vlr_updated_at: +20[0-9]{2}-" <<<"$shown" || fail "koryo sub show: no serving.vlr_updated_at in: $shown"
fi

ANS=$(sgs_lu "$IMSI_UNKNOWN")
[ "${ANS:0:2}" == 0b ] || fail "SGs LU of $IMSI_UNKNOWN: expected LOCATION-UPDATE-REJECT (0b), got '$ANS'"
if [ "$HLR" == koryod ]; then
  wait_log "$T/koryod.log" "IMSI='$IMSI_UNKNOWN': UpdateLocation-Request from '$MSC_NAME' refused, cause 0x02" 5 \
    "koryod: UpdateLocation of an unknown IMSI"
fi

# --- still connected, then stop everything by PID ------------------------------
alive "$SGSN_PID" osmo-sgsn
alive "$MSC_PID" osmo-msc
if [ "$HLR" == koryod ]; then
  for n in "$SGSN_NAME" "$MSC_NAME"; do
    if grep -aqF "GSUP peer '$n' disconnected" "$T/koryod.log"; then fail "koryod: $n disconnected"; fi
  done
fi
for p in osmo-sgsn osmo-msc; do
  expect_eq "$(count_log "$T/$p.log" "GSUP connecting to")" 1 "$p: GSUP connection attempts"
done
stop_pid "$MSC_PID"
MSC_PID=""
stop_pid "$SGSN_PID"
SGSN_PID=""
if [ "$HLR" == koryod ]; then
  koryod_stop
else
  stop_pid "$HLR_PID"
  HLR_PID=""
fi
echo "PASS"
