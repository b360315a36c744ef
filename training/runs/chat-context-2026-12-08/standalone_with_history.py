"""In a chat every turn comes with the earlier ones. Does an unrelated earlier exchange hurt a question that
stands on its own? Each standalone gold question (every kind but follow-up) is asked twice with the shipped
system: alone, and after the set's previous question and its gold answer as one earlier exchange (what the chat
page and the OpenAI endpoint send). F1 at the served threshold, and how often the question was taken for a
follow-up (its search text changed). Gold follow-ups are asked with their own history, as `qa eval` does.
Usage: HF_HUB_OFFLINE=1 .venv/bin/python training/runs/chat-context-2026-12-08/standalone_with_history.py SET ..."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from qa.conversation import parse_history  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.gold import read_gold  # noqa: E402
from qa.metrics import best_f1  # noqa: E402
from qa.reading import analyse_question  # noqa: E402
from qa.settings import Settings  # noqa: E402


def score(engine: Engine, question: str, answers: list[str], history: list[dict[str, str]]) -> float:
    a = engine.ask(question, history=history)
    if not answers:
        return float(a.abstained)
    return 0.0 if a.abstained else best_f1(answers, a.answer or "")


def main(sets: list[str]) -> None:
    engine = Engine.load(Settings.from_env(corpus_style="news"))
    alone, after, changed, n, follow, follow_n = 0.0, 0.0, 0, 0, 0.0, 0
    for name in sets:
        questions = read_gold(ROOT / "gold" / f"{name}.jsonl").questions
        previous = None
        for q in questions:
            if q.history:
                follow += score(engine, q.question, q.answers, q.history_dicts())
                follow_n += 1
                continue
            if previous is not None:
                history = [{"role": "user", "content": previous.question},
                           {"role": "assistant", "content": previous.answers[0] if previous.answers else
                            "The articles don't say."}]  # fmt: skip
                alone += score(engine, q.question, q.answers, [])
                after += score(engine, q.question, q.answers, history)
                resolved = analyse_question(q.question, parse_history(history, len(history)))
                changed += resolved.search_text != q.question
                n += 1
            previous = q
    print(f"{len(sets)} sets: {n} standalone questions: F1 alone {alone / n:.4f}, after an unrelated exchange "
          f"{after / n:.4f}; taken for a follow-up {changed} ({changed / n:.1%}); gold follow-ups ({follow_n}) "
          f"{follow / follow_n:.4f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
