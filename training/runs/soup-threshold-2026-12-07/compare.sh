#!/usr/bin/env bash
# The shipped system ("shipped") and PLAN.md's candidate ("candidate": the news reader var/reader-soup-thr, all
# else as shipped) on the news gold sets, int8 as served, news style: blind68-71 decide, the older sets guard,
# seed/heldout/blind18/blind19 are development sets (with dev44-47, not run here). The shipped rows this session already ran at the same weights
# and code (var/eval/seed-soup/shipped-SET, the second plan's) are copied, not run again.
# Output: var/eval/soup-thr/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind68 blind69 blind70 blind71 blind blind2 blind3 blind4 blind5 blind6
  blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22
  blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36
  blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49 blind50 blind51 blind52 blind53 blind54
  blind55 blind56 blind57 blind58 blind59 blind60 blind61 blind62 blind63 blind64 blind65 blind66 blind67 seed heldout
  blind18 blind19)
export HF_HUB_OFFLINE=1
r=var/eval/soup-thr
mkdir -p $r
for s in "${sets[@]}"; do
  for who in shipped candidate; do
    out=$r/$who-$s
    [ -f "$out/results.json" ] && continue
    if [ $who = shipped ] && [ -f "var/eval/seed-soup/shipped-$s/results.json" ]; then
      cp -r "var/eval/seed-soup/shipped-$s" "$out" && continue
    fi
    rargs=(--reader trained); [ $who = candidate ] && rargs+=(--reader-model var/reader-soup-thr)
    .venv/bin/qa eval --gold "gold/$s.jsonl" --corpus-style news "${rargs[@]}" --no-progress --out "$out" >/dev/null
  done
done
.venv/bin/python benchmarks/reader_table.py $r
