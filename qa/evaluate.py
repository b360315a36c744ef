"""`qa eval`: run gold questions through the engine (or a running server), score them, and report.

Every question is asked once with threshold 0, so each gets its best answer and its confidence; the
abstention threshold is then applied here, which lets one run report any threshold (the sweep).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import metrics
from qa.gold import GoldQuestion, GoldSet, read_gold, write_squad_corpus
from qa.settings import ROOT, Settings

if TYPE_CHECKING:
    from qa.engine import Engine

DEFAULT_TOP_K = 10
RECALL_KS = (1, 5, 10)

# flag (without --), where the value lives in the summary, and whether it is a lower bound.
BOUNDS: tuple[tuple[str, str, bool], ...] = (
    ("min-exact", "configured.exact", True),
    ("min-f1", "configured.f1", True),
    ("min-hasans-f1", "configured.HasAns_f1", True),
    ("min-citation-precision", "configured.citation_precision", True),
    ("min-abstain-precision", "configured.abstain_precision", True),
    ("min-abstain-recall", "configured.abstain_recall", True),
    ("max-answered-wrongly-abstained", "configured.answered_wrongly_abstained", False),
    ("min-recall-at-1", "retrieval.recall@1", True),
    ("min-recall-at-5", "retrieval.recall@5", True),
    ("min-recall-at-10", "retrieval.recall@10", True),
    ("min-mrr", "retrieval.mrr", True),
    ("max-latency-p95", "latency_ms.p95", False),
)

Asker = Callable[[GoldQuestion, int], dict[str, Any]]


class AskError(Exception):
    """One question failed (rejected by the engine, or an HTTP error); it is scored as an abstention."""


# -- asking ---------------------------------------------------------------------------------------------


def engine_asker(engine: Engine, given_paragraph: bool = False) -> Asker:
    from qa.errors import QuestionError

    def ask(q: GoldQuestion, top_k: int) -> dict[str, Any]:
        # No doc_ids (an unanswerable question): no filter; an empty doc_ids filter is a 400 now.
        filters = {"doc_ids": q.doc_ids} if given_paragraph and q.doc_ids else None
        try:
            answer = engine.ask(
                q.question, history=q.history_dicts() or None, top_k=top_k, threshold=0.0, filters=filters
            )
        except QuestionError as exc:
            raise AskError(str(exc)) from exc
        return answer.to_dict()

    return ask


def http_asker(url: str, timeout: float, transport: Any = None) -> Asker:
    """POST {url}/api/ask, exactly what a user's client sends (`transport`: an httpx transport, for tests)."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport)

    def ask(q: GoldQuestion, top_k: int) -> dict[str, Any]:
        body: dict[str, Any] = {"question": q.question, "top_k": top_k, "threshold": 0.0}
        if q.history:
            body["history"] = q.history_dicts()
        try:
            response = client.post("/api/ask", json=body)
        except httpx.TransportError as exc:
            raise RuntimeError(f"cannot reach {url}: {exc}") from exc
        if response.status_code != 200:
            raise AskError(f"HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    return ask


# -- scoring one question -------------------------------------------------------------------------------


@dataclass
class Row:
    """One gold question and what the system did with it (answer at threshold 0, scored both ways)."""

    id: str
    kind: str
    question: str
    expected: list[str]
    doc_ids: list[str]
    has_answer: bool
    got: str | None  # best answer (asked with threshold 0)
    confidence: float
    offered: bool  # an answer came back at threshold 0
    exact_if_answered: float
    f1_if_answered: float
    exact_if_abstained: float
    f1_if_abstained: float
    citation_ok: bool
    citation: dict[str, Any] | None  # the first citation: doc_id, start, end, quote
    retrieval_rank: int | None  # 1-based rank of the first gold passage in `related`; None: not retrieved
    retrieved: list[list[Any]]  # [doc_id, start, end] of each related passage, best first
    latency_ms: float
    history: list[dict[str, str]] = field(default_factory=list)
    resolved_question: str | None = None
    sentence: str | None = None
    error: str | None = None
    # At the configured threshold (filled in once the run is done):
    answered: bool = False
    exact: float = 0.0
    f1: float = 0.0

    def scored(self) -> metrics.Scored:
        return metrics.Scored(
            has_answer=self.has_answer, confidence=self.confidence, offered=self.offered,
            exact_if_answered=self.exact_if_answered, f1_if_answered=self.f1_if_answered,
            exact_if_abstained=self.exact_if_abstained, f1_if_abstained=self.f1_if_abstained,
            citation_ok=self.citation_ok,
        )  # fmt: skip

    def at(self, threshold: float) -> None:
        self.answered = self.offered and self.confidence >= threshold
        self.exact = self.exact_if_answered if self.answered else self.exact_if_abstained
        self.f1 = self.f1_if_answered if self.answered else self.f1_if_abstained


def _relevant(q: GoldQuestion, doc_id: str, start: int, end: int) -> bool:
    """A passage supports the question: in a gold document, and overlapping a gold paragraph when known."""
    if q.paragraphs:
        return any(p.doc_id == doc_id and metrics.spans_overlap(start, end, p.start, p.end) for p in q.paragraphs)
    return doc_id in q.doc_ids


def score_question(q: GoldQuestion, answer: dict[str, Any] | None, latency_ms: float, error: str | None) -> Row:
    answer = answer or {}
    got = answer.get("answer")
    offered = bool(got) and not answer.get("abstained", False)
    prediction = got if offered else ""
    related = answer.get("related") or []
    retrieved = [[r["doc_id"], r["start"], r["end"]] for r in related]
    rank = metrics.first_hit_rank([_relevant(q, *r) for r in retrieved]) if q.has_answer else None
    cites = answer.get("citations") or []
    first = cites[0] if cites else None
    citation_ok = bool(
        q.has_answer
        and offered
        and first
        and _relevant(q, first["doc_id"], first["start"], first["end"])
        and metrics.contains_answer(first["quote"], q.answers)
    )
    return Row(
        id=q.id, kind=q.kind, question=q.question, expected=list(q.answers), doc_ids=list(q.doc_ids),
        has_answer=q.has_answer, got=got if offered else None, confidence=float(answer.get("confidence") or 0.0),
        offered=offered,
        exact_if_answered=float(metrics.best_exact(q.answers, prediction)),
        f1_if_answered=metrics.best_f1(q.answers, prediction),
        exact_if_abstained=float(metrics.best_exact(q.answers, "")),
        f1_if_abstained=metrics.best_f1(q.answers, ""),
        citation_ok=citation_ok,
        citation={k: first[k] for k in ("doc_id", "start", "end", "quote")} if first else None,
        retrieval_rank=rank, retrieved=retrieved, latency_ms=latency_ms, history=q.history_dicts(),
        resolved_question=answer.get("resolved_question"), sentence=answer.get("sentence"), error=error,
    )  # fmt: skip


# -- a run ------------------------------------------------------------------------------------------------


@dataclass
class EvalResult:
    summary: dict[str, Any]
    rows: list[Row]
    curve: list[metrics.ThresholdMetrics]  # metrics over thresholds from 0 to 1, for the plot

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary,
            "curve": [_finite(asdict(m)) for m in self.curve],
            "rows": [asdict(r) for r in self.rows],
        }


