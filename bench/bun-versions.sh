#!/usr/bin/env bash
# Does another Bun release serve issue 2's p1 load more cheaply? owlcache under each given Bun
# binary beside redis-server in one run (100k keys, 50 connections, pipeline 1, servers on core 0,
# load tool on core 1), taking turns for ROUNDS rounds of SECS seconds; medians of ops/s and of
# each server's user and system CPU per request (from /proc/PID/stat).
# Other releases install side by side without touching the global one:
#   mkdir -p /tmp/bun-1.3.14 && npm install --prefix /tmp/bun-1.3.14 bun@1.3.14
#   bash bench/bun-versions.sh 8 3 "$(command -v bun)" /tmp/bun-1.3.14/node_modules/.bin/bun
# Usage: bash bench/bun-versions.sh ROUNDS SECS BUN_BINARY...
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:?usage: bash bench/bun-versions.sh ROUNDS SECS BUN_BINARY...}; SECS=${2:?seconds}; shift 2
[ $# -gt 0 ] || { echo "name at least one Bun binary" >&2; exit 1; }
LG=$(loadgen_bin)
common=(--keys 100000 --conns 50 --warmup 1)
RPORT=$(free_port); start_redis "$RPORT"
taskset -c 1 "$LG" --proto resp --port "$RPORT" --preload "${common[@]}" --requests 1 >/dev/null 2>&1
names=(redis); declare -A PID=([redis]=$REDIS_PID) ARGS=([redis]="--proto resp --port $RPORT")
for bin in "$@"; do
  name="bun-$("$bin" --version)"; port=$(free_port)
  OWL_BUN=$bin start_owl "$port" 0
  taskset -c 1 "$LG" --proto owl --skip-banner --port "$port" --preload "${common[@]}" --requests 1 >/dev/null 2>&1
  names+=("$name"); PID[$name]=$OWL_PID; ARGS[$name]="--proto owl --skip-banner --check --port $port"
done
declare -A OPS USER SYS
for round in $(seq "$ROUNDS"); do
  line="round $round:"
  for name in "${names[@]}"; do
    pid=${PID[$name]}
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    # shellcheck disable=SC2086
    o=$(ops "$(taskset -c 1 "$LG" ${ARGS[$name]} "${common[@]}" --seconds "$SECS")")
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    OPS[$name]="${OPS[$name]:-} $o"
    USER[$name]="${USER[$name]:-} $(awk -v t=$((u1 - u0)) -v o="$o" -v s="$SECS" 'BEGIN { printf "%.2f", t * 10000 / (o * (s + 1)) }')"
    SYS[$name]="${SYS[$name]:-} $(awk -v t=$((s1 - s0)) -v o="$o" -v s="$SECS" 'BEGIN { printf "%.2f", t * 10000 / (o * (s + 1)) }')"
    line+=" $name $o"
  done
  echo "$line"
done
# shellcheck disable=SC2086
R=$(median ${OPS[redis]})
for name in "${names[@]}"; do
  # shellcheck disable=SC2086
  M=$(median ${OPS[$name]})
  # shellcheck disable=SC2086
  echo "$name: $M ops/s = $(ratio "$M" "$R")x redis GET; CPU per request user $(median ${USER[$name]}) + sys $(median ${SYS[$name]}) us"
done
