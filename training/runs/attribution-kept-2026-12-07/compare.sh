#!/usr/bin/env bash
# The shipped cleaner (at BASE, default 9194ae6, in a git worktree) against this checkout's, every news set.
# Usage: compare.sh [set ...]. Output: var/eval/attribution/{base,cand}-SET (a folder already there is kept),
# then table.md's rows. The candidate's index is var/index-attr, the base's the worktree's own var/index.
set -euo pipefail
cd "$(dirname "$0")/../../.."
root=$PWD
export HF_HUB_OFFLINE=1
base=${BASE:-9194ae6}
wt=/tmp/wt-$base
[ -d "$wt" ] || git worktree add -q "$wt" "$base"
mkdir -p "$wt/var"
for cache in reader-int8 embedder-onnx; do  # same models, same cache keys: no second export
  [ -e "$wt/var/$cache" ] || [ ! -d "var/$cache" ] || ln -s "$root/var/$cache" "$wt/var/$cache"
done
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind36 blind37 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9
  blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25
  blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35)
out=var/eval/attribution
mkdir -p "$out"
for s in "${sets[@]}"; do
  args=(eval --gold "gold/$s.jsonl" --corpus-style news --reader trained --no-progress)
  [ -f "$out/base-$s/results.json" ] || (cd "$wt" && "$root/.venv/bin/python" -m qa.cli "${args[@]}" \
    --out "$root/$out/base-$s" >/dev/null)
  [ -f "$out/cand-$s/results.json" ] || QA_INDEX_DIR=var/index-attr .venv/bin/python -m qa.cli "${args[@]}" \
    --out "$out/cand-$s" >/dev/null
done
.venv/bin/python - "${sets[@]}" <<'PY'
import json, sys
for s in sys.argv[1:]:
    b, c = (json.load(open(f"var/eval/attribution/{k}-{s}/results.json"))["configured"] for k in ("base", "cand"))
    print(f"| {s} | {b['f1']:.3f} | {c['f1']:.3f} | {b['HasAns_f1']:.3f} | {c['HasAns_f1']:.3f} | {b['NoAns_f1']:.3f} | {c['NoAns_f1']:.3f} |")
PY
