#!/bin/bash
# gen_subscribers.sh: deterministic subscriber CSV (docs/import.md format) for
# the Koryolink profile. Only bash and awk (mawk is enough); same output every run.
#
#   bench/gen_subscribers.sh N [START_IMSI_SUFFIX]
#       N bench subscribers on stdout. IMSI = 46705 + 10-digit suffix, suffixes
#       START..START+N-1 (default START 5000000000, clear of the demo SIMs).
#       MSISDN = 85019 + suffix (15 digits, a bench-only range that cannot meet
#       the 14-digit demo numbers), ICCID = 89850050 + suffix + Luhn digit.
#       K and OPc are random-looking but fixed hex; classes and cities follow
#       profiles/koryolink (about 70 % citizens, 5 % foreigners, 25 % officials).
#
#   bench/gen_subscribers.sh --demo
#       The profile's demo subscribers (profiles/koryolink/subscribers.csv):
#       300 citizens, 300 foreigners, 300 officials with the documented keys
#       K = "k"+IMSI, OP = "koryolink-op-467" (docs/profile.md, "Demo SIMs").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cities=${KORYO_CITIES:-$here/../profiles/koryolink/cities.csv}
[ -r "$cities" ] || { echo "gen_subscribers.sh: cannot read $cities" >&2; exit 2; }

usage() {
  echo "usage: $0 N [START_IMSI_SUFFIX] | $0 --demo" >&2
  exit 2
}

