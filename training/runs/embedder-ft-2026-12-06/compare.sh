#!/usr/bin/env bash
# The packaged all-MiniLM-L6-v2 ("shipped" when this ran) and the candidate (QA_MODEL_PATH=var/embedder-ft), each
# with its own index, on the news gold sets and the public SQuAD subset, answered as served (int8 readers, the
# corpus style's reader and threshold). Output: var/eval/embedder/{shipped,candidate}-SET.
# Usage: training/runs/embedder-ft-2026-12-06/compare.sh [set ...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
M=${M:-var/embedder-ft}
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind22 blind23 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 seed heldout blind18 blind19 squad)
P=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
.venv/bin/qa index build --corpus corpus --out var/index-ft --model "$M" --no-progress >/dev/null
.venv/bin/qa index build --corpus corpus --out var/index-packaged --model "$P" --no-progress >/dev/null
for who in shipped candidate; do
  # each its own index (and SQuAD index cache): an index is tied to the model that embedded it
  if [ "$who" = candidate ]; then env=(QA_MODEL_PATH="$M" QA_INDEX_DIR=var/index-ft); cache=var/eval/embedder-ft-cache
  else env=(QA_MODEL_PATH="$P" QA_INDEX_DIR=var/index-packaged); cache=var/eval/embedder-packaged-cache; fi
  for s in "${sets[@]}"; do
    case "$s" in
      squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
      *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
    esac
    echo "== $who $s" >&2
    env "${env[@]}" .venv/bin/qa eval "${args[@]}" --reader trained --no-progress --cache-dir "$cache" \
      --out "var/eval/embedder/$who-$s" >/dev/null
  done
done
