#!/usr/bin/env bash
# Issue 9: latency of a `get` that misses, with read-through off, on (Redis asked on every miss,
# Redis does not hold the keys either: the worst case) and on with a dead backend (skipped after
# 2 failures). Three owlcache nodes and the backend redis-server pinned to core 0, the load tool
# to core 1, side by side in one run; medians of three runs.
# Usage: bash bench/readthrough-load.sh [seconds=5] [runs=3] [conns=50]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-5}; RUNS=${2:-3}; CONNS=${3:-50}
LG=$(loadgen_bin)
BPORT=$(free_port); OFF=$(free_port); ON=$(free_port); DEAD=$(free_port); NOWHERE=$(free_port)
start_redis "$BPORT"
start_owl "$OFF" 0
start_owl "$ON" 0 --set Get_data_from_redis=1 --set Redis_Addr=127.0.0.1:"$BPORT"
start_owl "$DEAD" 0 --set Get_data_from_redis=1 --set Redis_Addr=127.0.0.1:"$NOWHERE" --set HttpClient_Request_Timeout_Sleeptime=3600
# --keys 10000000 random: practically every get is a fresh key, so every get misses locally.
common=(--proto owl --skip-banner --check --keys 10000000 --random --conns "$CONNS" --seconds "$SECS" --warmup 1)
declare -A OPS P50 P99
for run in $(seq "$RUNS"); do
  for name in off on dead; do
    case $name in off) port=$OFF;; on) port=$ON;; dead) port=$DEAD;; esac
    out=$(taskset -c 1 "$LG" --port "$port" --seed "$run" "${common[@]}")
    OPS[$name]+="$(ops "$out") "; P50[$name]+="$(grep -Eo 'p50_us=[0-9.]+' <<<"$out" | cut -d= -f2) "; P99[$name]+="$(p99 "$out") "
  done
done
for name in off on dead; do
  # shellcheck disable=SC2086
  o=$(median ${OPS[$name]}); m=$(median ${P50[$name]}); n=$(median ${P99[$name]})
  printf '%-5s get-miss: %10s ops/s  p50 %6s us  p99 %6s us   [ops: %s]\n' "$name" "$o" "$m" "$n" "${OPS[$name]}"
  eval "O_$name=$o; M_$name=$m; N_$name=$n"
done
echo "read-through on / off: throughput $(ratio "$O_on" "$O_off"), p50 $(ratio "$M_on" "$M_off"), p99 $(ratio "$N_on" "$N_off")"
echo "dead backend (skipped) / off: throughput $(ratio "$O_dead" "$O_off"), p50 $(ratio "$M_dead" "$M_off"), p99 $(ratio "$N_dead" "$N_off")"
