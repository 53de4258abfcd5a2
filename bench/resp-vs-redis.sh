#!/usr/bin/env bash
# Runs bench/resp-vs-redis.ts (redis-server vs owlcache RESP, side by side); see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bun bench/resp-vs-redis.ts "$@"
