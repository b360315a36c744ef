"""Fine-tune the retrieval model (all-MiniLM-L6-v2) on the questions written for this project: an experiment.

Why: on the news gold sets the passage holding the answer is among the two the reader reads for only 76% of
answerable questions (BENCHMARKS.md); the corpus's five articles tell one story, so retrieval must separate
passages of the same article. Each written question goes with the passage holding its answer (the index's own
chunks: training/news_to_squad.py) and, as a hard negative, the passage of the same article that the current
model ranks closest among those without the answer; the loss is the in-batch softmax over every passage of
the batch (MultipleNegativesRankingLoss, written out in torch: sentence-transformers' trainer needs `datasets`
and `accelerate`, which nothing else here uses). The dev articles of training/reader-news2.toml are left out,
so the readers' calibration questions stay unseen.

    .venv/bin/python training/embedder_finetune.py --out var/embedder-ft [--epochs 1] [--max-minutes 25]

`--base FOLDER` starts from another sentence-transformers folder (say `models/embedder`, to go on from the shipped
model) instead of the packaged one; `--data FILE` (repeatable, relative to training/) replaces the default written
files (news, news2, encyclopaedia-style) with others of the same format.

`--with-squad SHARE` adds that share of the SQuAD-style questions of training/reader.toml's data files (SQuAD 1.1
slice, XQuAD, the labelled SQuAD 2.0 questions, the questions written for SQuAD paragraphs; answerable ones only,
the same dev articles left out), each with its paragraph and the closest paragraph of its article without the
answer.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILES = ["labels/news-written.json", "labels/news2-written.json", "labels/encyclopaedia-written.json"]


def pairs(dev: set[str], files: list[str] = FILES) -> list[tuple[str, str, list[str]]]:
    """(question, its answer's passage, the other passages of its article without the answer)."""
    out = []
    for name in files:
        data = json.loads((ROOT / "training" / name).read_text(encoding="utf-8"))
        for art in data["data"]:
            if art["title"] in dev:
                continue
            passages = [p["context"] for p in art["paragraphs"]]
            for p in art["paragraphs"]:
                for qa in p["qas"]:
                    if qa.get("is_impossible") or not qa["answers"]:
                        continue
                    answer = qa["answers"][0]["text"]
                    others = [c for c in passages if c != p["context"] and answer not in c]
                    out.append((qa["question"], p["context"], others))
    return out


def squad_pairs(dev: set[str]) -> list[tuple[str, str, list[str]]]:
    """The same triples from the SQuAD-style data files of training/reader.toml (answerable questions)."""
    from qa.reader_training import TrainConfig, load_examples

    cfg = TrainConfig.load(ROOT / "training" / "reader.toml")
    examples = [e for e in load_examples(cfg.data, cfg.seed, cfg.dev_articles) if e.article not in dev]
    paragraphs: dict[str, set[str]] = {}
    for e in examples:
        paragraphs.setdefault(e.article, set()).add(e.context)
    out = []
    for e in examples:
        if e.answer_text:
            others = sorted(c for c in paragraphs[e.article] if c != e.context and e.answer_text not in c)
            out.append((e.question, e.context, others))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--max-minutes", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--with-squad",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="add this share (0-1, drawn with the seed) of the SQuAD-style questions (see above)",
    )
    ap.add_argument("--base", type=Path, default=None, help="start from this model folder (default: the packaged one)")
    ap.add_argument("--data", action="append", default=None, help="a labels file under training/ (repeatable)")
    ns = ap.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from index.embedding import packaged_model_path

    torch.manual_seed(ns.seed)
    rng = random.Random(ns.seed)
    recipe = tomllib.loads((ROOT / "training" / "reader-news2.toml").read_text(encoding="utf-8"))
    data = pairs(set(recipe["dev_articles"]), ns.data or FILES)
    if ns.with_squad > 0:
        extra = squad_pairs(set(recipe["dev_articles"]))
        data += [t for t in extra if rng.random() < ns.with_squad]
    device = "cuda" if torch.cuda.is_available() else "cpu"  # an accelerator when present, as reader training
    base = str(ns.base) if ns.base else packaged_model_path()
    model = SentenceTransformer(base, device=device, local_files_only=True)
    # hard negatives: the closest passage of the same article without the answer, by the model before training.
    # The rule of qa.reader_training.add_retrieved_negatives, but one negative paired with each question (that
    # function returns standalone "no answer" examples for a share of them) and the answer matched as written.
    with torch.no_grad():
        texts = sorted({t for q, p, o in data for t in [p, *o]})
        vec = dict(zip(texts, model.encode(texts, batch_size=64, normalize_embeddings=True), strict=True))
        qv = model.encode([q for q, _, _ in data], batch_size=64, normalize_embeddings=True)
    triples = []
    for (q, p, others), v in zip(data, qv, strict=True):
        neg = max(others, key=lambda c: float(vec[c] @ v)) if others else None
        triples.append((q, p, neg))
    steps = int(len(triples) * ns.epochs / ns.batch)
    print(f"embedder fine-tune: {len(triples)} questions, {steps} steps of {ns.batch}", file=sys.stderr)
    opt = torch.optim.AdamW(model.parameters(), lr=ns.lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    model.train()
    start = time.monotonic()
    order: list[int] = []
    for step in range(steps):
        if len(order) < ns.batch:
            order += rng.sample(range(len(triples)), len(triples))
        idx, order = order[: ns.batch], order[ns.batch :]
        batch = [triples[i] for i in idx]
        passages = [p for _, p, _ in batch] + [n for _, _, n in batch if n]

        def embed(texts: list[str]) -> torch.Tensor:
            raw = getattr(model, "preprocess", model.tokenize)(texts)  # `tokenize` before sentence-transformers 6
            feats = {k: v.to(model.device) if torch.is_tensor(v) else v for k, v in raw.items()}
            return model(feats)["sentence_embedding"]

        q = torch.nn.functional.normalize(embed([b[0] for b in batch]), dim=-1)
        p = torch.nn.functional.normalize(embed(passages), dim=-1)
        logits = ns.scale * q @ p.T
        # the same passage can serve two questions of a batch: mask its duplicates as negatives
        labels = torch.arange(len(batch), device=logits.device)
        dup = torch.tensor([[passages[j] == batch[i][1] and j != i for j in range(len(passages))]
                            for i in range(len(batch))], device=logits.device)  # fmt: skip
        logits = logits.masked_fill(dup, -1e4)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        minutes = (time.monotonic() - start) / 60
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps} loss {loss.item():.4f} {minutes:.1f} min", file=sys.stderr, flush=True)
        if minutes > ns.max_minutes:
            print(f"stopped at step {step + 1}: --max-minutes {ns.max_minutes}", file=sys.stderr)
            break
    model.eval()
    model.save(str(ns.out))
    print(f"saved {ns.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
