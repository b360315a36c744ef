"""Which index builds are in use, so that an old build is removed only when nothing uses it.

A process serving a build holds a shared `flock` on the build's lease file for as long as any of its
requests may use that build; pruning takes an exclusive non-blocking lock and skips builds it cannot get.
flock (not a pid file) because the kernel drops the lock when a process dies, so a crashed server never
leaves a build pinned forever, and it works across processes and replicas sharing one folder.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger("index")
LEASE_FILE = ".lease"


class BuildLease:
    """A shared hold on one build folder; `release()` (or process exit) lets pruning remove it."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self._fd: int | None = None
        path = build_dir / LEASE_FILE
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            # A read-only index folder: nothing can prune it either, so no lease is needed.
            return
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def in_use(build_dir: Path) -> bool:
    """True when some process (this one included) holds a lease on `build_dir`."""
    try:
        fd = os.open(build_dir / LEASE_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def prune_builds(builds_dir: Path, live: Path) -> list[str]:
    """Remove every finished build but `live` that no process uses; the caller holds the index's build lock
    (so no build is between its rename and its publication). Returns the names removed."""
    removed = []
    for old in builds_dir.iterdir():
        if old == live or old.name.startswith(".") or not old.is_dir():
            continue
        if in_use(old):
            log.info("keeping index build %s: a server is still using it", old.name)
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed
