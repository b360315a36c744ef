#!/usr/bin/env bash
# The shipped retrieval model (models/embedder) and the candidate (var/embedder-squad, or M=FOLDER), each with its
# own index, on the news gold sets and the public SQuAD subset, answered as served
# (benchmarks/compare_embedders.sh). Output: var/eval/embedder-squad/{shipped,candidate}-SET.
# Usage: training/runs/embedder-squad-2026-12-07/compare.sh [set ...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind26 blind27 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9
  blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25
  seed heldout blind18 blind19 squad)
BASE=models/embedder CANDIDATE="${M:-var/embedder-squad}" OUT=var/eval/embedder-squad benchmarks/compare_embedders.sh "${sets[@]}"
