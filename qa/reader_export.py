"""The trained reader in int8 for ONNX Runtime (dynamic quantisation, one scale per output channel).

Two uses of one recipe: `qa reader export` writes an int8 model folder to ship or compare; the service
(QA_READER_RUNTIME=onnx, the default) makes the same export of the shipped fp16 safetensors once and keeps it
in a cache keyed by the weights' hash (`var/reader-int8/`), so the repository holds one weights file and a
changed model is never read from a stale export. Measured on 2 CPU cores (BENCHMARKS.md, "Speed"): the
reader 26-28 ms a question against 37 in torch bf16, F1 within noise on every set. Per-channel scales, because
one scale per tensor cost F1 (0.533 against 0.566 given the paragraph, an earlier measurement).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "var" / "reader-int8"
RECIPE = "dynamic-int8-per-channel-opset17"  # part of the cache key: a new recipe makes a new file
SHARED_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
                "calibration.json", "training.json", "README.md")  # fmt: skip


def export_model(model: Any, out: Path) -> None:
    """A torch BertForQuestionAnswering (fp32, eval mode) -> an int8 ONNX file at `out` (its fp32 step beside it,
    then removed)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = out.with_name(out.stem + ".fp32.onnx")
    try:
        ids = torch.ones((2, 16), dtype=torch.long)
        torch.onnx.export(
            model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["start_logits", "end_logits"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits")},
            opset_version=17, dynamo=False,
        )  # fmt: skip
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        fp32.unlink(missing_ok=True)


def export_onnx(src: Path, dst: Path) -> Path:
    """`qa reader export`: a model folder with model.onnx (int8) and the source's other files."""
    from qa.span_reader import load_reader_weights

    model = load_reader_weights(src)
    dst.mkdir(parents=True, exist_ok=True)
    export_model(model, dst / "model.onnx")
    for name in SHARED_FILES:
        if (src / name).is_file() and src.resolve() != dst.resolve():
            shutil.copy2(src / name, dst / name)
    return dst / "model.onnx"


def cached_int8(model_dir: Path, load_model: Callable[[], Any]) -> Path:
    """The int8 ONNX file of the folder's model.safetensors: from the cache, else exported once (7.4 s on
    2 cores) and published atomically, so concurrent starts never read half a file."""
    from qa.span_reader import ReaderLoadError

    cache_dir = CACHE_DIR  # read at call time: a test points it elsewhere
    try:
        digest = hashlib.sha256(RECIPE.encode())
        for name in ("model.safetensors", "config.json"):
            with open(model_dir / name, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    except OSError as exc:
        raise ReaderLoadError(f"reader weights in {model_dir} cannot be read: {exc}") from exc
    final = cache_dir / digest.hexdigest()[:16]
    if (final / "model.onnx").is_file():
        return final / "model.onnx"
    model = load_model()  # checks the weights first: damaged ones are the caller's clear error, not an export's
    print(f"reader: exporting {model_dir} to int8 ONNX once (seconds; cached in {final})", file=sys.stderr)
    tmp: Path | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=cache_dir))
        export_model(model, tmp / "model.onnx")
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "model.onnx").is_file():  # not another process's export published first
                raise
    except Exception as exc:  # the export's own failures too (torch.onnx, quantisation), each one clear line
        raise ReaderLoadError(
            f"cannot make the int8 reader in {cache_dir} ({type(exc).__name__}: {exc}); free the space or the "
            "permission, or set QA_READER_RUNTIME=torch"
        ) from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return final / "model.onnx"
