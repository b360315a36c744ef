#!/usr/bin/env bash
# The shipped retrieval model (models/embedder, var/index) and PLAN.md's candidate (var/embedder-all, with its own
# index var/index-embedder-all) on the news gold sets and the public SQuAD subset, int8 readers as served (the
# corpus style's reader and threshold): blind60-63 decide, the older sets and SQuAD guard. The shipped system's rows
# this session already ran at the same commit's weights and code (var/eval/base/shipped-SET, from the session's
# start) are copied, not run again. Output: var/eval/embedder-all/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind60 blind61 blind62 blind63 blind blind2 blind3 blind4 blind5 blind6
  blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22
  blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36
  blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49 blind50 blind51 blind52 blind53 blind54
  blind55 blind56 blind57 blind58 blind59 seed heldout blind18 blind19 squad)
export HF_HUB_OFFLINE=1
r=var/eval/embedder-all
mkdir -p $r
[ -d var/index-embedder-all ] || .venv/bin/qa index build --corpus corpus --out var/index-embedder-all \
  --model var/embedder-all --no-progress >/dev/null
for s in "${sets[@]}"; do
  case "$s" in
    squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
    *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
  esac
  for who in shipped candidate; do
    out=$r/$who-$s
    [ -f "$out/results.json" ] && continue
    if [ $who = shipped ] && [ -f "var/eval/base/shipped-$s/results.json" ]; then
      cp -r "var/eval/base/shipped-$s" "$out" && continue
    fi
    if [ $who = shipped ]; then
      .venv/bin/qa eval "${args[@]}" --reader trained --no-progress --out "$out" >/dev/null
    else
      QA_MODEL_PATH=var/embedder-all QA_INDEX_DIR=var/index-embedder-all .venv/bin/qa eval "${args[@]}" \
        --reader trained --no-progress --cache-dir var/eval/cache-embedder-all --out "$out" >/dev/null
    fi
  done
done
.venv/bin/python benchmarks/reader_table.py $r
