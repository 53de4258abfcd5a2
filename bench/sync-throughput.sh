#!/usr/bin/env bash
# Issue 8: owl `set` throughput of a node with sync to 2 peers vs the same node without sync,
# side by side in one run (server under test on core 0, load tool and both peers on core 1),
# alternating runs, medians. The peers take real batches over HTTP and apply them.
# The machine is shared, so besides ops/s it reports ops per CPU-second of the server under
# test (from /proc/PID/stat), which other processes on the core do not distort.
# LONE=1 adds a third node with sync on and no peers (its gossip list holds only itself): what the
# digest upkeep alone costs a write, apart from streaming it to peers.
# PEER_CORES=0,1 lets the peers run on either core (default 1: beside the load tool); PEER_SCHED=-b
# or -i starts them under `chrt` (SCHED_BATCH or SCHED_IDLE). With SCHED_IDLE they fall behind at
# full load and the node drops their backlog (the "dropped" count shows it): not a valid run.
# Usage: [WARMUP_SECS=5] [LONE=1] [PEER_CORES=…] [PEER_SCHED=…] bash bench/sync-throughput.sh [seconds=5] [runs=3] [pipeline=1]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-5}; RUNS=${2:-3}; PIPE=${3:-1}
LG=$(loadgen_bin)
KEY=bench-sync-key-0123456789

gossip() { # DIR ADDR... : writes the gossip list file
  local dir=$1; shift; mkdir -p "$dir"
  printf '[%s]' "$(for a in "$@"; do printf '{"Cmd":"","Address":"%s","Pass":"","Token":""},' "$a"; done | sed 's/,$//')" > "$dir/server_group_gossip_config.json"
}

# start_sync_node CORE NICE TCP HTTP DIR [PROFILE-DIR] → pid in NODE_PID
# (SYNC_PROF=dir / PEER_PROF=dir: `bun --cpu-prof` profiles of the sync node / the peers, written at exit)
start_sync_node() {
  local core=$1 niceness=$2 tcp=$3 http=$4 dir=$5 prof=${6:-}
  local flags=(); [ -n "$prof" ] && flags=(--cpu-prof "--cpu-prof-dir=$prof")
  local sched=(); [ -n "${7:-}" ] && sched=(chrt "$7" 0)
  (cd "$dir" && exec "${sched[@]}" nice -n "$niceness" taskset -c "$core" bun "${flags[@]}" run "$ROOT/src/main.ts" -config /dev/null --set Tcpport="$tcp" --set Respport=0 --set Httpport="$http" \
     --set Pass=bench-password-1 --set DBfile=./db --set Logfile=./log --set GroupDataSync=1 --set GossipDataSyncAuthKey=$KEY \
     > "$dir/out" 2>&1) &
  NODE_PID=$!; PIDS+=("$NODE_PID"); wait_port "$tcp"
}

PLAIN=$(free_port); S_TCP=$(free_port); S_HTTP=$(free_port)
P1_TCP=$(free_port); P1_HTTP=$(free_port); P2_TCP=$(free_port); P2_HTTP=$(free_port)
ALL=("127.0.0.1:$S_HTTP" "127.0.0.1:$P1_HTTP" "127.0.0.1:$P2_HTTP")
for d in sync p1 p2; do gossip "$WORK/$d/db" "${ALL[@]}"; done
start_owl "$PLAIN" 0; PLAIN_PID=$OWL_PID
if [ -n "${LONE:-}" ]; then
  L_TCP=$(free_port); L_HTTP=$(free_port); gossip "$WORK/lone/db" "127.0.0.1:$L_HTTP"
  start_sync_node 0 0 "$L_TCP" "$L_HTTP" "$WORK/lone"; LONE_PID=$NODE_PID
fi
start_sync_node 0 0 "$S_TCP" "$S_HTTP" "$WORK/sync" "${SYNC_PROF:-}"; SYNC_PID=$NODE_PID
# The peers share core 1 with the load tool (PEER_NICE=19 keeps them from slowing it, but then
# they fall behind at full load, the sync node drops their backlog and anti-entropy repairs them,
# which costs the sync node more than the stream would).
start_sync_node "${PEER_CORES:-1}" "${PEER_NICE:-0}" "$P1_TCP" "$P1_HTTP" "$WORK/p1" "${PEER_PROF:-}" "${PEER_SCHED:-}"; P1_PID=$NODE_PID
start_sync_node "${PEER_CORES:-1}" "${PEER_NICE:-0}" "$P2_TCP" "$P2_HTTP" "$WORK/p2" "${PEER_PROF:-}" "${PEER_SCHED:-}"; P2_PID=$NODE_PID
sleep 1.5 # peers link (gossip file re-read) and run their first digest round

