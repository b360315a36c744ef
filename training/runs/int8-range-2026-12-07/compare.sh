#!/usr/bin/env bash
# The reader's int8 export with 8-bit weights (as before this plan, forced here) and as served now (7-bit on an
# x86-64 CPU without VNNI, 8-bit with it), then fp32 with torch as the reference; every news set and SQuAD open.
# Usage: compare.sh [set ...] (on a CPU without VNNI, where the two exports differ). Output:
# var/eval/int8-range/{8bit,now,fp32}-SET, then table.md's rows.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind34 blind35 blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13
  blind14 blind15 blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25 blind26 blind27 blind28 blind29
  blind30 blind31 blind32 blind33 seed heldout blind18 blind19 squad)
eight=(.venv/bin/python -c "import sys, qa.reader_export as rx; rx.int8_reduce_range = lambda *a, **k: False
from qa.cli import main; sys.exit(main(sys.argv[1:]))")
for s in "${sets[@]}"; do
  case "$s" in
    squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
    *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
  esac
  "${eight[@]}" eval "${args[@]}" --reader trained --no-progress --out "var/eval/int8-range/8bit-$s" >/dev/null
  .venv/bin/qa eval "${args[@]}" --reader trained --no-progress --out "var/eval/int8-range/now-$s" >/dev/null
  [ "$s" = squad ] || QA_READER_RUNTIME=torch QA_READER_PRECISION=fp32 .venv/bin/qa eval "${args[@]}" \
    --reader trained --no-progress --out "var/eval/int8-range/fp32-$s" >/dev/null
done
.venv/bin/python - <<'PY'
import json
from pathlib import Path
for run in sorted(Path("var/eval/int8-range").iterdir()):
    r = json.loads((run / "results.json").read_text())["configured"]
    print(f"| {run.name} | {r['f1']:.3f} | {r['HasAns_f1']:.3f} | {r['NoAns_f1']:.3f} |")
PY
