"""The captions fine-tune's last step (a full epoch), checked on the photo-credit questions of the older news sets.

The nineteenth session's run (`training/runs/captions-2026-12-07/make.sh train`) exported step 87 of 261; its
checkpoint holds step 261. This exports that step, and writes the older sets' questions answered by the credit
line ("Dimitrios Kambouris") to one gold file; score both with the candidate's code (credit lines kept:
`git apply training/runs/captions-2026-12-07/candidate.diff` in a worktree, its own index):

    python credits_last_step.py   # -> var/reader-captions-last/model, /tmp/credits.jsonl
    qa eval --gold /tmp/credits.jsonl --corpus-style news --reader trained --reader-model MODEL --out DIR
"""

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
OLDER = ["blind"] + [f"blind{i}" for i in range(2, 80) if i not in (18, 19) and not 44 <= i <= 47]


def main() -> None:
    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering

    from qa.reader_training import export

    src = ROOT / "var" / "reader-captions"
    state = torch.load(src / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = BertForQuestionAnswering.from_pretrained(str(ROOT / "models" / "reader-news")).float()
    model.load_state_dict(state["model"])
    tok = AutoTokenizer.from_pretrained(str(ROOT / "models" / "reader-news"))
    man = json.loads((src / "manifest.json").read_text())
    out = ROOT / "var" / "reader-captions-last" / "model"
    export(model.eval(), tok, out, man, {"step": state["step"], "note": "last step of the reader-captions.toml run"})
    # held: the shipped calibration (the fine-tune starts from the shipped reader)
    shutil.copy2(ROOT / "models" / "reader-news" / "calibration.json", out / "calibration.json")
    with open("/tmp/credits.jsonl", "w", encoding="utf-8") as f:
        for name in OLDER:
            for line in (ROOT / "gold" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
                q = json.loads(line) if line.strip() else None
                if q and any("Kambouris" in a or "Getty" in a for a in q.get("answers", [])):
                    f.write(json.dumps({**q, "id": f"{name}-{q['id']}"}) + "\n")


if __name__ == "__main__":
    main()
