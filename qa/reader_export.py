"""`qa reader export`: the trained reader's safetensors weights -> one int8 ONNX file (dynamic quantisation).

ONNX Runtime with int8 weights reads faster on CPUs than torch in fp32 for the same answers (BENCHMARKS.md
has the side-by-side); the export writes a new model folder, so the fp16 original stays to compare with.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

SHARED_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
                "calibration.json", "training.json", "README.md")  # fmt: skip


def export_onnx(src: Path, dst: Path) -> Path:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForQuestionAnswering

    config = BertConfig.from_json_file(str(src / "config.json"))
    model = BertForQuestionAnswering(config)
    state = load_file(str(src / "model.safetensors"))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=False)
    model.eval()
    dst.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        ids = torch.ones((2, 16), dtype=torch.long)
        torch.onnx.export(
            model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["start_logits", "end_logits"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits")},
            opset_version=17, dynamo=False,
        )  # fmt: skip
        out = Path(tmp) / "model.onnx"
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
        shutil.move(str(out), dst / "model.onnx")
    for name in SHARED_FILES:
        if (src / name).is_file() and src.resolve() != dst.resolve():
            shutil.copy2(src / name, dst / name)
    return dst / "model.onnx"
