#!/usr/bin/env bash
# Plan of 2026-12-07 (thirteenth session): the cascade level served when it ran (0.3, "served") against 0.2
# ("candidate", the default since),
# int8 as served, each set's own corpus style. Output: var/eval/cascade/{served,candidate}-SET.
# Usage: training/runs/cascade-level-2026-12-07/compare.sh [set ...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind28 blind29 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8
  blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24
  blind25 blind26 blind27 seed heldout blind18 blind19 squad)
for s in "${sets[@]}"; do
  case "$s" in
    squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
    *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
  esac
  for run in served:0.3 candidate:0.2; do
    echo "== ${run%%:*} $s" >&2
    .venv/bin/qa eval "${args[@]}" --reader trained --reader-confident "${run##*:}" --no-progress \
      --out "var/eval/cascade/${run%%:*}-$s" >/dev/null
  done
done
