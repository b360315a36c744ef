"""The one settings object: defaults, overridden by QA_* environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
READERS = ("trained", "rules")  # QA_READER choices (qa/reading.py)
READER_PRECISIONS = ("auto", "fp32", "bf16")  # QA_READER_PRECISION choices (qa/span_reader.py)
READER_RUNTIMES = ("onnx", "torch")  # QA_READER_RUNTIME choices (qa/span_reader.py, qa/reader_export.py)
# QA_CORPUS_STYLE choices: which trained reader reads (READER_MODELS) and which of its calibrated thresholds
# serves (qa/reader_calibration.py)
CORPUS_STYLES = ("news", "encyclopaedia")
# The trained reader of each corpus style, where QA_READER_MODEL does not name one: news reads with the
# reader fine-tuned further on news-style articles, which lost on SQuAD's encyclopaedia text (BENCHMARKS.md,
# "A reader per corpus style")
READER_MODELS = {"news": ROOT / "models" / "reader-news", "encyclopaedia": ROOT / "models" / "reader"}
# How many retrieved passages the trained reader reads per corpus style, where QA_READER_PASSAGES is not set. A
# third is read only when the first stage is unsure (qa/span_reader.py): on news it lifted fresh blind sets by
# 0.020 F1; on encyclopaedia text (SQuAD) it changed no answer and cost 30 ms at p95 (BENCHMARKS.md, "A third
# passage when the first are unsure")
READER_PASSAGES = {"news": 3, "encyclopaedia": 2}
OPTIONAL_PATHS = frozenset({"reader_model"})  # folders when given, unset (None) by default
EMBED_RUNTIMES = ("onnx", "torch")  # QA_EMBED_RUNTIME choices (index/embedding.py)
BUILD_ENGINES = ("local", "ray")  # QA_BUILD_ENGINE choices (index/build.py, index/build_ray.py)


def model_threads(workers: int = 1) -> int:
    """CPU threads for each model's calls in one process: the machine's cores shared among the server's worker
    processes (QA_WORKERS), at most 4. Measured on 2 cores with 2 workers at 8 clients: one thread each
    answered 48-50 questions a second against 42-45 with two each (BENCHMARKS.md)."""
    return max(1, min(4, (os.cpu_count() or 1) // workers))


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = ROOT / "corpus"  # QA_CORPUS_DIR: folder of articles to index
    index_dir: Path = ROOT / "var" / "index"  # QA_INDEX_DIR: where the built index lives
    model_path: str | None = None  # QA_MODEL_PATH: sentence-transformers folder (default: models/embedder)
    device: str = "cpu"  # QA_DEVICE
    # QA_EMBED_RUNTIME: onnx (the embedding model as a fused fp32 ONNX Runtime graph, exported once and cached;
    # the same vectors, half the time in process here) or torch (a TorchScript graph)
    embed_runtime: str = "onnx"
    chunk_tokens: int = 160  # QA_CHUNK_TOKENS: tiktoken tokens per chunk
    chunk_overlap: int = 32  # QA_CHUNK_OVERLAP
    index_type: str = "flat"  # QA_INDEX_TYPE: flat (exact), hnsw or ivf (approximate, large corpora)
    build_engine: str = "local"  # QA_BUILD_ENGINE: who runs `qa index build`: local (this process) or ray
    top_k: int = 5  # QA_TOP_K: passages retrieved per question
    reader: str = "trained"  # QA_READER: trained (fine-tuned span model) or rules (hand-written rules)
    # QA_READER_MODEL: the trained reader's folder; unset: the corpus style's (READER_MODELS, `reader_folder`)
    reader_model: Path | None = None
    # QA_READER_PASSAGES: how many of the top_k passages the trained reader reads; unset: the corpus style's
    # (READER_PASSAGES, `passages_read`)
    reader_passages: int | None = None
    # QA_READER_CONFIDENT: the trained reader reads past its first stage (the best-ranked passage, or the best
    # two of differently dated articles) only when no span of it reaches this confidence (1: always reads them
    # all); 0.2 since 2026-12-07: fewer second passages, F1 within its rule on fresh sets
    # (training/runs/cascade-level-2026-12-07/PLAN.md)
    reader_confident: float = 0.2
    reader_threads: int = 0  # QA_READER_THREADS: CPU threads for the reader's model (0: `model_threads`)
    # QA_READER_LANES: with ONNX Runtime, how many windows (concurrent questions', or one question's passages)
    # are read side by side, each on one thread, by one more copy of the reader; a lone window still takes every
    # reader thread (0: one lane per reader thread, so the cores shared among QA_WORKERS; 1: none). Set by hand,
    # it is per process: lanes x QA_WORKERS above the cores only makes the calls queue for them
    reader_lanes: int = 0
    # QA_READER_RUNTIME: onnx (int8 with ONNX Runtime, an export of the shipped weights made once and cached;
    # the fastest here, F1 within noise) or torch (the fp16 weights in QA_READER_PRECISION)
    reader_runtime: str = "onnx"
    # QA_READER_PRECISION: with torch, the trained reader's arithmetic: bf16 (faster where the CPU multiplies
    # bfloat16 natively, same scores), fp32, or auto (bf16 on such CPUs, fp32 elsewhere)
    reader_precision: str = "auto"
    # QA_CORPUS_STYLE: what the articles are like, news or encyclopaedia: picks the trained reader (READER_MODELS)
    # and its threshold calibrated on that kind of text (the rule reader has one threshold)
    corpus_style: str = "news"
    # QA_ABSTAIN_THRESHOLD: below this confidence, abstain; unset: the reader's calibrated one for the style
    abstain_threshold: float | None = None
    prompts_dir: Path = ROOT / "prompts"  # QA_PROMPTS_DIR: reply templates
    auto_build: bool = True  # QA_AUTO_BUILD: build/refresh the index at server start
    host: str = "127.0.0.1"  # QA_HOST
    port: int = 8000  # QA_PORT
    # QA_WORKERS: server processes answering on the one port (server/run.py); each loads its own models and
    # index and follows new builds itself, so memory grows with each one
    workers: int = 1
    max_question_chars: int = 1000  # QA_MAX_QUESTION_CHARS
    max_history_messages: int = 50  # QA_MAX_HISTORY_MESSAGES
    max_body_bytes: int = 65536  # QA_MAX_BODY_BYTES: request body limit
    max_top_k: int = 50  # QA_MAX_TOP_K
    # QA_RELOAD_INTERVAL_S: how often a server checks for a newly published index build (0: never)
    reload_interval_s: float = 1.0
    # QA_API_TOKEN: bearer token for the document write endpoints; unset, they are off
    api_token: str | None = field(default=None, repr=False)  # kept out of logs
    max_upload_bytes: int = 10_000_000  # QA_MAX_UPLOAD_BYTES: body limit of POST/PUT /api/documents
    # Hardening (server/run.py, server/hardening.py; README "Limits and security").
    # QA_ALLOWED_HOSTS: Host names served (any port), comma-separated ("*.example.com" wildcards, "*": any);
    # empty: localhost, 127.0.0.1, [::1] and QA_HOST
    allowed_hosts: str = ""
    max_header_bytes: int = 16384  # QA_MAX_HEADER_BYTES: request line + headers, beyond: 431 (8192 at least)
    header_timeout_s: float = 10.0  # QA_HEADER_TIMEOUT_S: to receive a request's headers, then closed (max 60)
    body_timeout_s: float = 10.0  # QA_BODY_TIMEOUT_S: to receive a request's body once its headers are in, then 408

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"QA_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, f.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).validated()

    @property
    def reader_folder(self) -> Path:
        """The trained reader's folder: QA_READER_MODEL, or the corpus style's own."""
        return self.reader_model if self.reader_model is not None else READER_MODELS[self.corpus_style]

    @property
    def passages_read(self) -> int:
        """How many retrieved passages the trained reader reads: QA_READER_PASSAGES, or the corpus style's."""
        return self.reader_passages if self.reader_passages is not None else READER_PASSAGES[self.corpus_style]

    def with_(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None}).validated()

    def validated(self) -> Settings:
        coerced = {}
        for f in fields(self):
            value = getattr(self, f.name)
            is_path = isinstance(f.default, Path) or f.name in OPTIONAL_PATHS
            if is_path and value is not None and not isinstance(value, Path):
                coerced[f.name] = Path(value).expanduser()
        s = replace(self, **coerced) if coerced else self
        if s.reader not in READERS:
            raise ValueError(f"reader must be one of {', '.join(READERS)}, not {s.reader!r}")
        if s.reader_precision not in READER_PRECISIONS:
            choices = ", ".join(READER_PRECISIONS)
            raise ValueError(f"reader_precision must be one of {choices}, not {s.reader_precision!r}")
        if s.corpus_style not in CORPUS_STYLES:
            raise ValueError(f"corpus_style must be one of {', '.join(CORPUS_STYLES)}, not {s.corpus_style!r}")
        if s.reader_runtime not in READER_RUNTIMES:
            raise ValueError(f"reader_runtime must be one of {', '.join(READER_RUNTIMES)}, not {s.reader_runtime!r}")
        if s.embed_runtime not in EMBED_RUNTIMES:
            raise ValueError(f"embed_runtime must be one of {', '.join(EMBED_RUNTIMES)}, not {s.embed_runtime!r}")
        if s.reader_passages is not None and s.reader_passages < 1:
            raise ValueError("reader_passages must be positive")
        if not 0.0 <= s.reader_confident <= 1.0:
            raise ValueError("reader_confident must be between 0 and 1")
        if s.reader_threads < 0:
            raise ValueError("reader_threads must be 0 (automatic) or positive")
        if s.reader_lanes < 0:
            raise ValueError("reader_lanes must be 0 (one per reader thread) or positive")
        if s.build_engine not in BUILD_ENGINES:
            raise ValueError(f"build_engine must be one of {', '.join(BUILD_ENGINES)}, not {s.build_engine!r}")
        if s.index_type not in {"flat", "hnsw", "ivf"}:
            raise ValueError(f"index_type must be flat, hnsw or ivf, not {s.index_type!r}")
        if s.abstain_threshold is not None and not 0.0 <= s.abstain_threshold <= 1.0:
            raise ValueError("abstain_threshold must be between 0 and 1")
        if isinstance(s.workers, bool) or not isinstance(s.workers, int) or s.workers < 1:
            raise ValueError(f"workers must be a positive integer (server processes), not {s.workers!r}")
        if s.reload_interval_s < 0:
            raise ValueError("reload_interval_s must be 0 (off) or positive")
        if s.api_token is not None and len(s.api_token) < 16:
            raise ValueError("api_token must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        if s.max_header_bytes < 8192:
            raise ValueError("max_header_bytes must be at least 8192 (the HTTP server's smallest buffer)")
        if not 0 < s.header_timeout_s <= 60:
            raise ValueError("header_timeout_s must be more than 0 and at most 60")
        if s.body_timeout_s <= 0:
            raise ValueError("body_timeout_s must be positive")
        for name in ("top_k", "max_question_chars", "max_body_bytes", "chunk_tokens", "max_top_k", "max_upload_bytes"):
            if getattr(s, name) < 1:
                raise ValueError(f"{name} must be positive")
        return s


def _parse(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"QA_{name.upper()} must be true or false, not {raw!r}")
    if name == "abstain_threshold":
        default = 0.0  # a number when given; unset means the reader's own
    if name == "reader_passages":
        default = 0  # an integer when given; unset means the corpus style's
    if name in OPTIONAL_PATHS:
        default = Path()  # a folder when given
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise ValueError(f"QA_{name.upper()} must be {kind}, not {raw!r}") from exc
    if isinstance(default, Path):
        return Path(raw).expanduser()
    return raw
