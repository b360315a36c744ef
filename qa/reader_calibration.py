"""`qa reader calibrate`: fit the trained reader's confidence and threshold on held-out questions.

The whole pipeline (retrieval over an index of the held-out articles, then the reader) runs on the dev
articles named in the training config, which training never saw. Every span the reader proposes becomes
one row: its features (span score, margin over "no answer", retrieval score and rank) and whether it is a
right answer (token F1 >= 0.5 against the gold answers; never, for unanswerable questions). A logistic
regression on those rows is P(right) (every passage the reader would read is read here, whatever
QA_READER_CONFIDENT says, so the fit sees every candidate). A threshold per corpus style (QA_CORPUS_STYLE)
is the one that gives the best F1 when the engine answers with its most probable span or abstains:
"encyclopaedia" on the dev questions, "news" on `threshold_gold` (news gold sets of the served corpus,
e.g. seed and heldout, asked as served) when given, because confidence calibrated on encyclopaedia
paragraphs runs lower on news and one threshold cannot serve both (BENCHMARKS.md). All go to
calibration.json; the gold sets used this way are development sets from then on, never reported as unseen.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from index.embedding import Embedder
from qa.metrics import Scored, best_f1, best_threshold
from qa.settings import CORPUS_STYLES, ROOT, Settings
from qa.span_reader import Calibration

if TYPE_CHECKING:
    from qa.engine import Engine
    from qa.gold import GoldQuestion

Row: TypeAlias = tuple[int, tuple[float, ...], float]  # (question's position, features, F1 of the span)
RIGHT_F1 = 0.5  # a candidate at least this close to a gold answer counts as right
ROUNDING = 1e-4  # the precision of an answer's reported confidence (qa/engine.py)


def calibrate(
    config: Path, settings: Settings, work_dir: Path, threshold_gold: list[Path] | None = None, progress: bool = True
) -> dict:
    from sklearn.linear_model import LogisticRegression

    from qa.engine import Engine, load_embedder
    from qa.gold import read_gold, write_squad_corpus
    from qa.reader_training import TrainConfig, load_examples, split_dev, write_dev_squad

    # One folder throughout, whatever style each step below scores at (QA_CORPUS_STYLE picks a default folder).
    settings = settings.with_(reader_model=settings.reader_folder)
    if threshold_gold is None:  # recalibrating must not quietly drop the gold sets the threshold was chosen on
        threshold_gold = previous_threshold_gold(settings.reader_folder) or None
        if threshold_gold and progress:
            print(f"calibrate: threshold chosen on dev and {', '.join(map(str, threshold_gold))}, as last time "
                  "(--threshold-gold picks others)", file=sys.stderr)  # fmt: skip
    cfg = TrainConfig.load(config)
    _, dev = split_dev(load_examples(cfg.data, cfg.seed, cfg.dev_articles), cfg.dev_articles)
    if not dev:
        raise ValueError(f"{config}: no dev questions (dev_articles names no article of the data files)")
    work_dir.mkdir(parents=True, exist_ok=True)
    write_dev_squad(dev, work_dir / "dev-squad.json")
    gold = read_gold(work_dir / "dev-squad.json")
    write_squad_corpus(gold, work_dir / "corpus")
    served = settings
    embedder = load_embedder(settings)
    settings = settings.with_(corpus_dir=work_dir / "corpus", index_dir=work_dir / "index", reader="trained")
    engine = Engine.load(settings, embedder=embedder, build=True, progress=progress)
    rows = candidate_rows(engine, gold.questions, progress)
    x = np.array([r[1] for r in rows], dtype=np.float64)
    y = np.array([r[2] >= RIGHT_F1 for r in rows], dtype=np.int64)
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    fitted_on = f"{len(gold.questions)} held-out questions of {', '.join(cfg.dev_articles)}"
    cal = Calibration(tuple(float(c) for c in lr.coef_[0]), float(lr.intercept_[0]),
                      dict.fromkeys(CORPUS_STYLES, 0.5), fitted_on)  # fmt: skip

    dev_rows = most_probable(rows, cal, gold.questions)
    # Each style's threshold is chosen on questions of that style: the config's dev articles (encyclopaedia
    # paragraphs for training/reader.toml) and, with threshold_gold, the news gold sets; without them the
    # dev questions serve both.
    chosen_on: dict[str, list[str]] = {"encyclopaedia": ["dev"], "news": ["dev"]}
    style_rows: dict[str, list[Scored]] = {"encyclopaedia": dev_rows, "news": dev_rows}
    out = settings.reader_folder / "calibration.json"
    if threshold_gold:
        _write(out, cal, {})  # the served engine below must score with the new coefficients
        style_rows["news"] = _served_rows(served.with_(reader="trained"), embedder, threshold_gold)
        chosen_on["news"] = [str(g) for g in threshold_gold]
    best_at = {style: best_threshold(style_rows[style]) for style in CORPUS_STYLES}
    # Served answers report confidence to 4 decimals: the threshold chosen on them goes half a unit lower, so
    # the engine (comparing the unrounded confidence) answers exactly the questions counted as answered here.
    slack = {s: ROUNDING / 2 if style_rows[s] is not dev_rows else 0.0 for s in CORPUS_STYLES}
    thresholds = {s: min(1.0, max(0.0, m.threshold - slack[s])) for s, m in best_at.items()}  # 1: abstain on all
    cal = Calibration(cal.coef, cal.intercept, thresholds, cal.fitted_on)
    record = _write(out, cal, {
        "threshold_chosen_on": chosen_on,
        "f1_at_threshold": {style: round(m.f1, 4) for style, m in best_at.items()},
        "candidates": len(rows), "top_k": settings.top_k, "reader_passages": settings.passages_read,
        "right_share": round(float(y.mean()), 4), "reader_confident_served": served.reader_confident,
    })  # fmt: skip
    return record


def candidate_rows(engine: Engine, questions: Sequence[GoldQuestion], progress: bool = False) -> list[Row]:
    """Every span the trained reader proposes for each question, every passage read (whatever
    QA_READER_CONFIDENT says): (question's position, the calibration's features, the span's F1)."""
    from qa.reading import analyse_question
    from qa.span_reader import SpanReader

    reader = engine.reader
    assert isinstance(reader, SpanReader)
    rows: list[Row] = []
    for qi, q in enumerate(questions):
        question = analyse_question(q.question, [])
        qvec = engine.embedder.encode_query(question.search_text)
        hits = engine.retriever.search(qvec, question.search_text, engine.settings.top_k)
        for c in reader.candidates(question.reader_text, hits, every_passage=True):
            text = engine.index.documents[c.doc_id].text[c.start : c.end]
            rows.append((qi, c.features, best_f1(q.answers, text) if q.answers else 0.0))
        if progress and qi % 100 == 0:
            print(f"calibrate: {qi}/{len(questions)} questions read", file=sys.stderr)
    return rows


def most_probable(rows: list[Row], cal: Calibration, questions: Sequence[GoldQuestion]) -> list[Scored]:
    """Each question answered with its most probable span under `cal` (or none: abstained), scored for the
    threshold sweep; exact match plays no part in the choice."""
    best: dict[int, tuple[float, float]] = {}  # question -> (confidence, F1)
    for qi, feats, f1 in rows:
        p = cal.confidence(feats)
        if qi not in best or p > best[qi][0]:
            best[qi] = (p, f1)
    out = []
    for qi, q in enumerate(questions):
        p, f1 = best.get(qi, (0.0, 0.0))
        has = bool(q.answers)
        out.append(Scored(has, p, qi in best, 0.0, f1 if has else 0.0, 0.0, 0.0 if has else 1.0))
    return out


def recipe_of(model_dir: Path) -> Path:
    """The recipe a model was trained with (its training.json manifest), whose dev articles it never trained
    on; training/reader.toml where the manifest names none or a file not in this repository. A merged reader
    (`qa reader merge`) takes its second reader's: the fine-tune, or the later of two fine-tunes, whose recipe
    holds out the first's dev articles too (reader.toml's in reader-news.toml, reader-news.toml's in
    reader-news2.toml)."""
    try:
        record = json.loads((model_dir / "training.json").read_text(encoding="utf-8"))
        while "merge" in record:
            record = record["merge"]["second"]["training"]
        named = record["manifest"]["config"]
    except (OSError, ValueError, KeyError, TypeError):
        named = None
    recipe = ROOT / named if isinstance(named, str) else None
    return recipe if recipe is not None and recipe.is_file() else ROOT / "training" / "reader.toml"


def previous_threshold_gold(model_dir: Path) -> list[Path]:
    """The gold sets the model's current calibration chose its threshold on, besides the dev questions."""
    path = model_dir / "calibration.json"
    if not path.is_file():
        return []
    try:
        chosen = json.loads(path.read_text(encoding="utf-8")).get("threshold_chosen_on", [])
    except ValueError:
        return []
    if isinstance(chosen, dict):  # per corpus style; before styles, one list for the one threshold
        chosen = chosen.get("news", [])
    return [Path(g) for g in chosen if g != "dev"]


def _served_rows(settings: Settings, embedder: Embedder, golds: list[Path]) -> list[Scored]:
    """Every question of news gold sets, asked of the served corpus at threshold 0 and scored as `qa eval`
    scores it (through the same asker)."""
    from qa.engine import Engine
    from qa.evaluate import engine_asker, score_question
    from qa.gold import read_gold

    engine = Engine.load(settings, embedder=embedder)
    ask = engine_asker(engine)
    out = []
    for path in golds:
        for q in read_gold(path).questions:
            out.append(score_question(q, ask(q, settings.top_k), 0.0, None).scored())
    return out


def _write(out: Path, cal: Calibration, extra: dict) -> dict:
    record = {**cal.to_json(), **extra}
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return record