def run_questions(
    gold: GoldSet, ask: Asker, top_k: int = DEFAULT_TOP_K, progress: bool = True
) -> tuple[list[Row], int]:
    from tqdm import tqdm

    rows: list[Row] = []
    errors = 0
    for q in tqdm(gold.questions, desc=f"eval {gold.name}", unit="q", disable=not progress, file=sys.stderr):
        t0 = time.perf_counter()
        answer, error = None, None
        try:
            answer = ask(q, top_k)
        except AskError as exc:
            error, errors = str(exc), errors + 1
        rows.append(score_question(q, answer, (time.perf_counter() - t0) * 1000, error))
    return rows, errors


def summarise(gold: GoldSet, rows: list[Row], threshold: float, top_k: int, mode: str, errors: int = 0) -> EvalResult:
    scored = [r.scored() for r in rows]
    configured = metrics.metrics_at(scored, threshold)
    best = metrics.best_threshold(scored)
    for r in rows:
        r.at(threshold)
    ranks = [r.retrieval_rank for r in rows if r.has_answer]
    latencies = [r.latency_ms for r in rows]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({r.kind for r in rows}):
        kr = [r for r in rows if r.kind == kind]
        by_kind[kind] = {
            "total": len(kr),
            "answered": sum(r.answered for r in kr),
            "exact": sum(r.exact for r in kr) / len(kr),
            "f1": sum(r.f1 for r in kr) / len(kr),
        }
    grid = sorted({i / 200 for i in range(201)} | {m.threshold for m in [configured, best]})
    curve = metrics.sweep(scored, grid)
    summary: dict[str, Any] = {
        "name": gold.name,
        "gold": str(gold.path),
        "format": gold.format,
        "mode": mode,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "top_k": top_k,
        "questions": len(rows),
        "answerable": sum(r.has_answer for r in rows),
        "unanswerable": sum(not r.has_answer for r in rows),
        "errors": errors,
        "threshold": threshold,
        "configured": asdict(configured),
        "best": asdict(best),
        "best_f1": best.f1,
        "best_f1_thresh": best.threshold,
        "retrieval": {
            "unit": "paragraph" if any(q.paragraphs for q in gold.questions) else "document",
            "total": len(ranks),
            **{f"recall@{k}": metrics.recall_at(ranks, k) for k in RECALL_KS},
            "mrr": metrics.mean_reciprocal_rank(ranks),
        },
        "latency_ms": {
            "p50": metrics.percentile(latencies, 50),
            "p95": metrics.percentile(latencies, 95),
            "mean": sum(latencies) / len(latencies) if latencies else math.nan,
            "max": max(latencies, default=math.nan),
        },
        "by_kind": by_kind,
    }
    return EvalResult(summary=_finite(summary), rows=rows, curve=curve)


