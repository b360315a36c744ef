"""The trained reader: a transformer fine-tuned for extractive QA reads question + passage windows of the
retrieved chunks, one model call a window, and scores every span by its start and end logits against the
window's "no answer" ([CLS]) score. A logistic calibration (fitted by `qa reader calibrate` on questions
the model was not trained on) turns those scores and the retrieval score into the answer's confidence.

The weights are one file in the model folder, beside `config.json`, the tokenizer files and
`calibration.json`: `model.safetensors` (fp16), read in int8 with ONNX Runtime from an export made once and
cached (QA_READER_RUNTIME=onnx, qa/reader_export.py) or with torch (QA_READER_RUNTIME=torch); or `model.onnx`
(an int8 export, `qa reader export`), read with ONNX Runtime.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from index.store import IndexData
from index.tracing import trace_encoder
from qa.precision import resolve_precision
from qa.reader_lanes import WindowLanes
from qa.reader_passages import reader_passage
from qa.reading import Question, ReadSpan, sentences_covering
from qa.retrieval import Hit, Retriever
from qa.settings import CORPUS_STYLES, model_threads
from qa.span_decoding import decode_window, passage_offsets

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = ROOT / "models" / "reader"
MAX_LENGTH = 320  # word pieces per window: a 160-token chunk and its question fit in one
STRIDE = 128  # overlap of a long passage's windows
MAX_QUERY_TOKENS = 64
SPANS_PER_WINDOW = 3  # alternatives kept per window (candidates, corroboration)
FEATURES = ("margin", "score", "retrieval", "rank")  # what the calibration weighs (calibration.json)
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")
_MODEL_INPUTS = ("input_ids", "token_type_ids", "attention_mask")


Logits: TypeAlias = tuple[np.ndarray, np.ndarray]  # a window's start and end logits
Window: TypeAlias = list[list[int]]  # a window's input ids, token types and attention mask
RunFn: TypeAlias = Callable[[np.ndarray, np.ndarray, np.ndarray], Logits]  # ids, token types, mask -> logits


class ReaderLoadError(RuntimeError):
    """The reader's model folder is missing, incomplete or damaged; the message says which and how to fix."""


@dataclass(frozen=True)
class PassageSpan:
    passage: int  # index into the passages read
    start: int  # characters of that passage
    end: int
    score: float  # start + end logit
    null_score: float  # the window's "no answer" score

    @property
    def margin(self) -> float:
        return self.score - self.null_score


