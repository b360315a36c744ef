#!/usr/bin/env bash
# PLAN.md's conditions from compare.sh's runs (var/eval/dev8): (a) blind42 + blind43, (b) the 39 older news sets
# no calibration used; then the development sets.
set -euo pipefail
cd "$(dirname "$0")/../../.."
r=var/eval/dev8
pairs() { for s in "$@"; do echo "$r/trained-$s $r/candidate-$s"; done; }
older=(blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15
  blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31
  blind32 blind33 blind34 blind35 blind36 blind37 blind38 blind39 blind40 blind41)
echo "(a) blind42 + blind43:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs blind42 blind43)
echo "(b) 39 older sets:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs "${older[@]}")
echo "development (seed, heldout, blind18, blind19, dev44-47):"
.venv/bin/python benchmarks/paired_bootstrap.py $(pairs seed heldout blind18 blind19 dev44 dev45 dev46 dev47)