mode=bench n=0 start=5000000000
case "${1:-}" in
  --demo) mode=demo ;;
  '' | *[!0-9]*) usage ;;
  *)
    n=$1
    start=${2:-$start}
    case "$start" in '' | *[!0-9]*) usage ;; esac
    # 10-digit suffixes only: the last one must stay below 10^10.
    if [ ${#start} -gt 10 ] || [ $((10#$start + 10#$n)) -gt 10000000000 ]; then
      echo "gen_subscribers.sh: START+N must not exceed 10000000000" >&2
      exit 2
    fi
    ;;
esac

exec awk -v mode="$mode" -v n="$n" -v start="$start" -F, '
# ---------- shared helpers ----------
function lcg(s) { return (s * 16807) % 2147483647 }   # Park-Miller, exact in doubles

# Luhn check digit of a digit string (the digit to append).
function luhn(s,    i, d, sum, dbl) {
  sum = 0; dbl = 1
  for (i = length(s); i >= 1; i--) {
    d = substr(s, i, 1) + 0
    if (dbl) { d *= 2; if (d > 9) d -= 9 }
    sum += d; dbl = !dbl
  }
  return (10 - sum % 10) % 10
}

# Luhn sum of a 5-digit block; dodd=1 doubles its 1st, 3rd and 5th digits,
# dodd=0 its 2nd and 4th.
function blocksum(v, dodd,    i, d, sum, s) {
  s = sprintf("%05d", v); sum = 0
  for (i = 1; i <= 5; i++) {
    d = substr(s, i, 1) + 0
    if ((i % 2 == 1) == (dodd == 1)) { d *= 2; if (d > 9) d -= 9 }
    sum += d
  }
  return sum
}

# hex of an ASCII string made of "k" and digits (the demo K)
function khex(s,    i, h) {
  h = "6b"
  for (i = 2; i <= length(s); i++) h = h "3" substr(s, i, 1)
  return h
}

# fill slot[0..999] with city names in proportion to weight w[city]
function slots(w, slot,    c, tot, k, acc, cnt, j) {
  tot = 0
  for (k = 1; k <= ncity; k++) tot += w[city[k]]
  j = 0; acc = 0
  for (k = 1; k <= ncity; k++) {
    acc += w[city[k]]
    cnt = int(acc * 1000 / tot + 0.5)
    while (j < cnt) slot[j++] = city[k]
  }
  while (j < 1000) slot[j++] = city[ncity]
}

function words(s, a) { return split(s, a, " ") }

BEGIN {
  ncity = 0
}
# ---------- cities.csv ----------
FNR == 1 {
  for (i = 1; i <= NF; i++) col[$i] = i
  next
}
{
  c = $(col["name"]); ncity++; city[ncity] = c
  pop[c] = $(col["population"]) + 0; kind[c] = $(col["kind"])
}
END {
  # Weights. Citizens: population, smaller cities at half weight (coverage
  # started in the capital and the main cities). Officials: mostly the
  # capital. Foreigners: the capital, the border/trade cities, tourist sites.
  for (k = 1; k <= ncity; k++) {
    c = city[k]
    wc[c] = (kind[c] == "small") ? pop[c] / 2 : pop[c]
    wo[c] = (kind[c] == "capital") ? 3 * pop[c] : ((kind[c] == "small") ? pop[c] / 4 : pop[c] / 2)
    wf[c] = 0
  }
  split("Pyongyang 550 Sinuiju 120 Rason 120 Nampo 50 Kaesong 40 Wonsan 40 Hamhung 30 Chongjin 30 Hyesan 20", fw, " ")
  for (k = 1; k in fw; k += 2) if (fw[k] in pop) wf[fw[k]] = fw[k + 1] + 0
  slots(wc, slotc); slots(wo, sloto); slots(wf, slotf)

  # Korean names (North Korean romanisation, surname first)
  nsur = words("Kim Ri Pak Choe Jong Kang Jo Yun Jang Han O So Sin Kwon Hwang An Song Ryu Hong Jon Ko Mun Yang Son Paek Ho Nam Sim Ro Ha Kwak Cha Ju Min Chae Chon Ryang Kye Pyon Hyon", sur)
  ngiv = split("Chol Ho,Yong Nam,Myong Hui,Song Il,Kwang Chol,Un Jong,Hyok Chol,Chun Hui,Kyong Hui,Jin Hyok,Su Yong,Ok Sun,Myong Chol,Kum Sun,Yong Chol,Son Hui,Hyon Su,Jong Nam,Song Ae,Chol Min,Ryong Ho,Thae Song,Hye Gyong,Il Chol,Kwang Hyok,Un Ha,Mi Ran,Chang Ho,Nam Chol,Yong Ae,Tong Il,Jin Ok,Hak Chol,Chol Jun,Yong Ho,Sang Chol,Kum Hui,Song Chol,Hyang Mi,Ju Song,Chung Il,Sol Hui,Won Chol,Ryon Hui,Kuk Chol", giv, ",")

  # Foreigners: nationality slots (mostly Chinese and Russian), and per
  # nationality given names, surnames (index 0 = male/any, 1 = female where
  # the surname has a gender), name order and a passport-like pattern.
  nnat = words("CHN CHN CHN CHN CHN CHN CHN CHN CHN CHN RUS RUS RUS RUS RUS DEU DEU GBR GBR SWE SWE EGY EGY FRA ITA POL MNG VNM IND CHE NLD USA", natslot)
  G["CHN"] = "Wei,Na,Jie,Lei,Min,Xin,Yang,Fang,Jun,Hui,Qiang,Yan"
  S0["CHN"] = "Wang,Li,Zhang,Liu,Chen,Yang,Zhao,Huang,Zhou,Wu,Sun,Ma"
  G["RUS"] = "Ivan,Dmitry,Sergei,Alexei,Mikhail,Andrei,Nikolai,Pavel"
  GF["RUS"] = "Olga,Anna,Elena,Natalia,Tatiana,Irina,Svetlana,Maria"
  S0["RUS"] = "Petrov,Volkov,Popov,Morozov,Novikov,Fedorov,Orlov,Pavlov"
  S1["RUS"] = "Petrova,Volkova,Popova,Morozova,Novikova,Fedorova,Orlova,Pavlova"
  G["DEU"] = "Thomas,Anna,Michael,Julia,Stefan,Katrin,Jürgen,Sabine"
  S0["DEU"] = "Müller,Schmidt,Schneider,Fischer,Weber,Becker,Wagner,Hoffmann"
  G["GBR"] = "James,Emily,Oliver,Charlotte,David,Sarah,Thomas,Hannah"
  S0["GBR"] = "Smith,Clarke,Cooper,Walker,Wright,Taylor,Hughes,Evans"
  G["SWE"] = "Erik,Karin,Lars,Anna,Johan,Ingrid,Anders,Sofia"
  S0["SWE"] = "Johansson,Lindqvist,Andersson,Nilsson,Eriksson,Larsson,Berg,Sjöberg"
  G["EGY"] = "Ahmed,Mona,Mohamed,Nour,Omar,Yasmin,Karim,Heba"
  S0["EGY"] = "Hassan,Farouk,Mansour,Ibrahim,Nasser,Saleh,Fahmy,Gamal"
  G["FRA"] = "Pierre,Camille,Julien,Claire,Nicolas,Élodie,Antoine,Sophie"
  S0["FRA"] = "Martin,Bernard,Dubois,Laurent,Moreau,Lefèvre,Girard,Roux"
  G["ITA"] = "Marco,Giulia,Luca,Francesca,Andrea,Chiara,Paolo,Elena"
  S0["ITA"] = "Rossi,Russo,Ferrari,Esposito,Bianchi,Romano,Colombo,Ricci"
  G["POL"] = "Piotr,Tomasz,Krzysztof,Marek"
  GF["POL"] = "Anna,Katarzyna,Magdalena,Agnieszka"
  S0["POL"] = "Kowalski,Nowakowski,Wiśniewski,Zieliński"
  S1["POL"] = "Kowalska,Nowakowska,Wiśniewska,Zielińska"
  G["MNG"] = "Ganbold,Oyuntsetseg,Bat-Erdene,Sarantuya,Temuulen,Enkhjargal"
  S0["MNG"] = "Batbayar,Dorj,Tsend,Ganzorig,Erdenebat,Altankhuyag"
  G["VNM"] = "Van An,Thi Lan,Minh Tuan,Thi Hoa,Quang Huy,Thu Trang"
  S0["VNM"] = "Nguyen,Tran,Le,Pham,Hoang,Vu"
  G["IND"] = "Rahul,Priya,Amit,Anjali,Vikram,Neha"
  S0["IND"] = "Sharma,Patel,Singh,Gupta,Iyer,Nair"
  G["CHE"] = "Lukas,Laura,Beat,Nicole,Reto,Sandra"
  S0["CHE"] = "Meier,Keller,Brunner,Frei,Huber,Graf"
  G["NLD"] = "Jan,Sanne,Pieter,Anouk,Bas,Lotte"
  S0["NLD"] = "de Vries,Jansen,Bakker,Visser,Smit,de Boer"
  G["USA"] = "John,Jennifer,Michael,Jessica,Robert,Ashley"
  S0["USA"] = "Johnson,Williams,Brown,Miller,Davis,Wilson"
  surfirst["CHN"] = 1; surfirst["VNM"] = 1
  # passport-like numbers: prefix and digit count
  split("CHN E 8 RUS 75 7 DEU C 8 GBR 5 8 SWE 9 7 EGY A 8 FRA 18FK 5 ITA YA 7 POL EA 7 MNG E 7 VNM C 7 IND K 7 CHE X 7 NLD NX 7 USA 5 8", pp, " ")
  for (k = 1; k in pp; k += 3) { ppre[pp[k]] = pp[k + 1]; pdig[pp[k]] = pp[k + 2] + 0 }

  # officials: issuing organisations (Party, Cabinet agencies, Ministry of
  # People\x27s Security, State Security Department, army, courts)
  norgslot = words("WPK WPK WPK WPK CAB CAB CAB CAB MPS MPS MPS MPS SSD SSD SSD KPA KPA KPA CC CC", orgslot)

  split("citizen foreigner official", cls, " ")
  if (mode == "demo") {
    print "imsi,msisdn,iccid,class,status,name,id_document,nationality,city,k,op,amf,sqn"
    demo()
  } else {
    print "imsi,msisdn,iccid,class,status,name,id_document,nationality,city,k,opc,amf,sqn"
    bench()
  }
}

function csvq(s) { return (s ~ /[,"]/) ? "\"" s "\"" : s }

function foreign_name(nat, x,    g, s, gg, ss, ng, ns, fem) {
  fem = (x % 2 == 1) && (nat in GF)
  ng = split(fem ? GF[nat] : G[nat], gg, ",")
  ns = split((fem && (nat in S1)) ? S1[nat] : S0[nat], ss, ",")
  g = gg[1 + int(x / 2) % ng]; s = ss[1 + int(x / 7) % ns]
  return (nat in surfirst) ? s " " g : g " " s
}

function passport(nat, v) {
  return ppre[nat] sprintf("%0" pdig[nat] "d", v % (10 ^ pdig[nat]))
}

# ---------- demo: the profile subscribers ----------
function demo(    c, i, x, suffix, imsi, msisdn, iccid, st, name, doc, nat, cty, h, org, num, mid) {
  op = "6b6f72796f6c696e6b2d6f702d343637"     # "koryolink-op-467"
  split("2 3 1", mid, " ")                    # MSISDN 850 191x: citizen 2, foreigner 3, official 1
  x = 20130107
  for (c = 1; c <= 3; c++) {
    for (i = 1; i <= 300; i++) {
      x = lcg(x)
      suffix = (c - 1) "0000" sprintf("%05d", i)
      imsi = "46705" suffix
      msisdn = "850191" mid[c] sprintf("%07d", i)
      iccid = "89850050" suffix; iccid = iccid luhn(iccid)
      st = "active"
      if (i % 50 == 17) st = "pending"
      else if (i % 75 == 40) st = "suspended"
      else if (i % 100 == 99) st = "terminated"
      if (cls[c] == "foreigner") {
        nat = natslot[1 + (i * 7) % nnat]
        name = foreign_name(nat, i * 3 + 1)
        doc = passport(nat, i * 104729 + 1000003)
        cty = slotf[x % 1000]
      } else {
        nat = "PRK"
        # holders: traders keep several SIMs (every 25th citizen SIM belongs
        # to the holder of the previous one; SIMs 201-203 to one holder)
        h = i
        if (cls[c] == "citizen") {
          if (i % 25 == 0) h = i - 1
          if (i >= 201 && i <= 203) h = 201
        }
        name = sur[1 + (h * 7 + c * 11) % nsur] " " giv[1 + (h * 13 + c * 5) % ngiv]
        if (cls[c] == "citizen") {
          doc = sprintf("PRK-ID-%09d", (h * 7654321 + 104729) % 1000000000)
          cty = slotc[x % 1000]
        } else {
          org = orgslot[1 + (i * 3) % norgslot]
          doc = sprintf("OFF-%s-%04d", org, ++orgn[org])
          cty = sloto[x % 1000]
        }
      }
      # remember the first trader city so all SIMs of one holder share it
      if (cls[c] == "citizen") { if (h == i) hcity[h] = cty; else cty = hcity[h] }
      print imsi "," msisdn "," iccid "," cls[c] "," st "," csvq(name) "," doc "," nat "," cty "," khex("k" imsi) "," op ",0000,0"
    }
  }
}

# ---------- bench: N subscribers from START ----------
function bench(    i, hi, lo, hs, ls, x, y, z, w, P, HI, LO, T, cl, sfx, name, doc, nat, cty, st, fn, fnat, nfn, kns, r, iccid, pre) {
  # 4096 random 32-bit hex words for K and OPc
  x = 1234567
  for (i = 0; i < 4096; i++) { x = lcg(x); y = lcg(x); T[i] = sprintf("%04x%04x", x % 65536, y % 65536); x = y }
  # Korean names for citizens and officials
  kns = 0
  for (i = 1; i <= nsur; i++) for (r = 1; r <= ngiv; r++) KN[kns++] = sur[i] " " giv[r]
  # foreign holders: a pool of names with their nationality
  nfn = 0
  for (i = 0; i < 512; i++) { nat = natslot[1 + (i * 7) % nnat]; FN[i] = csvq(foreign_name(nat, i * 3 + 1)); FNAT[i] = nat }
  pre = "89850050"
  P = 0; for (i = 1; i <= 8; i++) { r = substr(pre, i, 1) + 0; if (i % 2 == 0) { r *= 2; if (r > 9) r -= 9 } P += r }
  hi = int(start / 100000); lo = start % 100000
  hs = sprintf("%05d", hi); HIS = blocksum(hi, 0)
  w = (start % 2147483646) + 1
  for (i = 0; i < n; i++) {
    if (!(lo in LO)) { LO[lo] = blocksum(lo, 1); LS[lo] = sprintf("%05d", lo) }
    sfx = hs LS[lo]
    iccid = pre sfx ((10 - (P + HIS + LO[lo]) % 10) % 10)
    x = lcg(w); y = lcg(x); z = lcg(y); w = lcg(z)
    r = x % 100
    if (r < 70) {
      cl = "citizen"; nat = "PRK"; name = KN[int(x / 100) % kns]
      doc = "PRK-ID-" LS[lo] hs; cty = slotc[y % 1000]
    } else if (r < 75) {
      cl = "foreigner"; fn = int(x / 100) % 512; name = FN[fn]; nat = FNAT[fn]
      doc = ppre[nat] LS[lo] hs; cty = slotf[y % 1000]
    } else {
      cl = "official"; nat = "PRK"; name = KN[int(x / 100) % kns]
      doc = "OFF-" orgslot[1 + int(x / 1000) % norgslot] "-" hs LS[lo]; cty = sloto[y % 1000]
    }
    st = (int(y / 1000) % 100 == 0) ? "suspended" : "active"
    print "46705" sfx ",85019" sfx "," iccid "," cl "," st "," name "," doc "," nat "," cty "," \
      T[z % 4096] T[int(z / 4096) % 4096] T[w % 4096] T[int(x / 4096) % 4096] "," \
      T[int(w / 4096) % 4096] T[int(y / 4096) % 4096] T[(x + z) % 4096] T[(y + w) % 4096] ",0000,0"
    if (++lo == 100000) { lo = 0; hi++; hs = sprintf("%05d", hi); HIS = blocksum(hi, 0) }
  }
}
' "$cities"