@dataclass(frozen=True)
class Calibration:
    """P(answer is right) = sigmoid(intercept + coef · features), and the threshold below which to abstain for
    each corpus style (QA_CORPUS_STYLE): the best F1 on held-out data of that style, never on the reported
    evaluation sets (`qa reader calibrate`). One threshold serves every style in files calibrated before
    styles existed."""

    coef: tuple[float, ...]
    intercept: float
    thresholds: Mapping[str, float]  # corpus style -> threshold
    fitted_on: str = ""

    @classmethod
    def default(cls) -> Calibration:
        # Before calibration: the margin alone, 0.5 where the best span and "no answer" tie.
        return cls(coef=(1.0, 0.0, 0.0, 0.0), intercept=0.0, thresholds=dict.fromkeys(CORPUS_STYLES, 0.5),
                   fitted_on="uncalibrated")  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if list(raw["features"]) != list(FEATURES) or len(raw["coef"]) != len(FEATURES):
                raise ValueError(f"features must be {list(FEATURES)}")
            given = raw["thresholds"] if "thresholds" in raw else dict.fromkeys(CORPUS_STYLES, raw["threshold"])
            thresholds = {style: float(given[style]) for style in CORPUS_STYLES}
            if not all(0.0 <= t <= 1.0 for t in thresholds.values()):
                raise ValueError("thresholds must be between 0 and 1")
            return cls(tuple(float(c) for c in raw["coef"]), float(raw["intercept"]), thresholds,
                       str(raw.get("fitted_on", "")))  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ReaderLoadError(
                f"reader calibration {path} is unreadable ({exc}); run `qa reader calibrate`"
            ) from exc

    def confidence(self, features: Sequence[float]) -> float:
        z = self.intercept + sum(c * f for c, f in zip(self.coef, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "coef": list(self.coef), "intercept": self.intercept,
                "thresholds": dict(self.thresholds), "fitted_on": self.fitted_on}  # fmt: skip


def span_features(span: PassageSpan, hit: Hit) -> tuple[float, float, float, float]:
    return (span.margin, span.score, hit.score, float(hit.rank))


class SpanModel:
    """Tokenizer + weights; `read(question, passages)` -> spans. Loaded once, shared by every question."""

    def __init__(self, model_dir: Path, threads: int | None = None, precision: str = "auto",
                 runtime: str = "torch", lanes: int = 0) -> None:  # fmt: skip
        """`runtime`: "onnx" reads with ONNX Runtime in int8: the folder's model.onnx, else an int8 export of
        its model.safetensors made once and cached (qa/reader_export.py); "torch" reads model.safetensors in
        `precision`. A folder holding model.onnx (`qa reader export`) is read with ONNX Runtime either way.
        `lanes` (ONNX Runtime only): how many windows (concurrent questions', or one question's passages) are
        read side by side, each on one thread of one shared single-threaded session (0: one per thread; 1: none,
        every window on the `threads` session, one at a time)."""
        self.model_dir = model_dir
        self.threads = threads  # ONNX Runtime's or torch's threads for its calls (None: the library's default)
        if not model_dir.is_dir():
            raise ReaderLoadError(
                f"reader model folder not found: {model_dir} (set QA_READER_MODEL, or QA_READER=rules for the "
                "rule-based reader)"
            )
        if not (model_dir / "config.json").is_file() or not any((model_dir / f).is_file() for f in _TOKENIZER_FILES):
            raise ReaderLoadError(f"reader model folder {model_dir} lacks config.json or its tokenizer files")
        onnx, st = model_dir / "model.onnx", model_dir / "model.safetensors"
        if not onnx.is_file() and not st.is_file():
            raise ReaderLoadError(f"reader weights missing: neither {onnx.name} nor {st.name} in {model_dir}")
        from transformers import AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        except Exception as exc:
            raise ReaderLoadError(f"reader tokenizer in {model_dir} cannot be loaded: {exc}") from exc
        self.runtime = "onnx" if onnx.is_file() or runtime == "onnx" else "torch"
        self.traced = False  # torch runs a TorchScript graph of the model (index/tracing.py)
        # What the model computes in: int8 with ONNX Runtime; torch follows QA_READER_PRECISION.
        self.precision = "int8" if self.runtime == "onnx" else resolve_precision(precision)
        if self.runtime == "torch":
            self._run = self._load_torch(threads)
        else:
            if not onnx.is_file():
                from qa.reader_export import cached_int8

                onnx = cached_int8(model_dir, lambda: load_reader_weights(model_dir))
            self._run = self._load_onnx(onnx, threads)
        # A lone window is read on every thread; several, side by side on single-threaded lanes: a small model's
        # call gains little from a second thread, two calls side by side more (about 1.3x, BENCHMARKS.md). The
        # lanes share one single-threaded session (ONNX Runtime runs concurrent calls of a session in parallel),
        # so they cost one more copy of the weights, not one each; its logits are the main session's bit for
        # bit. `threads` None (the library's default) counts as `model_threads()` here.
        n_lanes = (lanes or threads or model_threads()) if self.runtime == "onnx" else 1
        self._lane_run = self._load_onnx(onnx, 1) if n_lanes > 1 else None
        self._lanes: WindowLanes[Window, Logits] = WindowLanes(self._call, n_lanes)
        # The fast tokenizer sets its truncation on each call: callers' threads take turns (a fraction of a ms)
        self._tokenizing = threading.Lock()

    # -- weights ------------------------------------------------------------------------------------------
    def _load_onnx(self, path: Path, threads: int | None) -> RunFn:
        from index.onnx_export import cpu_session

        try:
            session = cpu_session(path, threads)
        except Exception as exc:
            raise ReaderLoadError(f"reader weights {path} are damaged or not an ONNX model: {exc}") from exc
        names = {i.name for i in session.get_inputs()}

        def run(ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            start, end = session.run(["start_logits", "end_logits"], {k: v for k, v in feed.items() if k in names})
            return start, end

        return run

    def _load_torch(self, threads: int | None) -> RunFn:
        import torch

        if threads:
            torch.set_num_threads(threads)
        model = load_reader_weights(self.model_dir)
        if self.precision == "bf16":
            model.to(torch.bfloat16)
        graph = trace_encoder(model)
        self.traced = graph is not None

        def run(ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            args = torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)
            with torch.inference_mode():
                out = graph(*args) if graph is not None else model(*args)
            return out["start_logits"].float().numpy(), out["end_logits"].float().numpy()

        return run

    # -- reading ------------------------------------------------------------------------------------------
    def read(self, question: str, passages: Sequence[str], since: float | None = None,
             seams: Sequence[Sequence[int]] = ()) -> list[PassageSpan]:  # fmt: skip
        """Best spans of every passage (several per passage), best first by score. `since`: when the question
        began reading (time.monotonic()), so that its later passages queue before questions that began after
        it (default: now). `seams[i]`: characters of passage i that no span may contain (qa/reader_passages.py)."""
        if not passages:  # nothing retrieved (a filter no document passes): the tokenizer fails on no pairs
            return []
        seams = seams or [() for _ in passages]
        pairs = [(question, p) for p in passages]
        per_pair = self._read_pairs(pairs, seams, time.monotonic() if since is None else since)
        spans = [
            PassageSpan(i, s.start, s.end, s.score, s.null_score) for i, found in enumerate(per_pair) for s in found
        ]
        spans.sort(key=lambda s: -s.score)
        return spans

    def _clip(self, question: str) -> str:
        ids = self.tokenizer(question, add_special_tokens=False)["input_ids"]
        return question if len(ids) <= MAX_QUERY_TOKENS else self.tokenizer.decode(ids[:MAX_QUERY_TOKENS])

    @property
    def lanes(self) -> int:
        return self._lanes.lanes

    @property
    def windows(self) -> int:
        """Model calls made: one per window."""
        return self._lanes.calls

    @property
    def lane_windows(self) -> list[int]:
        """Windows each lane has read on its single thread (none without lanes)."""
        return self._lanes.lane_calls

    def _call(self, window: Window, alone: bool) -> Logits:
        """One window's start and end logits: on the model's threads when it is read alone, else on a lane's."""
        run = self._run if alone or self._lane_run is None else self._lane_run
        ids, types, mask = (np.array([x], dtype=np.int64) for x in window)
        starts, ends = run(ids, types, mask)
        return starts[0], ends[0]

    def _read_pairs(self, pairs: list[tuple[str, str]], seams: Sequence[Sequence[int]],
                    since: float) -> list[list[PassageSpan]]:  # fmt: skip
        """Every window of every (question, passage) pair, each in a model call of its own.

        Not one padded call for all: int8 dynamic quantisation scales a layer's activations by their range
        over the whole call, so a window's logits would depend on the other windows in it (other people's
        questions, under load) and on the padding; alone, a question gets the same answer and confidence
        whoever else is asking. No padding is computed either: 11-20% more questions a second at 8 clients,
        and a lone question no slower (BENCHMARKS.md)."""
        with self._tokenizing:
            enc = self.tokenizer(
                [self._clip(q) for q, _ in pairs], [p for _, p in pairs], truncation="only_second",
                max_length=MAX_LENGTH, stride=STRIDE, return_overflowing_tokens=True, return_offsets_mapping=True,
            )  # fmt: skip
        logits = self._lanes.read([[enc[k][w] for k in _MODEL_INPUTS] for w in range(len(enc["input_ids"]))], since)
        found: list[dict[tuple[int, int], PassageSpan]] = [{} for _ in pairs]
        for w, pair in enumerate(enc["overflow_to_sample_mapping"]):
            offsets = passage_offsets(enc["offset_mapping"][w], enc.sequence_ids(w))
            for s in decode_window(*logits[w], offsets, seams=seams[pair])[:SPANS_PER_WINDOW]:
                key = (s.start, s.end)
                if key not in found[pair] or found[pair][key].score < s.score:
                    found[pair][key] = PassageSpan(int(pair), s.start, s.end, s.score, s.null_score)
        return [sorted(f.values(), key=lambda s: -s.score) for f in found]


class SpanReader:
    """The Reader over the index: reads the retrieved chunks, maps spans back to document offsets."""

    name = "trained"

    @property
    def runtime(self) -> str:
        return f"{self.model.runtime}-{self.model.precision}"

    def __init__(self, model_dir: Path | None, index: IndexData, threads: int | None = None,
                 model: SpanModel | None = None, passages: int = 2, precision: str = "auto",
                 confident: float = 1.0, runtime: str = "torch", lanes: int = 0) -> None:  # fmt: skip
        model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        self.model = model or SpanModel(model_dir, threads or model_threads(), precision, runtime, lanes)
        cal = model_dir / "calibration.json"
        self.calibration = Calibration.load(cal) if cal.is_file() else Calibration.default()
        self.index = index
        self.passages = passages  # the best-ranked retrieved passages it reads (cost grows with each)
        # Below this confidence in the first passage it reads the others too (1, the default here: always
        # all; the service passes QA_READER_CONFIDENT, 0.2 by default)
        self.confident = confident
        self._model_dir = model_dir

    def threshold_for(self, style: str) -> float:
        return self.calibration.thresholds[style]

    def with_index(self, index: IndexData, retriever: Retriever | None = None) -> SpanReader:
        return SpanReader(self._model_dir, index, model=self.model, passages=self.passages, confident=self.confident)

    def read(self, question: Question, hits: list[Hit], query_vector: np.ndarray,
             every_passage: bool = False) -> list[ReadSpan]:  # fmt: skip
        out: dict[tuple[str, int, int], ReadSpan] = {}
        for c in self.candidates(question.reader_text, hits, every_passage):
            conf = self.calibration.confidence(c.features)
            key = (c.doc_id, c.start, c.end)  # overlapping chunks find the same span twice
            if key in out and out[key].confidence >= conf:
                continue
            first, last = sentences_covering(self.index, c.chunk_id, c.start, c.end)
            out[key] = ReadSpan(c.doc_id, c.chunk_id, c.start, c.end, first, last, conf, conf)
        return sorted(out.values(), key=lambda s: -s.score)

    def candidates(self, reader_text: str, hits: list[Hit], every_passage: bool = False) -> list[Candidate]:
        """Every span the model proposes in the retrieved chunks, in document offsets, with the features the
        calibration weighs (used as they are by `qa reader calibrate`, which reads `every_passage`).

        With `confident` below 1, passages are read in two stages: first the best-ranked passage alone, or
        the best two when their articles' dates differ (the engine's recency preference weighs their answers
        against each other); the rest only when no span read so far reaches that confidence. A sure answer
        there almost never loses to one further down (QA_READER_CONFIDENT; BENCHMARKS.md), and each window
        read is most of a question's time."""
        hits = hits[: self.passages]
        since = time.monotonic()  # the rest of its passages queue before questions that begin after it
        if every_passage or self.confident >= 1.0 or len(hits) < 2:
            return self._read_hits(reader_text, hits, since)
        n = 2 if self._dates_differ(hits[:2]) else 1
        first = self._read_hits(reader_text, hits[:n], since)
        if n == len(hits) or any(self.calibration.confidence(c.features) >= self.confident for c in first):
            return first
        return first + self._read_hits(reader_text, hits[n:], since)

    def _dates_differ(self, hits: list[Hit]) -> bool:
        docs = self.index.documents
        return len({docs[self.index.chunks[h.chunk_id].doc_id].date for h in hits} - {None}) > 1

    def _read_hits(self, reader_text: str, hits: list[Hit], since: float) -> list[Candidate]:
        passages = [reader_passage(self.index, h.chunk_id) for h in hits]
        out = []
        for s in self.model.read(reader_text, [p.text for p in passages], since, [p.seams for p in passages]):
            where = passages[s.passage].locate(s.start, s.end)
            if where is None:  # across the byline and the chunk: not one stretch of the document
                continue
            chunk_id, start, end = where
            out.append(Candidate(passages[s.passage].doc_id, chunk_id, start, end, span_features(s, hits[s.passage])))
        return out


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    chunk_id: int
    start: int  # document offsets
    end: int
    features: tuple[float, ...]  # FEATURES, in order


def load_reader_weights(model_dir: Path) -> Any:
    """The folder's model.safetensors as a torch BertForQuestionAnswering in fp32, eval mode, checked: damaged
    weights, weights that do not fit config.json, or no trained span head are each a ReaderLoadError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForQuestionAnswering

    path = model_dir / "model.safetensors"
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ReaderLoadError(f"reader weights {path} are damaged or not safetensors: {exc}") from exc
    try:
        config = BertConfig.from_json_file(str(model_dir / "config.json"))
        model = BertForQuestionAnswering(config)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=False)
    except Exception as exc:
        raise ReaderLoadError(f"reader weights {path} do not fit its config.json: {exc}") from exc
    missing = {"qa_outputs.weight", "qa_outputs.bias"} - set(state)
    if missing:
        raise ReaderLoadError(f"reader weights {path} lack the span head ({sorted(missing)}): not a trained reader")
    return model.eval()
