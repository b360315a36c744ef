#!/usr/bin/env bash
# The shipped system (trained reader, the default) and the rule reader (QA_READER=rules) on blind88-91 (written
# blind in the twentieth session, never scored before), int8 as served, news style; then the tally over every news
# set not used for calibration (85: blind ... blind91 without blind18/19 and dev44-47). Rows already made by the
# same code and weights on this machine are copied: the twentieth session's (var/eval/s20; blind84-87's trained
# rows from var/eval/careful/shipped-SET).
# Output: var/eval/s21/{trained,rules}-SET, rules-vs-trained.md and the tally.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
r=var/eval/s21
mkdir -p $r
sets=(blind $(for i in $(seq 2 17) $(seq 20 43) $(seq 48 91); do echo blind$i; done))
for s in "${sets[@]}"; do
  for who in trained rules; do
    out=$r/$who-$s
    [ -f $out/results.json ] && continue
    if [ -f var/eval/s20/$who-$s/results.json ]; then cp -r var/eval/s20/$who-$s $out; continue; fi
    if [ $who = trained ] && [ -f var/eval/careful/shipped-$s/results.json ]; then
      cp -r var/eval/careful/shipped-$s $out; continue
    fi
    .venv/bin/qa eval --gold gold/$s.jsonl --corpus-style news --reader $who --no-progress --out $out >/dev/null
  done
done
.venv/bin/python benchmarks/reader_table.py $r > training/runs/reading-ceiling-2026-12-08/rules-vs-trained.md
.venv/bin/python - "$r" "${sets[@]}" <<'PY'
import json, sys
r, sets = sys.argv[1], sys.argv[2:]
f1 = {(who, s): json.load(open(f"{r}/{who}-{s}/results.json")) for who in ("trained", "rules") for s in sets}
def pooled(who, ss):
    return sum(f1[who, s]["configured"]["f1"] * f1[who, s]["questions"] for s in ss) / sum(f1[who, s]["questions"] for s in ss)
fresh = ["blind88", "blind89", "blind90", "blind91"]
for s in fresh:
    print(f"{s}: trained {f1['trained', s]['configured']['f1']:.3f}, rules {f1['rules', s]['configured']['f1']:.3f}")
print(f"blind88-91 pooled: trained {pooled('trained', fresh):.3f}, rules {pooled('rules', fresh):.3f}")
n = sum(f1["trained", s]["questions"] for s in sets)
for who in ("trained", "rules"):
    print(f"{who}: pooled F1 {pooled(who, sets):.3f} over {len(sets)} sets ({n} questions)")
ahead = [s for s in sets if f1["trained", s]["configured"]["f1"] > f1["rules", s]["configured"]["f1"]]
below = [s for s in sets if f1["trained", s]["configured"]["f1"] < 0.60]
print(f"trained ahead of rules on {len(ahead)} of {len(sets)}; behind on {sorted(set(sets) - set(ahead))}")
print(f"trained below 0.60 on {len(below)}: {below}")
PY
