#!/usr/bin/env bash
# Every gold set and the public SQuAD subset (open corpus and given its paragraph), scored with each reader
# at its own calibrated threshold; then one side-by-side table (benchmarks/reader_table.py).
# Usage: benchmarks/compare_readers.sh [set ...]   (sets: seed heldout blind blind2 blind3 squad squad-given)
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(seed heldout blind blind2 blind3 squad squad-given)
for reader in trained rules; do
  for s in "${sets[@]}"; do
    case "$s" in
      squad) args=(--gold ../shared/bench/squad2-dev-public.json) ;;
      squad-given) args=(--gold ../shared/bench/squad2-dev-public.json --given-paragraph) ;;
      *) args=(--gold "gold/$s.jsonl") ;;
    esac
    echo "== $reader $s" >&2
    .venv/bin/qa eval "${args[@]}" --reader "$reader" --no-progress --out "var/eval/readers/$reader-$s" >/dev/null
  done
done
.venv/bin/python benchmarks/reader_table.py var/eval/readers
