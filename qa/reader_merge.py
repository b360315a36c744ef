"""`qa reader merge`: one reader whose weights are a weighted average of two readers' weights.

Why: a reader fine-tuned further on new text (the news-style second stage) gains there and forgets some of
what it knew; averaging its weights with those it started from (WiSE-FT: Wortsman et al., "Robust fine-tuning
of zero-shot models", CVPR 2022) keeps much of the gain and loses less, at no cost when answering (the result
is one model of the same size). Both readers must share one architecture and tokenizer, as a model and its
own fine-tune do. The merged folder has no calibration: `qa reader calibrate` it before serving.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qa.reader_training import replace_dir, sha256_of

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
# config.json keys that record provenance or library versions, not the computation
_PROVENANCE_KEYS = {"_name_or_path", "transformers_version", "architectures", "torch_dtype", "dtype"}


def interpolate(first: Mapping[str, Any], second: Mapping[str, Any], weight: float) -> dict[str, Any]:
    """(1 - weight) * first + weight * second, tensor by tensor, in fp32, stored as fp16 (the shipped format).

    Integer tensors (position ids) must be equal and are kept. Raises ValueError when the two do not have
    the same tensors of the same shapes, or when weight is outside [0, 1].
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"merge weight must be between 0 and 1, not {weight}")
    if set(first) != set(second):
        only = sorted(set(first) ^ set(second))
        raise ValueError(f"the two readers have different tensors (e.g. {only[:3]}): not one architecture")
    merged: dict[str, Any] = {}
    for name, a in first.items():
        b = second[name]
        if a.dtype != b.dtype:
            raise ValueError(f"tensor {name} is {a.dtype} in one reader, {b.dtype} in the other")
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"tensor {name} has shape {tuple(a.shape)} in one reader, {tuple(b.shape)} in the other")
        if not a.is_floating_point():
            if not bool((a == b).all()):
                raise ValueError(f"integer tensor {name} differs between the two readers")
            merged[name] = a.clone()
            continue
        mixed = a.float() * (1.0 - weight) + b.float() * weight
        merged[name] = mixed.half().contiguous()
    return merged


def merge_readers(first: Path, second: Path, weight: float, out: Path) -> Path:
    """Write OUT (model.safetensors, config, tokenizer, training.json with both sources); return OUT.

    Every check runs before anything is written, and OUT appears whole or not at all (written beside it,
    then swapped in); a failed write leaves no temporary folder behind.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file, save_file

    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"merge weight must be between 0 and 1, not {weight}")
    if not out.name:
        raise ValueError(f"--to {out}: give a folder name to write the merged reader to")
    configs = []
    for folder in (first, second):
        st, cfg = folder / "model.safetensors", folder / "config.json"
        if not st.is_file() or not cfg.is_file():
            raise FileNotFoundError(f"reader not found: {folder} needs model.safetensors and config.json")
        configs.append(_architecture(cfg))
    if configs[0] != configs[1]:
        diff = sorted(k for k in configs[0].keys() | configs[1].keys() if configs[0].get(k) != configs[1].get(k))
        raise ValueError(f"the two readers' config.json differ ({', '.join(diff[:5])}): not one architecture")
    vocab_a, vocab_b = first / "vocab.txt", second / "vocab.txt"
    if vocab_a.is_file() and vocab_b.is_file() and vocab_a.read_bytes() != vocab_b.read_bytes():
        raise ValueError(f"the two readers have different vocabularies ({vocab_a}, {vocab_b}): not one tokenizer")
    states = []
    for folder in (first, second):
        try:
            states.append(load_file(str(folder / "model.safetensors")))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ValueError(
                f"reader weights {folder / 'model.safetensors'} are damaged or not safetensors: {exc}"
            ) from exc
    merged = interpolate(states[0], states[1], weight)
    record = {
        "merge": {
            "method": "weight interpolation (WiSE-FT): (1 - weight) * first + weight * second",
            "weight": weight,
            "first": _source(first),
            "second": _source(second),
        }
    }

    tmp = out.with_name(out.name + ".tmp")
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        save_file(merged, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        for name in ("config.json", *TOKENIZER_FILES):
            if (second / name).is_file():
                shutil.copy2(second / name, tmp / name)
        (tmp / "training.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        replace_dir(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ValueError(f"cannot write the merged reader to {out}: {exc}") from exc
    return out


def _architecture(config: Path) -> dict[str, Any]:
    """A config.json without the keys that name where a model came from rather than what it computes."""
    try:
        raw = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{config} is not readable JSON: {exc}") from exc
    return {k: v for k, v in raw.items() if k not in _PROVENANCE_KEYS}


def _source(folder: Path) -> dict[str, Any]:
    """Where a merged reader's weights came from: the folder, its weights' hash and its own training record."""
    record: dict[str, Any] = {"folder": str(folder), "weights_sha256": sha256_of(folder / "model.safetensors")}
    training = folder / "training.json"
    if training.is_file():
        try:
            record["training"] = json.loads(training.read_text(encoding="utf-8"))
        except ValueError:
            record["training"] = "unreadable training.json"
    return record
