#!/usr/bin/env bash
# The shipped news reader ("trained") and PLAN.md's candidate ("candidate", var/reader-follow-ups-cand) on the news
# gold sets, int8 as served, news style, the shipped defaults: blind52-55 decide, the older sets guard,
# seed/heldout/blind18/blind19 are development sets. The shipped reader's rows of sets this session's first plan
# scored with it (var/eval/parathr/trained-SET: the same weights, calibration and code) are copied, not run again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind52 blind53 blind54 blind55 blind blind2 blind3 blind4 blind5 blind6
  blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22
  blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36
  blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49 blind50 blind51 seed heldout blind18 blind19)
export HF_HUB_OFFLINE=1
r=var/eval/follow-ups
mkdir -p $r
for s in "${sets[@]}"; do
  for reader in trained candidate; do
    out=$r/$reader-$s
    [ -f "$out/results.json" ] && continue
    if [ $reader = trained ] && [ -f "var/eval/parathr/trained-$s/results.json" ]; then
      cp -r "var/eval/parathr/trained-$s" "$out" && continue
    fi
    rargs=(--reader trained); [ $reader = candidate ] && rargs+=(--reader-model var/reader-follow-ups-cand)
    .venv/bin/qa eval --gold "gold/$s.jsonl" --corpus-style news "${rargs[@]}" --no-progress --out "$out" >/dev/null
  done
done
.venv/bin/python benchmarks/reader_table.py $r
