"""Draws the writers' article lists (`lists/A.txt` ... `lists/H.txt`): 144 of the 295 non-dev written news
articles (every article of training/news/ and training/news2/ except each writer's first, a dev article), at
random with seed 20261208, 18 per writer. Usage: python draw_lists.py OUT_DIR (then compare with lists/)."""

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def main(out: Path) -> None:
    writers = [w for coll in ("news", "news2") for w in sorted((ROOT / "training" / coll).iterdir())
               if (w / "articles").is_dir()]  # fmt: skip
    pool = [f"{w.parent.name}/{w.name}/{a.stem}" for w in writers for a in sorted((w / "articles").glob("*.txt"))
            if not a.stem.startswith("01-")]  # fmt: skip
    picked = random.Random(20261208).sample(pool, 144)
    out.mkdir(parents=True, exist_ok=True)
    for i, letter in enumerate("ABCDEFGH"):
        (out / f"{letter}.txt").write_text("\n".join(picked[i * 18 : (i + 1) * 18]) + "\n", encoding="utf-8")
    print(f"{len(pool)} non-dev articles; 144 drawn into {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
