#!/usr/bin/env bash
# The shipped news reader ("trained") and this plan's candidate ("candidate", var/reader-quotes-cand or
# CANDIDATE=FOLDER) on the news gold sets, int8 as served, news style, the shipped defaults
# (benchmarks/compare_readers.sh): blind40 + blind41 decide, the older sets no calibration used guard,
# seed/heldout/blind18/blind19 are development sets. Output: var/eval/readers/{trained,candidate}-SET.
set -euo pipefail
cand=var/reader-quotes-cand  # from the repository root
if [ -n "${CANDIDATE:-}" ]; then
  case "$CANDIDATE" in /*) cand="$CANDIDATE" ;; *) cand="$PWD/$CANDIDATE" ;; esac  # relative to where it is run from
fi
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind40 blind41 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8
  blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24
  blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36 blind37 blind38
  blind39 seed heldout blind18 blind19)
READERS="trained candidate" CANDIDATE="$cand" benchmarks/compare_readers.sh "${sets[@]}"
