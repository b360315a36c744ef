#!/usr/bin/env bash
# The shipped news reader ("trained") and the three-way soup ("candidate", var/reader-soup3full or CANDIDATE=FOLDER)
# on the news gold sets, int8 as served, news style (benchmarks/compare_readers.sh): blind32 + blind33 decide,
# the older sets no calibration used guard, seed/heldout/blind18/blind19 are development sets.
# Output: var/eval/readers/{trained,candidate}-SET.
set -euo pipefail
cand=var/reader-soup3full  # from the repository root
if [ -n "${CANDIDATE:-}" ]; then
  case "$CANDIDATE" in /*) cand="$CANDIDATE" ;; *) cand="$PWD/$CANDIDATE" ;; esac  # relative to where it is run from
fi
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind32 blind33 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8
  blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24
  blind25 blind26 blind27 blind28 blind29 blind30 blind31 seed heldout blind18 blind19)
rm -rf var/eval/readers  # the table reads every run in that folder: no earlier comparison's rows in it
READERS="trained candidate" CANDIDATE="$cand" benchmarks/compare_readers.sh "${sets[@]}"
