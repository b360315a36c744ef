#!/usr/bin/env bash
# Shipped ("shipped": this commit's code and weights) against PLAN.md's candidate (var/reader-careful2/model), news
# style, int8 as served: blind88-91 decide, the 81 older sets guard. Shipped rows already made on this machine with
# the same code and weights (var/eval/careful/shipped-SET) are copied. Output: var/eval/careful2/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
r=var/eval/careful2
mkdir -p $r
for s in blind88 blind89 blind90 blind91 blind $(for i in $(seq 2 17) $(seq 20 43) $(seq 48 87); do echo blind$i; done); do
  [ -f $r/shipped-$s/results.json ] || { [ -f var/eval/careful/shipped-$s/results.json ] &&
    cp -r var/eval/careful/shipped-$s $r/shipped-$s; } || .venv/bin/qa eval --gold gold/$s.jsonl --corpus-style news \
    --reader trained --no-progress --out $r/shipped-$s >/dev/null
  [ -f $r/candidate-$s/results.json ] || .venv/bin/qa eval --gold gold/$s.jsonl --corpus-style news --reader trained \
    --reader-model var/reader-careful2/model --no-progress --out $r/candidate-$s >/dev/null
done
.venv/bin/python benchmarks/reader_table.py $r > training/runs/careful-negatives-2026-12-08/table.md
