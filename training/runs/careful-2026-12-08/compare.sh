#!/usr/bin/env bash
# The shipped system ("shipped": this commit's code and weights) and PLAN.md's candidate ("candidate": the same code,
# the news reader var/reader-careful-cand) on the news gold sets, int8 as served, news style, the shipped
# defaults: blind84-87 decide, the older sets guard, seed/heldout/blind18/blind19 are development sets. The
# shipped rows of sets already scored with the same code and weights on this machine (var/eval/s20/trained-SET)
# are copied, not run again. Output: var/eval/careful/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind84 blind85 blind86 blind87 blind $(for i in $(seq 2 17) \
  $(seq 20 43) $(seq 48 83); do echo blind$i; done) seed heldout blind18 blind19)
export HF_HUB_OFFLINE=1
r=var/eval/careful
mkdir -p $r
for s in "${sets[@]}"; do
  for who in shipped candidate; do
    out=$r/$who-$s
    [ -f "$out/results.json" ] && continue
    if [ $who = shipped ] && [ -f "var/eval/s20/trained-$s/results.json" ]; then
      cp -r "var/eval/s20/trained-$s" "$out" && continue
    fi
    rargs=(--reader trained); [ $who = candidate ] && rargs+=(--reader-model var/reader-careful-cand)
    .venv/bin/qa eval --gold "gold/$s.jsonl" --corpus-style news "${rargs[@]}" --no-progress --out "$out" >/dev/null
  done
done
.venv/bin/python benchmarks/reader_table.py $r > training/runs/careful-2026-12-08/table.md
