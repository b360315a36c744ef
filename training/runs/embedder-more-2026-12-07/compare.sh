#!/usr/bin/env bash
# The shipped retrieval model (models/embedder, var/index) and PLAN.md's candidate (var/embedder-more, with its own
# index var/index-embedder-more) on the news gold sets and the public SQuAD subset, int8 readers as served (the
# corpus style's reader and threshold): blind56-59 decide, the older sets and SQuAD guard. The shipped system's rows
# of sets the second plan already scored with today's shipped reader and retrieval (var/eval/follow-ups/$SHIPPED-SET,
# SHIPPED the second plan's winner) are copied, not run again. Output: var/eval/embedder-more/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
SHIPPED=candidate
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind56 blind57 blind58 blind59 blind blind2 blind3 blind4 blind5 blind6
  blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22
  blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36
  blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49 blind50 blind51 blind52 blind53 blind54
  blind55 seed heldout blind18 blind19 squad)
export HF_HUB_OFFLINE=1
r=var/eval/embedder-more
mkdir -p $r
.venv/bin/qa index build --corpus corpus --out var/index-embedder-more --model var/embedder-more --no-progress >/dev/null
for s in "${sets[@]}"; do
  case "$s" in
    squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
    *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
  esac
  for who in shipped candidate; do
    out=$r/$who-$s
    [ -f "$out/results.json" ] && continue
    if [ $who = shipped ] && [ -f "var/eval/follow-ups/$SHIPPED-$s/results.json" ]; then
      cp -r "var/eval/follow-ups/$SHIPPED-$s" "$out" && continue
    fi
    if [ $who = shipped ]; then
      .venv/bin/qa eval "${args[@]}" --reader trained --no-progress --out "$out" >/dev/null
    else
      QA_MODEL_PATH=var/embedder-more QA_INDEX_DIR=var/index-embedder-more .venv/bin/qa eval "${args[@]}" \
        --reader trained --no-progress --cache-dir var/eval/cache-embedder-more --out "$out" >/dev/null
    fi
  done
done
.venv/bin/python benchmarks/reader_table.py $r
