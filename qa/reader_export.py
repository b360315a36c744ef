"""The trained reader in int8 for ONNX Runtime (dynamic quantisation, one scale per output channel).

Two uses of one recipe: `qa reader export` writes an int8 model folder to ship or compare; the service
(QA_READER_RUNTIME=onnx, the default) makes the same export of the shipped fp16 safetensors once and keeps it
in a cache keyed by the weights' hash (`var/reader-int8/`, index/onnx_export.py), so the repository holds one
weights file and a changed model is never read from a stale export. Measured on 2 CPU cores (BENCHMARKS.md,
"Speed"): the reader 26-28 ms a question against 37 in torch bf16, F1 within noise on every set. Per-channel
scales, because one scale per tensor cost F1 (0.533 against 0.566 given the paragraph, an earlier measurement).
Not fused by ONNX Runtime's transformer optimiser, as the embedding is: tried on 2026-12-06, its model calls
took 17 against 19.5 ms but a served question only 0.3-1.4 ms less, and its int8 rounding flipped answers
(BENCHMARKS.md, "The question embedding in ONNX Runtime; a fused reader tried").
On x86-64 CPUs without VNNI the weights take 7 bits instead of 8 (`reduce_range`): there ONNX Runtime's int8
kernels add pairs of products in 16 bits, which full-range weights can saturate, and its quantisation guide
advises it; measured in training/runs/int8-range-2026-12-07/. CPUs with VNNI keep the export measured before.
"""

from __future__ import annotations

import platform
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.onnx_export import ExportError, cached_export, weights_digest

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "var" / "reader-int8"
RECIPE = "dynamic-int8-per-channel-opset17"  # part of the cache key: a new recipe makes a new file
SHARED_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
                "calibration.json", "training.json", "README.md")  # fmt: skip


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags as Linux lists them; empty where they cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def int8_reduce_range(machine: str | None = None, flags: frozenset[str] | None = None) -> bool:
    """Whether this CPU's int8 weights should take 7 bits: x86-64 without VNNI (flags unknown count as without:
    7 bits are safe everywhere, 8 only with VNNI). Other architectures' int8 kernels do not saturate."""
    machine = (machine if machine is not None else platform.machine()).lower()
    if machine not in ("x86_64", "amd64"):
        return False
    flags = cpu_flags() if flags is None else flags
    return not flags & {"avx512_vnni", "avx_vnni"}


def export_model(model: Any, out: Path, reduce_range: bool | None = None) -> None:
    """A torch BertForQuestionAnswering (fp32, eval mode) -> an int8 ONNX file at `out` (its fp32 step beside it,
    then removed). `reduce_range` None: this CPU's choice (`int8_reduce_range`)."""
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
        reduce = int8_reduce_range() if reduce_range is None else reduce_range
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=reduce)
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
    2 cores) and published atomically."""
    from qa.span_reader import ReaderLoadError

    reduce = int8_reduce_range()
    try:
        key = weights_digest([model_dir / "model.safetensors", model_dir / "config.json"],
                             RECIPE + ("-reduce-range" if reduce else ""))  # fmt: skip
    except OSError as exc:
        raise ReaderLoadError(f"reader weights in {model_dir} cannot be read: {exc}") from exc
    cache_dir = CACHE_DIR  # read at call time: a test points it elsewhere
    if (cache_dir / key / "model.onnx").is_file():
        return cache_dir / key / "model.onnx"
    model = load_model()  # checks the weights first: damaged ones are the caller's clear error, not an export's
    try:
        return cached_export(cache_dir, key, lambda out: export_model(model, out, reduce),
                             f"the reader {model_dir} in int8")  # fmt: skip
    except ExportError as exc:
        raise ReaderLoadError(f"{exc}; free the space or the permission, or set QA_READER_RUNTIME=torch") from exc
