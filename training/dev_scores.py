"""Dev scores of any reader folder on a recipe's held-out articles, computed as `qa reader train` logs them
(paragraph given, fp32, best margin; per data file in dev_by_origin), so two models compare on one split.

    python training/dev_scores.py training/reader-news.toml models/reader
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.reader_training import (  # noqa: E402
    Example,
    TrainConfig,
    dev_scores,
    featurise,
    load_examples,
    predict,
    scores_by_origin,
    split_dev,
)


def dev_predictions(config: Path, model_dir: str) -> tuple[list[Example], list[tuple[str, float]]]:
    """The recipe's held-out questions and one reader's predictions on them (paragraph given, fp32)."""
    from transformers import AutoTokenizer, BertForQuestionAnswering

    cfg = TrainConfig.load(config)
    _, dev = split_dev(load_examples(cfg.data, cfg.seed, cfg.dev_articles), cfg.dev_articles)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = BertForQuestionAnswering.from_pretrained(model_dir).float()
    return dev, predict(model, featurise(tokenizer, dev, cfg), dev, tokenizer.pad_token_id, "cpu")


def main(config: Path, model_dir: str) -> None:
    dev, preds = dev_predictions(config, model_dir)
    print(json.dumps({**dev_scores(dev, preds), "dev_by_origin": scores_by_origin(dev, preds)}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2])
