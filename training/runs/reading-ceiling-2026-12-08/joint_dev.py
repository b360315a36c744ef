"""Development data only: reading several retrieved passages in one window ("joint", one normalisation and one
"no answer" score for all of them, as multi-passage readers do) against the served cascade. The news recipe's
1,576 held-out dev questions (`qa reader calibrate`'s work folder, its own corpus and index, embedded with the
packaged model as the calibration does) and the four news development gold sets (the served index).

Modes: served (the shipped cascade); joint-all (the passages read, always in one window); stage2-rest (the first
stage as served, then the rest in one window); stage2-all (the first stage as served, then every passage again in
one window, both stages' spans competing). F1 at the news threshold, reader windows a question.

    HF_HUB_OFFLINE=1 .venv/bin/python training/runs/reading-ceiling-2026-12-08/joint_dev.py \\
        var/reader-calibrate-careful served,joint-all,stage2-rest,stage2-all [dev|gold]
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from index.embedding import Embedder, packaged_model_path  # noqa: E402
from index.store import IndexData  # noqa: E402
from qa import span_reader as sr  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.gold import read_gold  # noqa: E402
from qa.metrics import best_f1  # noqa: E402
from qa.reader_passages import SEPARATOR, Piece, ReaderPassage, reader_passage  # noqa: E402
from qa.retrieval import Hit  # noqa: E402
from qa.settings import Settings  # noqa: E402


def joint_passage(index: IndexData, hits: list[Hit]) -> tuple[ReaderPassage, list[int]]:
    """The hits' reader passages joined by a paragraph break; which hit each piece came from."""
    parts, pieces, owner, at = [], [], [], 0
    for hi, h in enumerate(hits):
        p = reader_passage(index, h.chunk_id)
        for pc in p.pieces:
            pieces.append(Piece(at + pc.at, pc.start, pc.end, pc.chunk_id))
            owner.append(hi)
        parts.append(p.text)
        at += len(p.text) + len(SEPARATOR)
    return ReaderPassage(index.chunks[hits[0].chunk_id].doc_id, SEPARATOR.join(parts), tuple(pieces)), owner


def read_joint(self: sr.SpanReader, reader_text: str, hits: list[Hit], since: float) -> list[sr.Candidate]:
    jp, owner = joint_passage(self.index, hits)
    out = []
    for s in self.model.read(reader_text, [jp.text], since, [jp.seams]):
        for k, pc in enumerate(jp.pieces):
            if pc.at <= s.start and s.end <= pc.at + (pc.end - pc.start):
                start, end = pc.start + s.start - pc.at, pc.start + s.end - pc.at
                doc_id = self.index.chunks[pc.chunk_id].doc_id
                out.append(sr.Candidate(doc_id, pc.chunk_id, start, end, sr.span_features(s, hits[owner[k]])))
                break
    return out


MODE = {"m": "served"}
served_candidates = sr.SpanReader.candidates


def candidates(self: sr.SpanReader, reader_text: str, hits: list[Hit], every_passage: bool = False) -> list:
    mode = MODE["m"]
    if mode == "served":
        return served_candidates(self, reader_text, hits, every_passage)
    hits, since = hits[: self.passages], time.monotonic()
    if len(hits) < 2:
        return self._read_hits(reader_text, hits, since)
    if mode == "joint-all":
        return read_joint(self, reader_text, hits, since)
    n = 2 if self._dates_differ(hits[:2]) else 1
    first = self._read_hits(reader_text, hits[:n], since)
    if n == len(hits) or any(self.calibration.confidence(c.features) >= self.confident for c in first):
        return first
    if mode == "stage2-rest":
        return first + read_joint(self, reader_text, hits[n:], since)
    if mode == "stage2-all":
        return first + read_joint(self, reader_text, hits, since)
    raise ValueError(mode)


sr.SpanReader.candidates = candidates


def main() -> None:
    work, modes = Path(sys.argv[1]), sys.argv[2].split(",")
    which = sys.argv[3] if len(sys.argv) > 3 else "dev"
    if which == "dev":
        sets = [("dev", work / "index", work / "corpus", work / "dev-squad.json")]
        embedder, build = Embedder(packaged_model_path()), False
    else:
        sets = [(n, ROOT / "var/index", ROOT / "corpus", ROOT / f"gold/{n}.jsonl")
                for n in ("seed", "heldout", "blind18", "blind19")]  # fmt: skip
        embedder, build = Embedder(), True
    for name, index_dir, corpus_dir, gold in sets:
        settings = Settings.from_env(index_dir=index_dir, corpus_dir=corpus_dir, reader="trained", corpus_style="news")
        engine = Engine.load(settings, embedder, build=build)
        questions = read_gold(gold).questions
        cells = []
        for mode in modes:
            MODE["m"] = mode
            model, threshold = engine.reader.model, engine.threshold
            windows, scores = model.windows, []
            for q in questions:
                a = engine.ask(q.question, threshold=0.0)
                right = best_f1(q.answers, a.answer or "") if q.answers else 0.0
                scores.append((right if q.answers else 0.0) if a.confidence >= threshold else float(not q.answers))
            per_question = (model.windows - windows) / len(questions)
            cells.append(f"{mode} {sum(scores) / len(scores):.4f} ({per_question:.2f} windows)")
        print(f"| {name} | {len(questions)} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