common=(--proto owl --skip-banner --check --get-ratio 0 --keys 100000 --conns 50 --pipeline "$PIPE" --seconds "$SECS" --warmup 1)
# run PORT PID → "ops/s ops-per-cpu-second p99 load-tool-cpu"
run() {
  local before after out total
  before=$(cpu_ticks "$2")
  out=$(taskset -c 1 "$LG" --port "$1" "${common[@]}")
  after=$(cpu_ticks "$2")
  total=$(grep -Eo '(^| )ops=[0-9]+' <<<"$out" | tail -1 | cut -d= -f2)
  # the warm-up second is not in ops but is in the CPU time: scale ops by (warmup+secs)/secs
  echo "$(ops "$out") $(awk -v o="$total" -v t=$((after - before)) -v s="$SECS" 'BEGIN { printf "%.0f", o * (s + 1) / s / (t / 100) }') $(p99 "$out") $(grep -Eo 'client_cpu=[0-9.]+' <<<"$out" | tail -1 | cut -d= -f2)"
}
sent_total() { curl -s "http://127.0.0.1:$S_HTTP/sync/status" | grep -Eo '"sent":[0-9]+' | cut -d: -f2 | paste -sd+ | bc; }
# Warm-up, not measured (WARMUP_SECS, default 5; 0 = none): each process first compiles its hot
# paths with the JIT. For the peers that is ~1 s of compiler-thread CPU on core 1, which would
# otherwise be taken from the load tool during the first measured runs; servers are compared in
# their steady state, both nodes warmed alike.
WARM=${WARMUP_SECS:-5}
if [ "$WARM" != 0 ]; then
  warm=(--proto owl --skip-banner --get-ratio 0 --keys 100000 --conns 50 --pipeline "$PIPE" --seconds "$WARM" --warmup 0)
  taskset -c 1 "$LG" --port "$PLAIN" "${warm[@]}" >/dev/null
  taskset -c 1 "$LG" --port "$S_TCP" "${warm[@]}" >/dev/null
  if [ -n "${LONE:-}" ]; then taskset -c 1 "$LG" --port "$L_TCP" "${warm[@]}" >/dev/null; fi
  sleep 1 # the peers catch up with the warm-up's stream
fi
sent_before=$(sent_total)
p=(); s=(); pc=(); sc=(); pp=(); sp=(); l=(); lc=(); pt=(); st=()
peer_ticks=0
for r in $(seq "$RUNS"); do
  read -r a b c d <<<"$(run "$PLAIN" "$PLAIN_PID")"; p+=("$a"); pc+=("$b"); pp+=("$c"); pt+=("$d")
  if [ -n "${LONE:-}" ]; then read -r a b _ <<<"$(run "$L_TCP" "$LONE_PID")"; l+=("$a"); lc+=("$b"); fi
  before=$(( $(cpu_ticks "$P1_PID") + $(cpu_ticks "$P2_PID") ))
  read -r a b c d <<<"$(run "$S_TCP" "$SYNC_PID")"; s+=("$a"); sc+=("$b"); sp+=("$c"); st+=("$d")
  peer_ticks=$(( peer_ticks + $(cpu_ticks "$P1_PID") + $(cpu_ticks "$P2_PID") - before ))
done
P=$(median "${p[@]}"); S=$(median "${s[@]}"); PC=$(median "${pc[@]}"); SC=$(median "${sc[@]}")
echo "pipeline $PIPE: set without sync ${P} ops/s (p99 $(median "${pp[@]}") us), with sync to 2 peers ${S} ops/s (p99 $(median "${sp[@]}") us), sync/plain = $(ratio "$S" "$P")  [runs: plain ${p[*]} | sync ${s[*]}]"
# The load tool shares core 1 with both peers: its share of the core against each node shows what the peers took from it.
echo "load tool CPU (of core 1): against the node without sync $(median "${pt[@]}"), with sync $(median "${st[@]}")"
echo "server CPU efficiency: without sync ${PC} sets per CPU-second, with sync ${SC}, sync/plain = $(ratio "$SC" "$PC")  [runs: plain ${pc[*]} | sync ${sc[*]}]"
if [ -n "${LONE:-}" ]; then
  L=$(median "${l[@]}"); LC=$(median "${lc[@]}")
  echo "sync on, no peers: ${L} ops/s = $(ratio "$L" "$P") of plain, ${LC} sets per CPU-second = $(ratio "$LC" "$PC")  [runs: ${l[*]} | ${lc[*]}]"
fi
status=$(curl -s "http://127.0.0.1:$S_HTTP/sync/status")
echo "sync node after the runs: $(echo "$status" | grep -Eo '"(keys|queueDepth|dropped|sent|batches)":[0-9]+' | tr '\n' ' ')"
for h in "$P1_HTTP" "$P2_HTTP"; do echo "peer $h keys: $(curl -s "http://127.0.0.1:$h/sync/status" | grep -Eo '"keys":[0-9]+' | head -1)"; done
sent=$(( $(echo "$status" | grep -Eo '"sent":[0-9]+' | cut -d: -f2 | paste -sd+ | bc) - sent_before ))
# (records sent during the plain runs' gaps are few: the stream follows the sync runs closely)
echo "peers' CPU during the sync runs: $(awk -v t="$peer_ticks" -v n="$sent" 'BEGIN { printf "%.2f", t * 10000 / n }') µs per applied record (both peers, $sent records)"
