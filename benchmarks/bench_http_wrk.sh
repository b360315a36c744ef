#!/usr/bin/env bash
# Load benchmark with wrk (a C load generator, so the client takes little of the 2 cores):
# starts `qa serve` on a free loopback port, then POST /api/ask at 1, 8 and 32 connections, 10 s each,
# printing requests/s, p50/p95/p99 latency and errors. Needs Debian's wrk.
#   benchmarks/bench_http_wrk.sh [seconds-per-level]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }
duration="${1:-10}"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
index_dir=$(mktemp -d)
QA_INDEX_DIR="$index_dir" QA_PORT="$port" HF_HUB_OFFLINE=1 .venv/bin/qa serve >"$index_dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$index_dir"' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 1; done
for c in 1 8 32; do
  echo "== $c concurrent clients, ${duration}s"
  wrk -t1 -c"$c" -d"${duration}s" --latency -s benchmarks/wrk_ask.lua "http://127.0.0.1:$port" \
    | grep -E "Requests/sec|^ +(50|75|90|99)%|p50/p95/p99|Non-2xx|Socket errors"
done
