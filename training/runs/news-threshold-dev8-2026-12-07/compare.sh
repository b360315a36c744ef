#!/usr/bin/env bash
# The shipped news reader ("trained") and PLAN.md's candidate ("candidate", var/reader-news-dev8: the same weights,
# the threshold chosen on eight development sets) on the news gold sets, int8 as served, news style, the shipped
# defaults (benchmarks/compare_readers.sh): blind42 + blind43 decide, the older sets guard, seed/heldout/blind18/
# blind19/dev44-47 are development sets. The shipped reader's rows of the sets the first plan of this session
# scored are its candidate's (var/eval/readers/candidate-SET: var/reader-quotes-cand, byte for byte the shipped
# models/reader-news, same code): copied, not run again. A set's folder already there is kept.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind42 blind43 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8
  blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24
  blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36 blind37 blind38
  blind39 blind40 blind41 seed heldout blind18 blind19 dev44 dev45 dev46 dev47)
export HF_HUB_OFFLINE=1
for s in "${sets[@]}"; do
  for reader in trained candidate; do
    out=var/eval/dev8/$reader-$s
    [ -f "$out/results.json" ] && continue
    if [ $reader = trained ] && [ -f "var/eval/readers/candidate-$s/results.json" ]; then
      mkdir -p var/eval/dev8 && cp -r "var/eval/readers/candidate-$s" "$out" && rm -f "$out/model.txt" && continue
    fi
    rargs=(--reader trained); [ $reader = candidate ] && rargs+=(--reader-model var/reader-news-dev8)
    .venv/bin/qa eval --gold "gold/$s.jsonl" --corpus-style news "${rargs[@]}" --no-progress --out "$out" >/dev/null
  done
done
.venv/bin/python benchmarks/reader_table.py var/eval/dev8
