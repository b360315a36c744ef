"""BERT encoders as ONNX Runtime graphs: exported once, cached by the weights' hash, published atomically.

The question embedding runs as a fused fp32 graph (`export_fused`: after torch's export, ONNX Runtime's own
transformer optimiser fuses each layer into its Attention, SkipLayerNormalization and BiasGelu kernels), so its
vectors are the index's (within 2e-7 of torch's here). The trained reader uses the cache and session helpers
for its int8 export (qa/reader_export.py). Measured on 2 cores (BENCHMARKS.md, "The question embedding in ONNX
Runtime; a fused reader tried"): a question embedding 4.0-4.3 ms in process against 8.6-9.0 traced
in torch. The reader is not fused: its int8 rounding then moved answers, for no served gain.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class ExportError(RuntimeError):
    """The export could not be made or published; the caller says what to do instead."""


def export_fused(model: Any, out: Path, outputs: Iterable[str]) -> None:
    """`model(input_ids, attention_mask, token_type_ids)` (a torch BERT in eval mode returning `outputs`) ->
    a fused fp32 ONNX graph at `out` (where a pattern is not recognised, that part stays unfused: slower, as
    exact)."""
    import torch
    from onnxruntime.transformers import optimizer

    outputs = list(outputs)
    bert = getattr(model, "bert", model)  # where a QA head or a wrapper keeps the encoder
    owner = model if hasattr(model, "set_attn_implementation") else bert
    config = bert.config
    before = getattr(config, "_attn_implementation", None)
    # The optimiser recognises the eager attention pattern, not torch's fused SDPA call.
    if hasattr(owner, "set_attn_implementation"):
        owner.set_attn_implementation("eager")
    # Traced with padding, as index/tracing.py: the masked path must stay in the graph.
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    types = torch.zeros_like(ids)
    types[:, 6:] = 1
    plain = out.with_name(out.stem + ".plain.onnx")
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about shape checks the graph keeps general
            torch.onnx.export(
                model, (ids, mask, types), str(plain), input_names=list(INPUTS), output_names=outputs,
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in (*INPUTS, *outputs)},
                opset_version=17, dynamo=False,
            )  # fmt: skip
        graph = optimizer.optimize_model(
            str(plain), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size,
            opt_level=1,  # only ONNX Runtime's portable fusions: the file runs on any CPU
        )  # fmt: skip
        graph.save_model_to_file(str(out))
    finally:
        if before is not None and hasattr(owner, "set_attn_implementation"):
            owner.set_attn_implementation(before)
        plain.unlink(missing_ok=True)


def weights_digest(files: Iterable[Path], recipe: str) -> str:
    """sha256 of the recipe and the files' bytes (a changed model or recipe never reads a stale export).
    Raises OSError for a file that cannot be read."""
    digest = hashlib.sha256(recipe.encode())
    for path in files:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def cached_export(cache_dir: Path, key: str, make: Callable[[Path], object], what: str) -> Path:
    """`cache_dir/key/model.onnx`: from the cache, else `make(path)` writes it in a private folder that is then
    renamed into place, so concurrent starts never read half a file. Raises ExportError."""
    final = cache_dir / key
    if (final / "model.onnx").is_file():
        return final / "model.onnx"
    print(f"exporting {what} to ONNX once (seconds; cached in {final})", file=sys.stderr)
    tmp: Path | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache_dir))
        make(tmp / "model.onnx")
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "model.onnx").is_file():  # not another process's export published first
                raise
    except Exception as exc:  # the export's own failures too (torch.onnx, the optimiser, quantisation)
        raise ExportError(f"cannot export {what} to {cache_dir} ({type(exc).__name__}: {exc})") from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return final / "model.onnx"


def cpu_session(path: Path, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session whose idle threads sleep: spinning ones took the cores the other model needed
    next (measured: a question embedding 12.4 against 8.6 ms after a reader call)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
