#!/usr/bin/env bash
# Plan 1 of 2026-12-07: the shipped calibrations against the recalibrated copies (var/cand/reader-news for the
# news sets, var/cand/reader for SQuAD), int8 as served, in one run. Output: var/eval/readers/{trained,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
news=(blind24 blind25 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13
      blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 seed heldout blind18 blind19)
READERS="trained candidate" CANDIDATE=var/cand/reader-news benchmarks/compare_readers.sh "${news[@]}"
READERS="trained candidate" CANDIDATE=var/cand/reader benchmarks/compare_readers.sh squad squad-given
