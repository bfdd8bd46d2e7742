#!/usr/bin/env bash
# `koryo auc-gen` against osmo-auc-gen (libosmocore-utils) on random inputs:
# OP and OPc, random AMF, SQNs over the whole 48-bit range, IND bit lengths,
# and resynchronisation with AUTS values built by an independent MILENAGE in
# this script (openssl enc), including corrupt ones both tools must refuse.
# Every field must agree; a mismatch prints the input that caused it.
#
# Env: KORYO (the koryo CLI). Optional: AUC_GEN_CASES (default 200).
# Exits 77 (skipped) when osmo-auc-gen or openssl is not installed.
set -euo pipefail

: "${KORYO:?KORYO must name the koryo binary}"
OSMO=${OSMO_AUC_GEN:-osmo-auc-gen}
CASES=${AUC_GEN_CASES:-200}
command -v "$OSMO" >/dev/null || { echo "SKIP: $OSMO not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }

T=$(mktemp -d /tmp/koryo-aucgen.XXXXXX)
trap 'rm -rf "$T"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# All randomness up front: one read of /dev/urandom, sliced per field.
POOL=$(od -An -v -tx1 -N $((CASES * 160)) /dev/urandom | tr -d ' \n')
POS=0
rnd_hex() { # rnd_hex NOCTETS
  local n=$(($1 * 2))
  REPLY=${POOL:POS:n}
  POS=$((POS + n))
}
rnd_int() { # rnd_int BOUND -> REPLY in 0..BOUND-1 (BOUND < 2^31)
  rnd_hex 4
  REPLY=$(((16#$REPLY) % $1))
}

# ---- an independent MILENAGE, just enough to play the USIM (TS 35.206) ----
# shellcheck disable=SC2059 # the format is the data: a string of \xNN escapes
hex2bin() {
  local h=$1 e="" i
  for ((i = 0; i < ${#h}; i += 2)); do e+="\\x${h:i:2}"; done
  printf "$e"
}
aes() { # aes KEYHEX BLOCKHEX -> REPLY
  REPLY=$(hex2bin "$2" | openssl enc -aes-128-ecb -nopad -K "$1" | od -An -v -tx1 | tr -d ' \n')
}
xor() { # xor HEX HEX (equal length, multiple of 8 digits) -> REPLY
  local a=$1 b=$2 out="" i
  for ((i = 0; i < ${#a}; i += 8)); do
    out+=$(printf '%08x' $((16#${a:i:8} ^ 16#${b:i:8})))
  done
  REPLY=$out
}
rot() { REPLY=${1:$2}${1:0:$2}; } # rot HEX NDIGITS: rotate left by NDIGITS*4 bits

opc_from_op() { # opc_from_op K OP -> REPLY
  aes "$1" "$2"
  xor "$REPLY" "$2"
}

# make_auts K OPC RAND SQN_MS_HEX12 -> REPLY: (SQN_MS xor AK*) || MAC-S, AMF 0000.
make_auts() {
  local k=$1 opc=$2 rand=$3 sqn=$4 temp ak_star mac_s
  xor "$rand" "$opc"; aes "$k" "$REPLY"; temp=$REPLY
  # OUT5 = E_K(rot(TEMP xor OPc, 96) xor c5) xor OPc, c5 = ...08
  xor "$temp" "$opc"; rot "$REPLY" 24
  xor "$REPLY" "00000000000000000000000000000008"; aes "$k" "$REPLY"
  xor "$REPLY" "$opc"; ak_star=${REPLY:0:12}
  # OUT1 = E_K(TEMP xor rot(IN1 xor OPc, 64)) xor OPc; MAC-S is its second half.
  xor "${sqn}0000${sqn}0000" "$opc"; rot "$REPLY" 16
  xor "$REPLY" "$temp"; aes "$k" "$REPLY"
  xor "$REPLY" "$opc"; mac_s=${REPLY:16:16}
  xor "${sqn}0000" "${ak_star}0000"
  REPLY=${REPLY:0:12}$mac_s
}

# Self-check of the helper against the AUTS that osmo-auc-gen 1.7 accepts for
# TS 35.208 set 1 and SQN_MS ff9bb4d135e1 (see tests/unit/test_aka.c).
make_auts 465b5ce8b199b49faa5f0a2ee238a6bc cd63cb71954a9f4e48a5994e37a02baf \
  23553cbe9637a89d218ae64dae47bf35 ff9bb4d135e1
[ "$REPLY" = ba853f3d91da4c64d626f3877753 ] || fail "script MILENAGE helper is wrong: $REPLY"

# osmo-auc-gen prints a banner, tabs, IMS fields, SQN/IND; keep what koryo
# prints, in koryo's order.
normalise_osmo() {
  awk -F'\t' '
    { sub(/:$/, "", $1); v[$1] = $2 }
    END {
      n = split("RAND AUTN RES CK IK SRES Kc", f, " ")
      for (i = 1; i <= n; i++) if (f[i] in v) printf "%s: %s\n", f[i], v[f[i]]
      if ("SQN.MS" in v) printf "SQN_MS: %s\n", v["SQN.MS"]
    }'
}

SQN_MAX=$(((1 << 48) - 1))
n_ok=0 n_auts=0 n_refused=0
for ((c = 0; c < CASES; c++)); do
  rnd_hex 16; k=$REPLY
  rnd_hex 16; opx=$REPLY
  rnd_hex 16; rand=$REPLY
  rnd_hex 2; amf=$REPLY
  rnd_hex 6; sqn=$((16#$REPLY))
  # SQNs across the range, with the edges: tiny, around the top, anywhere.
  rnd_int 8
  case $REPLY in
    0) rnd_int 64; sqn=$REPLY ;;
    1) rnd_int 64; sqn=$((SQN_MAX - REPLY)) ;;
  esac
  kargs=(--k "$k") oargs=(-k "$k")
  if ((c % 2)); then
    kargs+=(--op "$opx") oargs+=(-O "$opx")
    opc="" # derived below, only where an AUTS needs it
  else
    kargs+=(--opc "$opx") oargs+=(-o "$opx")
    opc=$opx
  fi
  kargs+=(--amf "$amf" --rand "$rand") oargs+=(-f "$amf" -r "$rand")
  rnd_int 6; ind_len=$((REPLY < 3 ? 5 : (REPLY == 3 ? 0 : REPLY * 2)))
  if ((ind_len != 5)); then kargs+=(--ind-len "$ind_len"); oargs+=(-l "$ind_len"); fi

  expect_refusal=0
  if ((c % 3 == 0)); then
    # Resynchronisation: a USIM at a random SQN_MS (edges included).
    rnd_hex 6; sqn_ms=$REPLY
    rnd_int 6
    case $REPLY in
      0) sqn_ms=ffffffffffff ;;
      1) sqn_ms=$(printf '%012x' $((SQN_MAX - (16#${sqn_ms:10:2}) % 40))) ;;
      2) sqn_ms=0000000000${sqn_ms:10:2} ;;
    esac
    if [ -z "$opc" ]; then opc_from_op "$k" "$opx"; opc=$REPLY; fi
    make_auts "$k" "$opc" "$rand" "$sqn_ms"; auts=$REPLY
    if ((c % 27 == 0)); then
      # Corrupt one nibble (never to itself): both tools must refuse.
      rnd_int 28; pos=$REPLY
      rnd_int 15; nib=$(printf '%x' $(((16#${auts:pos:1} ^ (REPLY + 1)) & 15)))
      auts=${auts:0:pos}$nib${auts:pos+1}
      expect_refusal=1
    fi
    kargs+=(--auts "$auts") oargs+=(-A "$auts")
    # The IND slot: from --sqn, from --ind, or the default 0.
    rnd_int 3
    case $REPLY in
      0) kargs+=(--sqn "$sqn") oargs+=(-s "$sqn") ;;
      1) rnd_int $((1 << ind_len)); kargs+=(--ind "$REPLY") oargs+=(-i "$REPLY") ;;
    esac
    n_auts=$((n_auts + 1))
  else
    kargs+=(--sqn "$sqn") oargs+=(-s "$sqn")
  fi

  krc=0 orc=0
  timeout 10 "$KORYO" auc-gen "${kargs[@]}" >"$T/k.out" 2>"$T/k.err" || krc=$?
  timeout 10 "$OSMO" -3 -a milenage "${oargs[@]}" >"$T/o.raw" 2>"$T/o.err" || orc=$?
  show="case $c: koryo auc-gen ${kargs[*]}  |  osmo-auc-gen -3 -a milenage ${oargs[*]}"

  if ((expect_refusal)); then
    ((krc == 1)) || fail "corrupt AUTS not refused by koryo (rc $krc): $show"
    ((orc != 0)) || fail "corrupt AUTS not refused by osmo-auc-gen: $show"
    [ ! -s "$T/k.out" ] || fail "koryo printed a vector for a corrupt AUTS: $show"
    n_refused=$((n_refused + 1))
    continue
  fi
  ((orc == 0)) || { cat "$T/o.err" >&2; fail "osmo-auc-gen failed (rc $orc): $show"; }
  ((krc == 0)) || { cat "$T/k.err" >&2; fail "koryo auc-gen failed (rc $krc): $show"; }
  normalise_osmo <"$T/o.raw" >"$T/o.out"
  if ! cmp -s "$T/k.out" "$T/o.out"; then
    diff -u --label osmo-auc-gen --label koryo "$T/o.out" "$T/k.out" >&2 || true
    fail "outputs differ: $show"
  fi
  # Secrets never appear in the output.
  if grep -qi -e "$k" -e "$opx" ${opc:+-e "$opc"} "$T/k.out"; then
    fail "koryo auc-gen printed key material: $show"
  fi
  n_ok=$((n_ok + 1))
done

echo "PASS: $n_ok vectors equal to osmo-auc-gen ($n_auts with AUTS), $n_refused corrupt AUTS refused by both"
