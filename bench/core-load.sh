#!/usr/bin/env bash
# Issue 2: owl text `get` of existing keys vs redis-server GET, same load tool, same pinning,
# side by side in one run (50 connections, pipeline 1 and 16, three runs, medians).
# Before the measured runs both servers get the same unmeasured GET load at each pipeline
# (WARMUP_SECS, default 3; 0 = none): without it the first owl run measured the JIT compiling the
# get path (2026-11-30: 137k against 149–152k in the later runs of the same script).
# Usage: [WARMUP_SECS=3] bash bench/core-load.sh [seconds=10] [runs=3]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-10}; RUNS=${2:-3}
LG=$(loadgen_bin)
RPORT=$(free_port); OPORT=$(free_port)
start_redis "$RPORT"
start_owl "$OPORT" 0
common=(--keys 100000 --conns 50 --seconds "$SECS" --warmup 1)
taskset -c 1 "$LG" --proto resp --port "$RPORT" --preload "${common[@]}" --requests 1 >/dev/null
taskset -c 1 "$LG" --proto owl --port "$OPORT" --skip-banner --preload "${common[@]}" --requests 1 >/dev/null
WARM=${WARMUP_SECS:-3}
if [ "$WARM" != 0 ]; then
  for P in 1 16; do
    warm=(--keys 100000 --conns 50 --seconds "$WARM" --warmup 0 --pipeline "$P")
    taskset -c 1 "$LG" --proto resp --port "$RPORT" "${warm[@]}" >/dev/null
    taskset -c 1 "$LG" --proto owl --port "$OPORT" --skip-banner "${warm[@]}" >/dev/null
  done
fi
# share TICKS → the share of a core those ticks are over one run (its warm-up second included)
share() { awk -v t="$1" -v s="$SECS" 'BEGIN { printf "%.2f", t / 100 / (s + 1) }'; }
client_cpu() { grep -Eo 'client_cpu=[0-9.]+' <<<"$1" | tail -1 | cut -d= -f2; }
# Besides ops/s: each server's share of its core (from /proc/PID/stat; both near 1.0 means the
# servers are the limit) and the load tool's (near 1.0: the tool limits too, and an owl reply,
# ~170 bytes of JSON against RESP's ~40, costs it more to read).
for P in 1 16; do
  r=(); o=(); rp=(); op=(); rs=(); os=(); rt=(); ot=()
  for run in $(seq "$RUNS"); do
    b=$(cpu_ticks "$REDIS_PID")
    out=$(taskset -c 1 "$LG" --proto resp --port "$RPORT" --pipeline "$P" "${common[@]}"); r+=("$(ops "$out")"); rp+=("$(p99 "$out")")
    rs+=("$(share $(( $(cpu_ticks "$REDIS_PID") - b )))"); rt+=("$(client_cpu "$out")")
    b=$(cpu_ticks "$OWL_PID")
    out=$(taskset -c 1 "$LG" --proto owl --port "$OPORT" --skip-banner --check --pipeline "$P" "${common[@]}"); o+=("$(ops "$out")"); op+=("$(p99 "$out")")
    os+=("$(share $(( $(cpu_ticks "$OWL_PID") - b )))"); ot+=("$(client_cpu "$out")")
  done
  R=$(median "${r[@]}"); O=$(median "${o[@]}")
  echo "pipeline $P: redis GET ${R} ops/s (p99 $(median "${rp[@]}") us), owl get ${O} ops/s (p99 $(median "${op[@]}") us), owl/redis = $(ratio "$O" "$R")  [runs: redis ${r[*]} | owl ${o[*]}]"
  echo "  share of a core (medians): redis-server $(median "${rs[@]}"), load tool $(median "${rt[@]}") | owlcache $(median "${os[@]}"), load tool $(median "${ot[@]}")"
done
