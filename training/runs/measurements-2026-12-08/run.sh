#!/usr/bin/env bash
# The shipped system (trained reader, the default) on blind80-83, and the rule reader (QA_READER=rules) on every
# news set not used for calibration (77: blind ... blind83 without blind18/19 and dev44-47), int8 as served, news
# style. The trained reader's rows of the 73 older sets are the nineteenth session's (the same code and weights on
# this machine: var/eval/captions/shipped-SET), copied. Output: var/eval/s20/{trained,rules}-SET, then the tally.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
r=var/eval/s20
mkdir -p $r
sets=(blind $(for i in $(seq 2 17) $(seq 20 43) $(seq 48 83); do echo blind$i; done))
for s in "${sets[@]}"; do
  if [ ! -f $r/trained-$s/results.json ]; then
    if [ -f var/eval/captions/shipped-$s/results.json ]; then cp -r var/eval/captions/shipped-$s $r/trained-$s
    else .venv/bin/qa eval --gold gold/$s.jsonl --corpus-style news --reader trained --no-progress --out $r/trained-$s >/dev/null
    fi
  fi
  [ -f $r/rules-$s/results.json ] || .venv/bin/qa eval --gold gold/$s.jsonl --corpus-style news --reader rules \
    --no-progress --out $r/rules-$s >/dev/null
done
.venv/bin/python benchmarks/reader_table.py $r > training/runs/measurements-2026-12-08/rules-vs-trained.md
.venv/bin/python - "$r" "${sets[@]}" <<'PY'
import json, sys
r, sets = sys.argv[1], sys.argv[2:]
f1 = {(who, s): json.load(open(f"{r}/{who}-{s}/results.json")) for who in ("trained", "rules") for s in sets}
ahead = [s for s in sets if f1["trained", s]["configured"]["f1"] > f1["rules", s]["configured"]["f1"]]
below = [s for s in sets if f1["trained", s]["configured"]["f1"] < 0.60]
n = sum(f1["trained", s]["questions"] for s in sets)
for who in ("trained", "rules"):
    pooled = sum(f1[who, s]["configured"]["f1"] * f1[who, s]["questions"] for s in sets) / n
    print(f"{who}: pooled F1 {pooled:.3f} over {len(sets)} sets ({n} questions)")
print(f"trained ahead of rules on {len(ahead)} of {len(sets)}; behind on {sorted(set(sets) - set(ahead))}")
print(f"trained below 0.60 on {len(below)}: {below}")
PY
