#!/usr/bin/env bash
# The shipped retrieval model (models/embedder) and the candidate (QA_MODEL_PATH=var/embedder-squad), each with its
# own index, on the news gold sets and the public SQuAD subset, answered as served (int8 readers, the corpus
# style's reader and threshold). Output: var/eval/embedder-squad/{shipped,candidate}-SET.
# Usage: training/runs/embedder-squad-2026-12-07/compare.sh [set ...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
M=${M:-var/embedder-squad}
P=models/embedder
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind26 blind27 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9
  blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25
  seed heldout blind18 blind19 squad)
.venv/bin/qa index build --corpus corpus --out var/index-squad --model "$M" --no-progress >/dev/null
.venv/bin/qa index build --corpus corpus --out var/index-shipped --model "$P" --no-progress >/dev/null
for who in shipped candidate; do
  # each its own index (and SQuAD index cache): an index is tied to the model that embedded it
  if [ "$who" = candidate ]; then env=(QA_MODEL_PATH="$M" QA_INDEX_DIR=var/index-squad); cache=var/eval/embedder-squad-cache
  else env=(QA_MODEL_PATH="$P" QA_INDEX_DIR=var/index-shipped); cache=var/eval/embedder-shipped-cache; fi
  for s in "${sets[@]}"; do
    case "$s" in
      squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
      *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
    esac
    echo "== $who $s" >&2
    env "${env[@]}" .venv/bin/qa eval "${args[@]}" --reader trained --no-progress --cache-dir "$cache" \
      --out "var/eval/embedder-squad/$who-$s" >/dev/null
  done
done