def evaluate(
    gold: GoldSet, ask: Asker, threshold: float, top_k: int = DEFAULT_TOP_K, mode: str = "python", progress: bool = True
) -> EvalResult:
    rows, errors = run_questions(gold, ask, top_k, progress)
    return summarise(gold, rows, threshold, top_k, mode, errors)


def _finite(value: Any) -> Any:
    """NaN (a metric with nothing to measure) becomes null, so the JSON stays standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _get(summary: dict[str, Any], dotted: str) -> Any:
    value: Any = summary
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_bounds(summary: dict[str, Any], bounds: dict[str, float | None]) -> list[str]:
    """Messages for each given --min-*/--max-* bound that the run does not meet (empty: all met)."""
    failed = []
    for flag, path, is_min in BOUNDS:
        bound = bounds.get(flag)
        if bound is None:
            continue
        value = _get(summary, path)
        if value is None:
            failed.append(f"--{flag} {bound}: {path} could not be measured on this gold set")
        elif (value < bound) if is_min else (value > bound):
            failed.append(f"--{flag} {bound}: {path} is {value:.4g}")
    return failed


# -- reports ----------------------------------------------------------------------------------------------

_TABLE_METRICS = (
    "exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "citation_precision",
    "abstain_precision", "abstain_recall", "answered_wrongly_abstained", "answered", "abstained",
)  # fmt: skip


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _header(s: dict[str, Any]) -> str:
    return (
        f"{s['name']}: {s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} unanswerable), "
        f"{s['format']} gold, via {s['mode']}, top_k={s['top_k']}" + (f", {s['errors']} errors" if s["errors"] else "")
    )


def terminal_table(result: EvalResult) -> str:
    s = result.summary
    c, b = s["configured"], s["best"]
    lines = [_header(s), ""]
    lines.append(f"{'metric':<28}{'configured ' + _fmt(c['threshold']):>20}{'best ' + _fmt(b['threshold']):>20}")
    lines += [f"{m:<28}{_fmt(c[m]):>20}{_fmt(b[m]):>20}" for m in _TABLE_METRICS]
    r = s["retrieval"]
    lines.append("")
    lines.append(
        f"retrieval ({r['unit']}, {r['total']} answerable): "
        + "  ".join(f"{k} {_fmt(r[k])}" for k in (*(f"recall@{k}" for k in RECALL_KS), "mrr"))
    )
    lat = s["latency_ms"]
    lines.append(f"latency ms: p50 {lat['p50']:.0f}  p95 {lat['p95']:.0f}  max {lat['max']:.0f}")
    lines.append("")
    lines.append(f"{'kind':<16}{'n':>5}{'answered':>10}{'EM':>8}{'F1':>8}")
    for kind, k in s["by_kind"].items():
        lines.append(f"{kind:<16}{k['total']:>5}{k['answered']:>10}{k['exact']:>8.3f}{k['f1']:>8.3f}")
    return "\n".join(lines)


def failures(rows: Sequence[Row]) -> list[Row]:
    """Questions not fully right at the configured threshold, worst first."""
    bad = [r for r in rows if r.f1 < 1.0 or (r.answered and r.has_answer and not r.citation_ok)]
    return sorted(bad, key=lambda r: (r.f1, r.id))


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_report(result: EvalResult, plot_name: str | None) -> str:
    s = result.summary
    c, b = s["configured"], s["best"]
    out = [
        f"# Evaluation: {s['name']}",
        "",
        _header(s) + ".",
        "",
        f"Gold file: `{s['gold']}`; run {s['created_at']}.",
        "",
    ]
    out += [f"| metric | configured threshold {_fmt(c['threshold'])} | best threshold {_fmt(b['threshold'])} |"]
    out += ["|---|---:|---:|"]
    out += [f"| {m} | {_fmt(c[m])} | {_fmt(b[m])} |" for m in _TABLE_METRICS]
    r, lat = s["retrieval"], s["latency_ms"]
    out += ["", f"Retrieval of the gold {r['unit']} ({r['total']} answerable questions):", "",
            "| recall@1 | recall@5 | recall@10 | MRR |", "|---:|---:|---:|---:|",
            f"| {_fmt(r['recall@1'])} | {_fmt(r['recall@5'])} | {_fmt(r['recall@10'])} | {_fmt(r['mrr'])} |",
            "", f"Latency per question: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, max {lat['max']:.0f} ms.",
            "", "| kind | questions | answered | EM | F1 |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    out += [
        f"| {k} | {v['total']} | {v['answered']} | {v['exact']:.3f} | {v['f1']:.3f} |" for k, v in s["by_kind"].items()
    ]
    if plot_name:
        out += ["", f"![F1 against the abstention threshold]({plot_name})"]
    bad = failures(result.rows)
    out += ["", f"## Questions not fully right at threshold {_fmt(c['threshold'])} ({len(bad)})", ""]
    if bad:
        out += [
            "| id | kind | question | expected | got | conf. | F1 | cited ok | rank |",
            "|---|---|---|---|---|---:|---:|---|---:|",
        ]
        for row in bad[:300]:
            got = row.got if row.answered else ("(abstained" + (f"; best: {row.got}" if row.got else "") + ")")
            expected = " / ".join(row.expected[:3]) or "(no answer)"
            out.append(
                f"| {_md_cell(row.id)} | {row.kind} | {_md_cell(row.question)} | {_md_cell(expected)} | "
                f"{_md_cell(got)} | {row.confidence:.2f} | {row.f1:.2f} | {'yes' if row.citation_ok else 'no'} | "
                f"{row.retrieval_rank or '-'} |"
            )
        if len(bad) > 300:
            out.append(f"\n{len(bad) - 300} more in the JSON report.")
    return "\n".join(out) + "\n"


def plot(result: EvalResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result.summary
    xs = [m.threshold for m in result.curve]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.plot(xs, [m.f1 for m in result.curve], label="F1 (all)", linewidth=2)
    ax.plot(xs, [m.HasAns_f1 for m in result.curve], label="HasAns F1")
    if s["unanswerable"]:
        ax.plot(xs, [m.NoAns_exact for m in result.curve], label="NoAns accuracy (abstained)")
    ax.axvline(s["configured"]["threshold"], color="grey", linestyle="--", label=f"configured {s['threshold']:.2f}")
    ax.axvline(s["best_f1_thresh"], color="black", linestyle=":", label=f"best {s['best_f1_thresh']:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("abstention threshold (answer when confidence \u2265 threshold)")
    ax.set_ylabel("score")
    ax.set_title(f"{s['name']}: answer quality against the abstention threshold")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_reports(result: EvalResult, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "results.json", "markdown": out_dir / "report.md", "plot": out_dir / "thresholds.png"}
    plot(result, paths["plot"])
    paths["json"].write_text(json.dumps(result.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown_report(result, paths["plot"].name), encoding="utf-8")
    return paths


# -- the command ------------------------------------------------------------------------------------------


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `qa eval` (the shared settings flags, --top-k and --threshold among them, are added by qa.cli)."""
    parser.add_argument("--gold", type=Path, required=True, help="gold file: our JSONL, or SQuAD 1.1/2.0 JSON")
    parser.add_argument("--url", help="ask a running server (POST URL/api/ask) instead of the Python API")
    parser.add_argument("--out", type=Path, help="report folder (default var/eval/NAME/)")
    parser.add_argument("--name", help="run name (default: the gold file's name)")
    parser.add_argument("--limit", type=int, help="only the first N questions (quick checks)")
    parser.add_argument(
        "--given-paragraph",
        action="store_true",
        help="SQuAD: ask each question of its own paragraph only (SQuAD's setting), not the open corpus",
    )
    parser.add_argument("--cache-dir", type=Path, help="where SQuAD corpora and indexes are kept (default var/eval/)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per HTTP request (with --url)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = parser.add_argument_group("quality bars (exit status 1 when one is not met; at the configured threshold)")
    for flag, path, is_min in BOUNDS:
        g.add_argument(f"--{flag}", type=float, metavar="X", help=f"{'lowest' if is_min else 'highest'} {path}")


def run_eval_command(ns: argparse.Namespace, settings: Settings, *, engine: Engine | None = None) -> int:
    gold = read_gold(ns.gold, per_paragraph=getattr(ns, "given_paragraph", False))
    if ns.limit is not None:
        if ns.limit < 1:
            raise ValueError("--limit must be positive")
        gold.questions = gold.questions[: ns.limit]
    top_k = ns.top_k if getattr(ns, "top_k", None) is not None else DEFAULT_TOP_K
    if top_k < 1:
        raise ValueError("--top-k must be positive")
    progress = not ns.no_progress
    name = ns.name or gold.name
    threshold = settings.abstain_threshold
    if ns.url:
        if gold.given_paragraph:
            raise ValueError("--given-paragraph runs in-process only (not with --url)")
        if threshold is None:
            threshold = _server_threshold(ns.url, ns.timeout)
        if gold.format == "squad":
            corpus = write_squad_corpus(gold, _squad_dir(ns, gold) / "corpus")
            print(
                f"note: the server must index the SQuAD corpus, e.g. qa serve --corpus {corpus.parent}", file=sys.stderr
            )
        ask, mode = http_asker(ns.url, ns.timeout), f"HTTP {ns.url}"
    else:
        if engine is None:
            engine = _load_engine(ns, settings, gold, progress)
        _warn_unknown_docs(gold, set(engine.index.documents))
        ask, mode = engine_asker(engine, gold.given_paragraph), "Python API"
        if threshold is None:
            threshold = engine.threshold
    result = evaluate(gold, ask, threshold, top_k, mode, progress)
    paths = write_reports(result, ns.out or ROOT / "var" / "eval" / name)
    print(terminal_table(result))
    print("\nreports: " + "  ".join(str(p) for p in paths.values()))
    failed = check_bounds(result.summary, {flag: getattr(ns, flag.replace("-", "_"), None) for flag, _, _ in BOUNDS})
    for message in failed:
        print(f"qa eval: quality bar not met: {message}", file=sys.stderr)
    return 1 if failed else 0


def _server_threshold(url: str, timeout: float) -> float:
    """The threshold a running server applies (its /health says), so --url scores what users get."""
    import httpx

    try:
        value = httpx.get(url.rstrip("/") + "/health", timeout=timeout).json().get("abstain_threshold")
    except (httpx.HTTPError, ValueError) as exc:
        raise RuntimeError(f"cannot read the threshold from {url}/health ({exc}); pass --threshold") from exc
    if not isinstance(value, int | float):
        raise RuntimeError(f"{url}/health reports no abstain_threshold; pass --threshold")
    return float(value)


def _squad_dir(ns: argparse.Namespace, gold: GoldSet) -> Path:
    return (ns.cache_dir or ROOT / "var" / "eval") / f"squad-{gold.corpus_hash()}"


def _load_engine(ns: argparse.Namespace, settings: Settings, gold: GoldSet, progress: bool) -> Engine:
    from qa.engine import Engine

    if gold.format == "squad":
        # Index the SQuAD contexts once in a cache keyed by their content; reruns reuse it.
        base = _squad_dir(ns, gold)
        write_squad_corpus(gold, base / "corpus")
        settings = settings.with_(corpus_dir=base / "corpus", index_dir=base / "index")
        return Engine.load(settings, build=True, progress=progress)
    return Engine.load(settings, progress=progress)


def _warn_unknown_docs(gold: GoldSet, known: set[str]) -> None:
    unknown = sorted({d for q in gold.questions for d in q.doc_ids} - known)
    if unknown:
        print(f"warning: gold doc_ids not in the index: {', '.join(unknown)}", file=sys.stderr)
