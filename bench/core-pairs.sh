#!/usr/bin/env bash
# Issue 2 through the machine's noise: owl text `get` against redis-server `GET` in many short
# alternating pairs instead of core-load.sh's three 10 s runs. Same setup as core-load.sh (100k keys,
# 50 connections, servers on core 0, load tool on core 1, warm-up first); each pair runs redis then
# owl (or owl then redis, alternately, so neither always goes first) for SECS seconds.
# Prints per pair: ops/s of each, owl/redis, and each server's CPU per request split into user and
# system time (from /proc/PID/stat). Then the medians, how many pairs reach 1.0, and the median
# user-space time per request of each server: both make the same system calls per request, so user
# space is where a lead has to come from, and it is steadier than throughput here.
# Usage: [PIPELINE=1] [WARMUP_SECS=3] bash bench/core-pairs.sh [pairs=20] [seconds=3]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PAIRS=${1:-20}; SECS=${2:-3}; P=${PIPELINE:-1}
LG=$(loadgen_bin)
RPORT=$(free_port); OPORT=$(free_port)
start_redis "$RPORT"
start_owl "$OPORT" 0
common=(--keys 100000 --conns 50 --warmup 1)
taskset -c 1 "$LG" --proto resp --port "$RPORT" --preload "${common[@]}" --seconds 1 --requests 1 >/dev/null 2>&1
taskset -c 1 "$LG" --proto owl --port "$OPORT" --skip-banner --preload "${common[@]}" --seconds 1 --requests 1 >/dev/null 2>&1
WARM=${WARMUP_SECS:-3}
if [ "$WARM" != 0 ]; then
  taskset -c 1 "$LG" --proto resp --port "$RPORT" "${common[@]}" --seconds "$WARM" --pipeline "$P" >/dev/null
  taskset -c 1 "$LG" --proto owl --port "$OPORT" --skip-banner "${common[@]}" --seconds "$WARM" --pipeline "$P" >/dev/null
fi
# run NAME PID ARGS… → sets OPS, USER_US, SYS_US (CPU µs per request over the run and its warm-up second)
run() {
  local pid=$1; shift
  local u0 s0 u1 s1 out
  read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  out=$(taskset -c 1 "$LG" "$@" "${common[@]}" --seconds "$SECS" --pipeline "$P")
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  OPS=$(ops "$out")
  USER_US=$(awk -v t=$((u1 - u0)) -v o="$OPS" -v s="$SECS" 'BEGIN { printf "%.2f", t * 10000 / (o * (s + 1)) }')
  SYS_US=$(awk -v t=$((s1 - s0)) -v o="$OPS" -v s="$SECS" 'BEGIN { printf "%.2f", t * 10000 / (o * (s + 1)) }')
}
ratios=(); ru=(); ou=(); rs=(); os=(); above=0
for i in $(seq "$PAIRS"); do
  if (( i % 2 )); then
    run "$REDIS_PID" --proto resp --port "$RPORT"; R=$OPS; RU=$USER_US; RS=$SYS_US
    run "$OWL_PID" --proto owl --skip-banner --check --port "$OPORT"; O=$OPS; OU=$USER_US; OS=$SYS_US
  else
    run "$OWL_PID" --proto owl --skip-banner --check --port "$OPORT"; O=$OPS; OU=$USER_US; OS=$SYS_US
    run "$REDIS_PID" --proto resp --port "$RPORT"; R=$OPS; RU=$USER_US; RS=$SYS_US
  fi
  Q=$(ratio "$O" "$R"); ratios+=("$Q"); ru+=("$RU"); ou+=("$OU"); rs+=("$RS"); os+=("$OS")
  awk -v q="$Q" 'BEGIN { exit !(q >= 1.0) }' && above=$((above + 1))
  echo "pair $i: redis $R ops/s (user $RU + sys $RS us/req), owl $O ops/s (user $OU + sys $OS us/req), owl/redis $Q"
done
echo "pipeline $P, $PAIRS pairs of ${SECS} s: owl/redis median $(median "${ratios[@]}"), $above of $PAIRS pairs >= 1.0"
echo "  CPU per request, medians: redis-server user $(median "${ru[@]}") + sys $(median "${rs[@]}") us, owlcache user $(median "${ou[@]}") + sys $(median "${os[@]}") us"
