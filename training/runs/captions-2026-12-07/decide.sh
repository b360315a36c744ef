#!/usr/bin/env bash
# PLAN.md's conditions from compare.sh's runs (var/eval/captions); then the development sets, F1 by kind, and F1 on
# the questions the photo credit answers against the rest.
set -euo pipefail
cd "$(dirname "$0")/../../.."
r=var/eval/captions
pairs() { for s in "$@"; do echo "$r/shipped-$s $r/candidate-$s"; done; }
fresh=(blind76 blind77 blind78 blind79)
older=(blind blind2 blind3 blind4 blind5 blind6 blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15
  blind16 blind17 blind20 blind21 blind22 blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31
  blind32 blind33 blind34 blind35 blind36 blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49
  blind50 blind51 blind52 blind53 blind54 blind55 blind56 blind57 blind58 blind59 blind60 blind61 blind62 blind63 blind64
  blind65 blind66 blind67 blind68 blind69 blind70 blind71 blind72 blind73 blind74 blind75)
echo "(a) blind76-79:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs "${fresh[@]}")
echo "(b) 69 older sets:"; .venv/bin/python benchmarks/paired_bootstrap.py $(pairs "${older[@]}")
echo "development (seed, heldout, blind18, blind19):"
.venv/bin/python benchmarks/paired_bootstrap.py $(pairs seed heldout blind18 blind19)
echo "F1 by kind, blind76-79:"; READERS="shipped candidate" EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py "${fresh[@]}"
echo "F1 by kind, 69 older sets:"; READERS="shipped candidate" EVAL_DIR=$r .venv/bin/python training/runs/quotes-2026-12-07/kinds.py "${older[@]}"
echo "photo credit questions against the rest:"
.venv/bin/python - "$r" "${fresh[@]}" -- "${older[@]}" <<'PY'
import json, sys
r, rest = sys.argv[1], sys.argv[2:]
cut = rest.index("--")
credit = ("Kambouris", "Getty")
for name, sets in (("blind76-79", rest[:cut]), ("69 older sets", rest[cut + 1 :])):
    for who in ("shipped", "candidate"):
        rows = [x for s in sets for x in json.load(open(f"{r}/{who}-{s}/results.json"))["rows"]]
        hit = [any(c in e for c in credit for e in x["expected"]) for x in rows]
        by = [x["f1"] for x, h in zip(rows, hit, strict=True) if h]
        other = [x["f1"] for x, h in zip(rows, hit, strict=True) if not h]
        print(f"  {name:14s} {who:9s} credit questions {len(by):3d} F1 {sum(by) / max(1, len(by)):.3f}; "
              f"the other {len(other)} F1 {sum(other) / len(other):.3f}")
PY
