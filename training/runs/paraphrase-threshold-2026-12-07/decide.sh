#!/usr/bin/env bash
# PLAN.md's conditions from compare.sh's runs (var/eval/parathr); then the development sets and F1 by kind.
set -euo pipefail
cd "$(dirname "$0")/../../.."
r=var/eval/parathr
pairs() { for s in "$@"; do echo "$r/trained-$s $r/candidate-$s"; done; }
older=(blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15
  blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31
  blind32 blind33 blind34 blind35 blind36 blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49)
echo "(a) blind50 + blind51:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs blind50 blind51)
echo "(b) 43 older sets:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs "${older[@]}")
echo "development (seed, heldout, blind18, blind19):"
.venv/bin/python benchmarks/paired_bootstrap.py $(pairs seed heldout blind18 blind19)
echo "F1 by kind, blind50 + blind51:"; EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py blind50 blind51
echo "F1 by kind, 43 older sets:"; EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py "${older[@]}"
