"""The trained reader's windows, read on lanes that never wait for each other, oldest question first.

Each window is one model call of its own (qa/span_reader.py says why), so gathering concurrent questions'
windows into batches bought nothing but a barrier: a window that arrived during a batch waited for all of it,
the lanes idled while one thread tokenised and decoded between batches, and a question whose second passage
the cascade asked for queued behind the questions that arrived after it. Here every lane takes the next window
as soon as it is free, from one queue ordered by when each question began reading (then arrival), and the
callers tokenise and decode in their own threads. Answers do not change: every window is the same call on a
session whose logits are the same bit for bit.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

W = TypeVar("W")  # a window (the model's inputs)
L = TypeVar("L")  # its logits


class WindowLanes(Generic[W, L]):
    """`read(windows, since)` from many threads; `run(window, alone)` makes one model call. `alone` is true when
    the window is its question's only one and nothing else is waiting or being read: it may take every thread
    (a lone question is read as fast as one call can go); otherwise it runs on its lane's single thread."""

    def __init__(self, run: Callable[[W, bool], L], lanes: int, name: str = "reader-lane") -> None:
        self._run = run
        self.lanes = max(1, lanes)
        self.name = name
        self._ready = threading.Condition()
        self._queue: list[tuple[float, int, W, bool, Future[L]]] = []  # a heap: (since, arrival, ...)
        self._arrival = itertools.count()
        self._busy = 0  # lanes reading a window now
        self._workers: list[threading.Thread] = []
        self.calls = 0  # model calls made (one per window)
        self.lane_calls = [0] * self.lanes if self.lanes > 1 else []  # windows each lane read on its one thread

    @property
    def waiting(self) -> int:
        """Windows queued, not yet taken by a lane."""
        with self._ready:
            return len(self._queue)

    def read(self, windows: Sequence[W], since: float) -> list[L]:
        """Logits of each window, in order; `since` (time.monotonic() when the question began reading) orders
        the queue, so a question's later passages go before questions that began after it."""
        if not windows:
            return []
        futures: list[Future[L]] = [Future() for _ in windows]
        alone = len(windows) == 1
        with self._ready:
            if not self._workers:
                for lane in range(self.lanes):
                    worker = threading.Thread(target=self._loop, args=(lane,), name=f"{self.name}-{lane}", daemon=True)
                    worker.start()
                    self._workers.append(worker)
            for window, future in zip(windows, futures, strict=True):
                heapq.heappush(self._queue, (since, next(self._arrival), window, alone, future))
            self._ready.notify(len(windows))
        return [future.result() for future in futures]  # the first failed window's error reaches the caller

    def _loop(self, lane: int) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                _, _, window, alone, future = heapq.heappop(self._queue)
                solo = self.lanes == 1 or (alone and not self._queue and self._busy == 0)
                self._busy += 1
            error: BaseException | None = None
            try:
                result = self._run(window, solo)
            except BaseException as exc:  # the caller must wake, with the error; the lane reads on
                error = exc
            # counted before the caller wakes, so what it reads of the counts includes its own windows
            with self._ready:
                self._busy -= 1
                self.calls += 1
                if not solo:
                    self.lane_calls[lane] += 1
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
