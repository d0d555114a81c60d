"""fsyncs run by one writer thread, in the order asked: a slow disk delays them, never the caller.

For records whose new content must survive a crash of the process at once (the
rename already gives that) and a power cut soon after, but not before the next
cycle: the version store's manifest and blobs. A disk whose fsync takes hundreds of
milliseconds then costs the cycle loop nothing; an fsync that fails is reported at
the next `errors()` call, like a write that failed.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return  # replaced or pruned since: nothing of it left to make durable
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BackgroundFsync:
    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)  # one worker: in order
        self._pending: deque[Future[None]] = deque()

    def __call__(self, path: Path) -> None:
        """fsync `path` (a file or a directory) soon, after every fsync asked before it."""
        self._pending.append(self._pool.submit(_fsync, path))

    def errors(self) -> list[OSError]:
        """The fsyncs that failed since the last call (the ones still running are kept for later)."""
        failed = []
        while self._pending and self._pending[0].done():
            error = self._pending.popleft().exception()
            if isinstance(error, OSError):
                failed.append(error)
            elif error is not None:
                raise error
        return failed

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for every fsync asked so far; True when all ran."""
        return not wait(list(self._pending), timeout=timeout_s).not_done
