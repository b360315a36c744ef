"""Which arithmetic torch runs the trained reader in on this CPU (QA_READER_PRECISION).

Its own module, free of the serving stack (index, retrieval), so that training (qa/reader_training.py) imports
only torch, transformers and numpy and runs on a bare accelerator machine.
"""

from __future__ import annotations


def resolve_precision(precision: str) -> str:
    """`auto` -> bf16 where the CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16), fp32 elsewhere.

    Measured here (2 cores with AMX): the reader 36 ms a question against 54 in fp32, three times the HTTP
    throughput, the same scores (BENCHMARKS.md); without such hardware bf16 is emulated, slower than fp32."""
    if precision != "auto":
        return precision
    import torch

    native = (getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"))
    return "bf16" if any(check is not None and check() for check in native) else "fp32"
