"""The reader's window scheduler (qa/reader_lanes.py): order, lanes and errors. The model's own calls through it
are tested with the real reader in tests/test_reader.py; here `run` records what it is given."""

from __future__ import annotations

import threading
import time

import pytest

from qa.reader_lanes import WindowLanes


def test_a_question_that_began_reading_first_is_read_first() -> None:
    """A question's later passages queue before questions that began after it, whatever the arrival order."""
    started, gate = threading.Event(), threading.Event()
    order: list[str] = []

    def run(window: str, alone: bool) -> str:
        if window == "busy":
            started.set()
            gate.wait(10)
        order.append(window)
        return window.upper()

    def wait_for(waiting: int) -> None:
        deadline = time.monotonic() + 10
        while lanes.waiting < waiting and time.monotonic() < deadline:
            time.sleep(0.005)

    lanes: WindowLanes[str, str] = WindowLanes(run, lanes=1)
    results: dict[str, list[str]] = {}
    busy = threading.Thread(target=lanes.read, args=(["busy"], 0.0))
    busy.start()
    assert started.wait(10)  # the one lane is reading; what comes next queues
    later = threading.Thread(target=lambda: results.update(later=lanes.read(["later"], since=2.0)))
    later.start()
    wait_for(1)
    earlier = threading.Thread(target=lambda: results.update(earlier=lanes.read(["e1", "e2"], since=1.0)))
    earlier.start()
    wait_for(3)
    gate.set()
    for t in (busy, later, earlier):
        t.join(10)
    assert order == ["busy", "e1", "e2", "later"]  # "later" arrived first but began reading after
    assert results == {"later": ["LATER"], "earlier": ["E1", "E2"]}  # each caller gets its own, in order
    assert lanes.calls == 4 and lanes.lane_calls == []  # one lane: every window on the model's own threads


def test_a_lone_window_takes_every_thread_and_several_go_to_the_lanes() -> None:
    seen: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def run(window: str, alone: bool) -> str:
        with lock:
            seen.append((window, alone))
        return window

    lanes: WindowLanes[str, str] = WindowLanes(run, lanes=2)
    assert lanes.read(["solo"], since=0.0) == ["solo"]
    assert lanes.read(["a", "b", "c"], since=1.0) == ["a", "b", "c"]
    assert dict(seen) == {"solo": True, "a": False, "b": False, "c": False}
    assert lanes.calls == 4 and sum(lanes.lane_calls) == 3


def test_a_failed_window_reaches_its_caller_and_the_lanes_read_on() -> None:
    def run(window: str, alone: bool) -> str:
        if window == "bad":
            raise RuntimeError("model call failed")
        return window

    lanes: WindowLanes[str, str] = WindowLanes(run, lanes=2)
    with pytest.raises(RuntimeError, match="model call failed"):
        lanes.read(["ok", "bad"], since=0.0)
    assert lanes.read(["x", "y"], since=1.0) == ["x", "y"]
