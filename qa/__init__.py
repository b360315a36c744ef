"""Question answering over the index: `qa.ask(question)` loads the model and index once, then answers."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.answer import Answer
    from qa.engine import Engine

_engine: Engine | None = None
_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine, built from the environment's settings on first use."""
    global _engine
    with _lock:
        if _engine is None:
            from qa.engine import Engine
            from qa.settings import Settings

            _engine = Engine.load(Settings.from_env())
        return _engine


def ask(
    question: str,
    history: list[dict[str, str]] | None = None,
    top_k: int | None = None,
    filters: dict[str, Any] | None = None,
    candidates: int = 1,
) -> Answer:
    """Answer `question` (optionally a follow-up to `history`) from the indexed articles."""
    return get_engine().ask(question, history=history, top_k=top_k, filters=filters, candidates=candidates)


__all__ = ["ask", "get_engine"]
