#!/usr/bin/env bash
# Two source trees side by side with redis-server in one run: RESP GET and owl `get` (loadgen,
# 50 connections, 100k keys) at pipeline 16 and 1, the three servers taking turns, medians.
# For before/after of a change: git worktree add /tmp/before <commit> && bash bench/ab-load.sh /tmp/before
# Usage: [LOADGEN_FLAGS=--random] bash bench/ab-load.sh BASE_TREE [seconds=3] [runs=3]
# (loadgen's keys are sequential unless LOADGEN_FLAGS=--random; resp-vs-redis.ts uses random keys)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
BASE=$(cd "${1:?usage: bash bench/ab-load.sh BASE_TREE [seconds] [runs]}" && pwd); SECS=${2:-3}; RUNS=${3:-3}
LG=$(loadgen_bin)
RPORT=$(free_port); BT=$(free_port); BR=$(free_port); NT=$(free_port); NR=$(free_port)
start_redis "$RPORT"
start_tree() { # TREE TCP RESP
  mkdir -p "$WORK/o-$2"
  (cd "$WORK/o-$2" && exec taskset -c 0 bun run "$1/src/main.ts" -config /dev/null --set Tcpport="$2" --set Respport="$3" --set Httpport=0 \
     --set Pass=bench-password-1 --set DBfile=./db --set Logfile=./log > "$WORK/o-$2.out" 2>&1) &
  PIDS+=($!); wait_port "$2"
}
start_tree "$BASE" "$BT" "$BR"
start_tree "$ROOT" "$NT" "$NR"
common=(--keys 100000 --conns 50 --seconds "$SECS" --warmup 1 ${LOADGEN_FLAGS:-})
for p in "$RPORT" "$BR" "$NR"; do taskset -c 1 "$LG" --proto resp --port "$p" --preload "${common[@]}" --requests 1 >/dev/null 2>&1; done
resp() { ops "$(taskset -c 1 "$LG" --proto resp --port "$1" --pipeline "$2" "${common[@]}")"; }
owl() { ops "$(taskset -c 1 "$LG" --proto owl --skip-banner --check --port "$1" --pipeline "$2" "${common[@]}")"; }
for P in 16 1; do
  r=(); b=(); n=(); bo=(); no=()
  for _ in $(seq "$RUNS"); do
    r+=("$(resp "$RPORT" "$P")"); b+=("$(resp "$BR" "$P")"); n+=("$(resp "$NR" "$P")")
    bo+=("$(owl "$BT" "$P")"); no+=("$(owl "$NT" "$P")")
  done
  R=$(median "${r[@]}"); B=$(median "${b[@]}"); N=$(median "${n[@]}"); BO=$(median "${bo[@]}"); NO=$(median "${no[@]}")
  echo "pipeline $P: redis GET $R | RESP GET base $B ($(ratio "$B" "$R")×) this tree $N ($(ratio "$N" "$R")×) | owl get base $BO ($(ratio "$BO" "$R")×) this tree $NO ($(ratio "$NO" "$R")×)  [redis ${r[*]} | base ${b[*]} | tree ${n[*]} | owl base ${bo[*]} | owl tree ${no[*]}]"
done
