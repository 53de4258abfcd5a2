#!/usr/bin/env bash
# RSS with 1,000,000 keys (16-byte keys, 32-byte values) in owlcache vs redis-server, same run.
# Usage: bash bench/rss.sh [keys=1000000] [ttl-half]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-1000000}; TTL=${2:-}
RPORT=$(free_port); OPORT=$(free_port)
start_redis "$RPORT"
start_owl "$OPORT" 0
r0=$(rss_kb "$REDIS_PID"); o0=$(rss_kb "$(pgrep -P "$OWL_PID" -f src/main.ts || echo "$OWL_PID")")
taskset -c 1 bun "$ROOT/bench/load-keys.ts" resp "$RPORT" "$N" $TTL >/dev/null
taskset -c 1 bun "$ROOT/bench/load-keys.ts" owl "$OPORT" "$N" $TTL >/dev/null
sleep 3
OPID=$(pgrep -f "src/main.ts.*Tcpport=$OPORT" | head -1)
R=$(rss_kb "$REDIS_PID"); O=$(rss_kb "$OPID")
echo "keys=$N ${TTL:-no-ttl}: redis RSS ${R} kB (empty ${r0} kB), owlcache RSS ${O} kB, owl/redis = $(ratio "$O" "$R")"
