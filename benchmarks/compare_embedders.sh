#!/usr/bin/env bash
# Two retrieval models side by side, each with its own index (and SQuAD index cache: an index is tied to the model
# that embedded it), on news gold sets and the public SQuAD subset, answered as served (int8 readers, the corpus
# style's reader and threshold). Output: OUT/shipped-SET and OUT/candidate-SET (`qa eval` folders), for
# benchmarks/paired_bootstrap.py.
# Usage: CANDIDATE=FOLDER [BASE=FOLDER] [OUT=DIR] benchmarks/compare_embedders.sh set ...
#   BASE: the model compared against (default models/embedder, the shipped one); OUT default var/eval/embedders;
#   sets: gold set names (gold/NAME.jsonl, news style) or squad (encyclopaedia style)
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
[ -n "${CANDIDATE:-}" ] || { echo "CANDIDATE=FOLDER: the retrieval model to compare" >&2; exit 2; }
[ $# -gt 0 ] || { echo "name the sets to score (e.g. blind26 blind27 squad)" >&2; exit 2; }
base=${BASE:-models/embedder}
out=${OUT:-var/eval/embedders}
for who in shipped candidate; do
  if [ "$who" = candidate ]; then model=$CANDIDATE; else model=$base; fi
  name=$(basename "$model")-$who
  .venv/bin/qa index build --corpus corpus --out "var/index-$name" --model "$model" --no-progress >/dev/null
  for s in "$@"; do
    case "$s" in
      squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
      *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
    esac
    echo "== $who $s" >&2
    QA_MODEL_PATH="$model" QA_INDEX_DIR="var/index-$name" .venv/bin/qa eval "${args[@]}" --reader trained \
      --no-progress --cache-dir "var/eval/cache-$name" --out "$out/$who-$s" >/dev/null
  done
done
