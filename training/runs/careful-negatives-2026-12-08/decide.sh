#!/usr/bin/env bash
# PLAN.md's conditions from compare.sh's runs (var/eval/careful2), then F1 by kind.
set -euo pipefail
cd "$(dirname "$0")/../../.."
r=var/eval/careful2
fresh=(blind88 blind89 blind90 blind91)
older=(blind $(for i in $(seq 2 17) $(seq 20 43) $(seq 48 87); do echo blind$i; done))
both() { for s in "$@"; do echo "$r/shipped-$s $r/candidate-$s"; done; }
echo "(a) blind88-91:"; .venv/bin/python benchmarks/paired_bootstrap.py $(both "${fresh[@]}")
echo "(b) ${#older[@]} older sets:"; .venv/bin/python benchmarks/paired_bootstrap.py $(both "${older[@]}")
for name in fresh older; do
  declare -n list=$name
  echo "F1 by kind, $name:"; READERS="shipped candidate" EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py "${list[@]}"
done
