#!/usr/bin/env bash
# Two passages (the shipped default) against three read in stages (the candidate), every news set and SQuAD open.
# Usage: compare.sh [set ...]. Output: var/eval/third/{two,three}-SET (a folder already there is kept), then
# table.md's rows.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind38 blind39 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8
  blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24
  blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 squad)
out=var/eval/third
mkdir -p "$out"
for s in "${sets[@]}"; do
  case "$s" in
    squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
    *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
  esac
  for n in two three; do
    p=2; [ $n = three ] && p=3
    [ -f "$out/$n-$s/results.json" ] || QA_READER_PASSAGES=$p .venv/bin/qa eval "${args[@]}" --reader trained \
      --no-progress --out "$out/$n-$s" >/dev/null
  done
done
.venv/bin/python - "${sets[@]}" <<'PY'
import json, sys
for s in sys.argv[1:]:
    a, b = (json.load(open(f"var/eval/third/{n}-{s}/results.json")) for n in ("two", "three"))
    x, y = a["configured"], b["configured"]
    print(f"| {s} | {x['f1']:.3f} | {y['f1']:.3f} | {x['HasAns_f1']:.3f} | {y['HasAns_f1']:.3f} | {x['NoAns_f1']:.3f} "
          f"| {y['NoAns_f1']:.3f} | {a['latency_ms']['p95']:.1f} | {b['latency_ms']['p95']:.1f} |")
PY
