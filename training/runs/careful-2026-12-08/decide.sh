#!/usr/bin/env bash
# PLAN.md's conditions from compare.sh's runs (var/eval/careful); then the development sets and F1 by kind.
set -euo pipefail
cd "$(dirname "$0")/../../.."
r=var/eval/careful
pairs() { for s in "$@"; do echo "$r/shipped-$s $r/candidate-$s"; done; }
fresh=(blind84 blind85 blind86 blind87)
older=(blind $(for i in $(seq 2 17) $(seq 20 43) $(seq 48 83); do echo blind$i; done))
echo "(a) blind84-87:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs "${fresh[@]}")
echo "(b) ${#older[@]} older sets:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs "${older[@]}")
echo "development (seed, heldout, blind18, blind19):"
.venv/bin/python benchmarks/paired_bootstrap.py $(pairs seed heldout blind18 blind19)
echo "F1 by kind, blind84-87:"; READERS="shipped candidate" EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py "${fresh[@]}"
echo "F1 by kind, older sets:"; READERS="shipped candidate" EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py "${older[@]}"
