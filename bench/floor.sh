#!/usr/bin/env bash
# The ceiling of a Bun.listen server under the same load tool: redis-server GET, a bare Bun.listen
# answering constant replies (bench/bare-stream-server.ts, per turn of the event loop as owlcache
# does; PER_TURN=0 for the callback-at-a-time floor of earlier runs) and owlcache, side by side in one run,
# for the RESP and the owl protocol, pipeline 1 and 16 (50 connections, medians of RUNS runs).
# Also prints the load tool's own CPU use: at pipeline 1 the tool, not the server, can be the limit.
# Usage: [RUNS=3] LOADGEN=… bash bench/floor.sh [seconds=5]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-5}; RUNS=${RUNS:-3}
LG=$(loadgen_bin)
RPORT=$(free_port); OPORT=$(free_port); ORESP=$(free_port); FRESP=$(free_port); FOWL=$(free_port)
start_redis "$RPORT"
start_owl "$OPORT" "$ORESP"
PORT=$FRESP PROTO=resp PER_TURN=${PER_TURN:-1} taskset -c 0 bun "$ROOT/bench/bare-stream-server.ts" >/dev/null & PIDS+=($!); wait_port "$FRESP"
PORT=$FOWL PROTO=owl PER_TURN=${PER_TURN:-1} taskset -c 0 bun "$ROOT/bench/bare-stream-server.ts" >/dev/null & PIDS+=($!); wait_port "$FOWL"
common=(--keys 100000 --conns 50 --seconds "$SECS" --warmup 1)
taskset -c 1 "$LG" --proto resp --port "$RPORT" --preload "${common[@]}" --requests 1 >/dev/null
taskset -c 1 "$LG" --proto resp --port "$ORESP" --preload "${common[@]}" --requests 1 >/dev/null
cpu() { grep -Eo 'client_cpu=[0-9.]+' <<<"$1" | cut -d= -f2; }
for P in 1 16; do
  declare -A res=() tool=()
  for run in $(seq "$RUNS"); do
    for target in "redis:--proto resp --port $RPORT" "floor-resp:--proto resp --port $FRESP" "owl-resp:--proto resp --port $ORESP" \
                  "floor-owl:--proto owl --skip-banner --port $FOWL" "owl-owl:--proto owl --skip-banner --check --port $OPORT"; do
      name=${target%%:*}; args=${target#*:}
      # shellcheck disable=SC2086
      out=$(taskset -c 1 "$LG" $args --pipeline "$P" "${common[@]}")
      res[$name]="${res[$name]:-} $(ops "$out")"; tool[$name]="${tool[$name]:-} $(cpu "$out")"
    done
  done
  R=$(median ${res[redis]})
  for name in redis floor-resp owl-resp floor-owl owl-owl; do
    # shellcheck disable=SC2086
    M=$(median ${res[$name]})
    # shellcheck disable=SC2086
    echo "pipeline $P  $name: $M ops/s = $(ratio "$M" "$R")x redis GET (load tool CPU $(median ${tool[$name]}))  [runs:${res[$name]}]"
  done
done
