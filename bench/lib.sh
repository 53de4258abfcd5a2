# Shared helpers for the load scripts: build loadgen, find free ports, start pinned servers, medians.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

loadgen_bin() {
  if [ -n "${LOADGEN:-}" ]; then echo "$LOADGEN"; return; fi
  gcc -O2 -o "$WORK/loadgen" "$SHARED/tools/loadgen.c" && echo "$WORK/loadgen"
}

free_port() { bun -e 'const s=Bun.listen({hostname:"127.0.0.1",port:0,socket:{data(){}}});console.log(s.port);s.stop(true)'; }

wait_port() { for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }

# start_redis PORT → pid in REDIS_PID
start_redis() {
  taskset -c 0 redis-server --port "$1" --save "" --appendonly no --daemonize no --logfile "$WORK/redis-$1.log" &
  REDIS_PID=$!; PIDS+=("$REDIS_PID"); wait_port "$1"
}

# start_owl TCPPORT RESPPORT [extra --set args] → pid in OWL_PID (OWL_BUN: another Bun binary)
start_owl() {
  local tcp=$1 resp=$2; shift 2
  mkdir -p "$WORK/owl-$tcp"
  (cd "$WORK/owl-$tcp" && exec taskset -c 0 "${OWL_BUN:-bun}" run "$ROOT/src/main.ts" -config /dev/null --set Tcpport="$tcp" --set Respport="$resp" --set Httpport=0 \
     --set Pass=bench-password-1 --set DBfile=./db --set Logfile=./log "$@" > "$WORK/owl-$tcp.out" 2>&1) &
  OWL_PID=$!; PIDS+=("$OWL_PID"); wait_port "$tcp"
}

# ops_per_sec "loadgen output" → the number
ops() { grep -Eo 'ops_per_sec=[0-9.]+' <<<"$1" | tail -1 | cut -d= -f2; }
p99() { grep -Eo 'p99_us=[0-9.]+' <<<"$1" | tail -1 | cut -d= -f2; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# cpu_ticks PID → user + system CPU of the process so far, in clock ticks (1/100 s)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
