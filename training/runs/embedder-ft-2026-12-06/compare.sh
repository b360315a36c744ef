#!/usr/bin/env bash
# The packaged all-MiniLM-L6-v2 ("shipped" when this ran) and the candidate (var/embedder-ft, or M=FOLDER), each
# with its own index, on the news gold sets and the public SQuAD subset, answered as served
# (benchmarks/compare_embedders.sh). Output: var/eval/embedder/{shipped,candidate}-SET.
# Usage: training/runs/embedder-ft-2026-12-06/compare.sh [set ...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind22 blind23 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 seed heldout blind18 blind19 squad)
BASE=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())") \
  CANDIDATE="${M:-var/embedder-ft}" OUT=var/eval/embedder benchmarks/compare_embedders.sh "${sets[@]}"
