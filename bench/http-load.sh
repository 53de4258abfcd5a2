#!/usr/bin/env bash
# HTTP load (issue 3): wrk -t1 -c50 `GET /data/?cmd=get&key=hello` against owlcache and against a
# bare Bun.serve answering the same envelope as a constant, side by side in one run (servers on
# core 0, wrk on core 1), three runs each, medians; then POST set with a token.
# Also reports the server's CPU time per request (from /proc/PID/stat), which other load on a
# shared machine disturbs far less than req/s. Usage: [RUNS=3] bench/http-load.sh [seconds per run, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-8}
dir=$(mktemp -d)
echo "# empty: built-in defaults" >"$dir/none.conf"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

free_port() { bun -e 'const s = Bun.listen({hostname:"127.0.0.1",port:0,socket:{data(){}}}); console.log(s.port); s.stop(true)'; }
OWL_PORT=$(free_port); BARE_PORT=$(free_port)

taskset -c 0 bun run src/main.ts --set Httpport="$OWL_PORT" --set Tcpport=0 --set Respport=0 \
  --set DBfile="$dir/db" --set Logfile="$dir/log" --set Pass=bench-password-123 -config "$dir/none.conf" >"$dir/owl.out" 2>&1 &
pids+=($!)
OWL_PID=$!
PORT=$BARE_PORT taskset -c 0 bun run bench/bare-envelope-server.ts >"$dir/bare.out" 2>&1 &
pids+=($!)
BARE_PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$OWL_PORT/health" >/dev/null 2>&1 && curl -sf "http://127.0.0.1:$BARE_PORT/" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$OWL_PORT/health" >/dev/null || { echo "owlcache did not start:"; cat "$dir/owl.out"; exit 1; }
OWL="http://127.0.0.1:$OWL_PORT"
TOKEN=$(curl -s "$OWL/data/?cmd=pass&pass=bench-password-123" | sed -E 's/.*"Data":"([^"]+)".*/\1/')
curl -s -o /dev/null "$OWL/data/?cmd=set&key=hello&valuedata=world&token=$TOKEN"
export TOKEN

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

run_wrk() { # pid url [script] → "req/s p99(ms) server-CPU-µs-per-request"
  local out before after
  before=$(cpu_ticks "$1")
  if [ -n "${3:-}" ]; then out=$(taskset -c 1 wrk -t1 -c50 -d"${SECONDS_PER_RUN}s" --latency -s "$3" "$2")
  else out=$(taskset -c 1 wrk -t1 -c50 -d"${SECONDS_PER_RUN}s" --latency "$2"); fi
  after=$(cpu_ticks "$1")
  local rps p99 total cpu
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu=$(awk -v t="$((after - before))" -v us="$TICK_US" -v n="$total" 'BEGIN {printf "%.2f", t * us / n}')
  p99=$(echo "$out" | awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers: $out" >&2; fi
  echo "$rps $p99 $cpu"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# warm both up (JIT)
taskset -c 1 wrk -t1 -c50 -d2s "$OWL/data/?cmd=get&key=hello" >/dev/null
taskset -c 1 wrk -t1 -c50 -d2s "http://127.0.0.1:$BARE_PORT/data/?cmd=get&key=hello" >/dev/null

: >"$dir/owl"; : >"$dir/bare"; : >"$dir/set"; : >"$dir/ratio"
RUNS=${RUNS:-3}
for i in $(seq "$RUNS"); do
  run_wrk "$OWL_PID" "$OWL/data/?cmd=get&key=hello" >>"$dir/owl"
  run_wrk "$BARE_PID" "http://127.0.0.1:$BARE_PORT/data/?cmd=get&key=hello" >>"$dir/bare"
  run_wrk "$OWL_PID" "$OWL/data/" bench/http-set.lua >>"$dir/set"
  paste -d' ' <(tail -1 "$dir/owl") <(tail -1 "$dir/bare") | awk '{printf "%.4f %.4f\n", $1 / $4, $6 / $3}' >>"$dir/ratio"
  echo "run $i: owl $(tail -1 "$dir/owl")  bare $(tail -1 "$dir/bare")  set $(tail -1 "$dir/set")" >&2
done
owl=$(cut -d' ' -f1 "$dir/owl" | median); owl99=$(cut -d' ' -f2 "$dir/owl" | median)
bare=$(cut -d' ' -f1 "$dir/bare" | median); bare99=$(cut -d' ' -f2 "$dir/bare" | median)
set=$(cut -d' ' -f1 "$dir/set" | median); set99=$(cut -d' ' -f2 "$dir/set" | median)
owlcpu=$(cut -d' ' -f3 "$dir/owl" | median); barecpu=$(cut -d' ' -f3 "$dir/bare" | median); setcpu=$(cut -d' ' -f3 "$dir/set" | median)
echo "GET  owlcache  $owl req/s  p99 ${owl99} ms  server CPU ${owlcpu} µs/request"
echo "GET  bare Bun  $bare req/s  p99 ${bare99} ms  server CPU ${barecpu} µs/request"
echo "ratio owlcache/bare (medians of req/s): $(awk -v a="$owl" -v b="$bare" 'BEGIN {printf "%.3f", a/b}')"
echo "ratio per run pair, median: req/s $(cut -d' ' -f1 "$dir/ratio" | median)  CPU-per-request (bare/owl) $(cut -d' ' -f2 "$dir/ratio" | median)"
echo "POST set (token)  $set req/s  p99 ${set99} ms  server CPU ${setcpu} µs/request"
