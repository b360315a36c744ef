"""Real server processes for the tests (and benchmarks/bench_http.py): start one with its own environment and
log file, wait for /health with a deadline (the log's tail in the failure), stop it (SIGTERM, then SIGKILL).

Importable as `servers` from the tests (pytest puts tests/ on sys.path) and from scripts that add tests/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The app under granian with its request limits, as deployed (the engine loads in the background).
SERVE = (sys.executable, "-m", "server.run")
QA = str(Path(sys.executable).parent / "qa")  # the `qa` command of this environment
T = TypeVar("T")


class ServerError(AssertionError):
    """A server that exited or did not get ready in time; an AssertionError so pytest reports a failed check."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], T], timeout: float = 120, what: str = "condition", every: float = 0.3) -> T:
    """The first truthy value of `predicate()`, polled until the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise ServerError(f"timed out after {timeout:.0f} s waiting for {what}")


class ServerProcess:
    def __init__(self, proc: subprocess.Popen, url: str, log_path: Path) -> None:
        self.proc, self.url, self.log_path = proc, url, log_path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def check_running(self) -> None:
        if self.proc.poll() is not None:
            raise ServerError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")

    def health(self, timeout: float = 5) -> httpx.Response | None:
        """/health on a fresh connection (so, with several workers, from whichever the kernel picks); None
        while the port is closed."""
        try:
            return httpx.get(f"{self.url}/health", headers={"Connection": "close"}, timeout=timeout)
        except httpx.TransportError:
            return None

    def wait_health(
        self,
        ready: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200,
        timeout: float = 240,
        on_waiting: Callable[[httpx.Response], None] | None = None,
    ) -> httpx.Response:
        """The first /health answer that is `ready` (by default a 200); `on_waiting` sees the others."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_running()
            r = self.health()
            if r is not None and ready(r):
                return r
            if r is not None and on_waiting is not None:
                on_waiting(r)
            if time.monotonic() > deadline:
                raise ServerError(f"server not ready after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def wait_workers(self, workers: int, timeout: float = 240) -> set[int]:
        """The pids of `workers` ready worker processes, from /health on fresh connections (the kernel hands
        each new connection to one worker) until that many different ones have answered 200."""
        deadline = time.monotonic() + timeout
        seen: set[int] = set()
        tries = 0
        while len(seen) < workers:
            self.check_running()
            r = self.health()
            tries += 1
            ready = r is not None and r.status_code == 200
            if ready:
                seen.add(r.json()["pid"])
            elif r is not None and r.json().get("status") == "error":  # it will not get better: say why now
                raise ServerError(f"a worker failed to load: {r.json().get('detail')}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"only {len(seen)} of {workers} workers ready (pids {sorted(seen)}) after "
                                  f"{timeout:.0f} s and {tries} fresh connections:\n{self.log_tail()}")  # fmt: skip
            if len(seen) < workers:
                time.sleep(0.02 if ready else 0.25)  # a ready worker: try again at once for another one
        return seen

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (a graceful stop, workers included), then SIGKILL to the server's whole process group, so
        that no worker outlives a supervisor that would not stop."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_server(env: Mapping[str, str], log_path: Path, cmd: Sequence[str] = SERVE,
                 port: int | None = None) -> ServerProcess:  # fmt: skip
    """`cmd` (by default `python -m server.run`) on 127.0.0.1:`port` (a free one by default), with no QA_*
    variable of this environment but `env`'s; stdout and stderr go to `log_path`."""
    port = port or free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    full_env.update(HF_HUB_OFFLINE="1", QA_HOST="127.0.0.1", QA_PORT=str(port))
    full_env.update(env)
    with log_path.open("w") as log:
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: see stop()  # fmt: skip
    return ServerProcess(proc, f"http://127.0.0.1:{port}", log_path)
