"""The `qa` command: index build/stats, ask, eval, serve. Flags override QA_* environment variables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from qa.settings import CORPUS_STYLES, ROOT, Settings


def _settings_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("settings (each also readable from a QA_* environment variable)")
    g.add_argument("--corpus", dest="corpus_dir", type=Path, help="folder of articles (QA_CORPUS_DIR)")
    g.add_argument("--index-dir", dest="index_dir", type=Path, help="index folder (QA_INDEX_DIR)")
    g.add_argument("--model", dest="model_path", help="sentence-transformers model folder (QA_MODEL_PATH)")
    g.add_argument("--device", help="torch device, default cpu (QA_DEVICE)")
    g.add_argument("--chunk-tokens", type=int, help="tiktoken tokens per chunk (QA_CHUNK_TOKENS)")
    g.add_argument("--chunk-overlap", type=int, help="overlap tokens between chunks (QA_CHUNK_OVERLAP)")
    g.add_argument("--index-type", choices=["flat", "hnsw", "ivf"], help="FAISS index kind (QA_INDEX_TYPE)")
    g.add_argument("--top-k", type=int, help="passages retrieved per question (QA_TOP_K)")
    g.add_argument(
        "--threshold",
        dest="abstain_threshold",
        type=float,
        help="abstain below this confidence (QA_ABSTAIN_THRESHOLD; default: the reader's calibrated one)",
    )
    g.add_argument(
        "--corpus-style",
        dest="corpus_style",
        choices=list(CORPUS_STYLES),
        help="what the articles are like; picks the trained reader and its threshold (QA_CORPUS_STYLE, news)",
    )
    g.add_argument("--reader", choices=["trained", "rules"], help="span reader (QA_READER, default trained)")
    g.add_argument(
        "--reader-model", dest="reader_model", type=Path,
        help="trained reader folder (QA_READER_MODEL; default: the corpus style's)",
    )  # fmt: skip
    g.add_argument(
        "--reader-passages",
        dest="reader_passages",
        type=int,
        help="retrieved passages the trained reader reads (QA_READER_PASSAGES)",
    )
    g.add_argument(
        "--reader-confident",
        dest="reader_confident",
        type=float,
        help="read past the first passage only below this confidence (QA_READER_CONFIDENT; 1: read them all)",
    )


def _settings(ns: argparse.Namespace, **extra: Any) -> Settings:
    names = ("corpus_dir", "index_dir", "model_path", "device", "chunk_tokens", "chunk_overlap", "index_type",
             "top_k", "abstain_threshold", "corpus_style", "reader", "reader_model", "reader_passages",
             "reader_confident", "host", "port", "build_engine", "workers")  # fmt: skip
    overrides = {n: getattr(ns, n) for n in names if getattr(ns, n, None) is not None}
    overrides.update(extra)
    return Settings.from_env(**overrides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Extractive question answering over a folder of articles")
    sub = parser.add_subparsers(dest="command", required=True)

    index = sub.add_parser("index", help="build or inspect the index").add_subparsers(
        dest="index_command", required=True
    )
    build = index.add_parser("build", help="build (or incrementally refresh) the index of a corpus folder")
    _settings_args(build)
    build.add_argument("--out", dest="out", type=Path, help="index folder to write (same as --index-dir)")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.add_argument(
        "--engine",
        dest="build_engine",
        choices=["local", "ray"],
        help="local: this process; ray: read, chunk and embed on Ray (RAY_ADDRESS or a local Ray) (QA_BUILD_ENGINE)",
    )
    stats = index.add_parser("stats", help="describe the live index")
    _settings_args(stats)
    stats.add_argument("--json", action="store_true", help="print the manifest summary as JSON")

    ask = sub.add_parser("ask", help="answer one question from the command line")
    _settings_args(ask)
    ask.add_argument("question")
    ask.add_argument("--candidates", type=int, default=1, help="how many ranked answers to show")
    ask.add_argument("--json", action="store_true", help="print the whole answer structure as JSON")

    ev = sub.add_parser("eval", help="score answers against gold questions")
    _settings_args(ev)
    from qa.evaluate import add_eval_arguments

    add_eval_arguments(ev)

    reader = sub.add_parser("reader", help="train and calibrate the trained reader").add_subparsers(
        dest="reader_command", required=True
    )
    train = reader.add_parser("train", help="fine-tune the span reader from a config file (GPU if present)")
    train.add_argument(
        "--config",
        type=Path,
        help="recipe (TOML); default training/reader.toml with a GPU, training/reader-cpu.toml without",
    )
    train.add_argument(
        "--out",
        type=Path,
        default=ROOT / "var" / "reader-train",
        help="checkpoints, log and the exported model (OUT/model)",
    )
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    train.add_argument("--max-minutes", type=float, help="stop after this long, keeping the best model so far")
    train.add_argument(
        "--base-model",
        help="start from this model folder instead of the recipe's base_model (e.g. a reader to fine-tune further)",
    )
    exp = reader.add_parser("export", help="safetensors weights -> one int8 ONNX file (faster on CPUs)")
    exp.add_argument(
        "--from",
        dest="src",
        type=Path,
        default=ROOT / "var" / "reader-train" / "model",
        help="model folder with model.safetensors",
    )
    exp.add_argument("--to", dest="dst", type=Path, required=True, help="model folder to write (model.onnx + the rest)")
    merge = reader.add_parser(
        "merge", help="average two readers' weights (a reader and its own fine-tune); calibrate the result"
    )
    merge.add_argument("first", type=Path, help="model folder (e.g. the reader a fine-tune started from)")
    merge.add_argument("second", type=Path, help="model folder (e.g. that fine-tune)")
    merge.add_argument(
        "--weight", type=float, required=True, help="share of the second reader, 0 to 1 ((1 - w) * first + w * second)"
    )
    merge.add_argument("--to", dest="dst", type=Path, required=True, help="model folder to write")
    cal = reader.add_parser("calibrate", help="fit the reader's confidence and threshold on held-out questions")
    _settings_args(cal)
    cal.add_argument(
        "--config",
        type=Path,
        help="training recipe whose dev_articles are the held-out questions (default: the one the model was "
        "trained with, from its training.json, where that file is here; else training/reader.toml)",
    )
    cal.add_argument(
        "--threshold-gold",
        type=Path,
        action="append",
        help="news gold set of the served corpus to choose the threshold on too (repeatable; "
        "it becomes a development set; default: the ones the model's calibration.json was chosen on)",
    )
    cal.add_argument("--work-dir", type=Path, default=ROOT / "var" / "reader-calibrate", help="dev corpus and index")

    serve = sub.add_parser("serve", help="run the HTTP service (builds or refreshes the index first)")
    _settings_args(serve)
    serve.add_argument("--host", help="bind address (QA_HOST)")
    serve.add_argument("--port", type=int, help="port (QA_PORT)")
    serve.add_argument(
        "--workers",
        type=int,
        help="server processes on the port, each with its own models and index (QA_WORKERS, default 1)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        if ns.command == "index" and ns.index_command == "build":
            return _index_build(ns)
        if ns.command == "index":
            return _index_stats(ns)
        if ns.command == "ask":
            return _ask(ns)
        if ns.command == "eval":
            from qa.evaluate import run_eval_command

            return run_eval_command(ns, _settings(ns))
        if ns.command == "reader":
            return _reader(ns)
        if ns.command == "serve":
            from server.run import serve

            serve(_settings(ns))
            return 0
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"qa: error: {_one_line(exc) if _builds_or_serves(ns) else exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a folder this user may not read: one line, not a traceback
        if not _builds_or_serves(ns):
            raise
        print(f"qa: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    return 2


def _builds_or_serves(ns: argparse.Namespace) -> bool:
    return ns.command == "serve" or (ns.command == "index" and ns.index_command == "build")


def _one_line(exc: BaseException) -> str:
    from index.store import one_line

    return one_line(exc, limit=1000)


def _reader(ns: argparse.Namespace) -> int:
    if ns.reader_command == "train":
        from qa.reader_training import default_config, train

        config = ns.config or default_config()
        print(f"qa reader train: recipe {config}", file=sys.stderr)
        model = train(config, ns.out, resume=ns.resume, max_minutes=ns.max_minutes, base_model=ns.base_model)
        print(f"trained reader: {model} (use it with --reader-model {model}, then `qa reader calibrate`)")
        return 0
    if ns.reader_command == "export":
        from qa.reader_export import export_onnx

        print(f"wrote {export_onnx(ns.src, ns.dst)}")
        return 0
    if ns.reader_command == "merge":
        from qa.reader_merge import merge_readers

        out = merge_readers(ns.first, ns.second, ns.weight, ns.dst)
        print(f"merged reader: {out} (calibrate it: qa reader calibrate --reader-model {out} ...)")
        return 0
    from qa.reader_calibration import calibrate, recipe_of

    settings = _settings(ns)
    record = calibrate(ns.config or recipe_of(settings.reader_folder), settings, ns.work_dir, ns.threshold_gold)
    print(json.dumps(record, indent=1))
    return 0


def _index_build(ns: argparse.Namespace) -> int:
    from index.build import build_index
    from index.chunking import ChunkingConfig
    from qa.engine import load_embedder

    settings = _settings(ns, index_dir=ns.out) if ns.out else _settings(ns)
    embedder = load_embedder(settings)
    config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap)
    if settings.build_engine == "ray":
        from index.build_ray import build_index_ray

        report = build_index_ray(
            settings.corpus_dir,
            settings.index_dir,
            embedder,
            config,
            settings.index_type,
            progress=not ns.no_progress,
            device=settings.device,
            model_path=settings.model_path,
        )
    else:
        report = build_index(
            settings.corpus_dir, settings.index_dir, embedder, config, settings.index_type, progress=not ns.no_progress
        )
    print(report.summary())
    return 1 if report.errors and not report.documents else 0


def _index_stats(ns: argparse.Namespace) -> int:
    from index.store import current_build_dir, read_manifest

    settings = _settings(ns)
    build = current_build_dir(settings.index_dir)
    m = read_manifest(build)
    summary = {
        "index_dir": str(settings.index_dir),
        "build": m["build_id"],
        "created_at": m["created_at"],
        "model": m["model_id"],
        "dimension": m["dimension"],
        "index_type": m["index_type"],
        "chunking": m["chunking"],
        "corpus_dir": m["corpus_dir"],
        **m["counts"],
        "bytes": sum(f["bytes"] for f in m["files"].values()),
    }
    if ns.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k:>12}: {v}")
    return 0


def _ask(ns: argparse.Namespace) -> int:
    from qa.engine import Engine
    from qa.errors import QuestionError

    engine = Engine.load(_settings(ns), build=False)
    try:
        answer = engine.ask(ns.question, candidates=ns.candidates)
    except QuestionError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    if ns.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(answer.reply)
    if not answer.abstained:
        print(f"\nconfidence: {answer.confidence:.2f}")
        for c in answer.citations:
            print(f"[{c.index}] {c.doc_id} [{c.start}:{c.end}] \u201c{c.quote}\u201d")
    for i, cand in enumerate(answer.candidates[1:], start=2):
        print(f"candidate {i}: {cand.answer!r} (score {cand.score:.2f}, {cand.citation.doc_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
