"""fsyncs run by a writer thread, in the order asked: a slow disk delays them, never the caller.

For records whose new content must survive a crash of the process at once (the
rename already gives that) and a power cut soon after, but not before the next
cycle: the version store's manifest and blobs. A disk whose fsync takes hundreds of
milliseconds then costs the cycle loop nothing; an fsync that fails is reported at
the next `errors()` call, like a write that failed.

The worker is a daemon thread, one for the process (engines made in one process, as
tests and benchmarks make them, share it): a stop waits for it only as long as
`drain` is told to, so a disk that hangs cannot hold the engine's exit.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from pathlib import Path


class BackgroundFsync:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: list[OSError] = []  # appended to by the worker

    def __call__(self, path: Path) -> None:
        """fsync `path` (a file or a directory) soon, after every fsync asked before it."""
        _queue().put((self, path))

    def errors(self) -> list[OSError]:
        """The fsyncs that failed since the last call."""
        with self._lock:
            failed, self._failed = self._failed, []
        return failed

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for every fsync asked so far; True when all ran."""
        done = threading.Event()
        _queue().put(done)
        return done.wait(timeout_s)

    def _failure(self, error: OSError) -> None:
        with self._lock:
            self._failed.append(error)


_Item = tuple[BackgroundFsync, Path] | threading.Event


@functools.cache
def _queue() -> queue.SimpleQueue[_Item]:
    items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
    threading.Thread(target=_work, args=(items,), name="background-fsync", daemon=True).start()
    return items


def _work(items: queue.SimpleQueue[_Item]) -> None:
    while True:
        item = items.get()
        if isinstance(item, threading.Event):
            item.set()  # every fsync asked before it has run
            continue
        owner, path = item
        try:
            _fsync(path)
        except OSError as exc:
            owner._failure(exc)


def _fsync(path: Path) -> None:
    # O_NONBLOCK: a FIFO planted in a record's place must not hold the worker until a writer comes.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return  # replaced or pruned since: nothing of it left to make durable
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
