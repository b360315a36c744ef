#!/usr/bin/env bash
# Ease of start, measured: a fresh clone of this repository's HEAD to its first answer over HTTP, as a new user
# gets it from the README's one command (`scripts/serve`). Prints seconds for each phase: the clone; `scripts/setup`
# (a new .venv, torch then the project from the package index: with pip's cache warm on a machine that has
# installed them before, as here, cold on a new one); `qa serve` until /health answers (the index of the default
# corpus built from nothing, both models' ONNX exports made once); the first question's answer; a second one.
#   benchmarks/bench_start.sh [--keep]      # --keep: leave the clone (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  if [ "${1:-}" = "--keep" ]; then echo "clone kept: $work/clone"; else rm -rf "$work"; fi
}
trap 'cleanup "$@"' EXIT
now() { date +%s.%N; }
phase() { printf '%-44s %7.1f s\n' "$1" "$(echo "$3 - $2" | bc)"; }

t0=$(now)
git clone --quiet "$repo" "$work/clone"
t1=$(now); phase "git clone" "$t0" "$t1"
cd "$work/clone"
scripts/setup >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
t2=$(now); phase "scripts/setup (venv, torch, the project)" "$t1" "$t2"
HF_HUB_OFFLINE=1 QA_PORT="$port" .venv/bin/qa serve >"$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.2
done
t3=$(now); phase "qa serve until ready (index, ONNX exports)" "$t2" "$t3"
ask() {
  curl -sf "http://127.0.0.1:$port/api/ask" -H 'content-type: application/json' \
    -d '{"question": "Who is the creative director of Balenciaga?"}'
}
answer=$(ask)
t4=$(now); phase "first answer" "$t3" "$t4"
ask >/dev/null
t5=$(now); phase "second answer" "$t4" "$t5"
phase "clone to first answer" "$t0" "$t4"
echo "answer: $(echo "$answer" | python3 -c 'import json, sys; a = json.load(sys.stdin); print(a["answer"], a["confidence"])')"
