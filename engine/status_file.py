"""status.json's writer: replaced atomically once a cycle, each old version freed off the cycle.

A rename over a file that nothing holds open frees that file inside the rename,
and on ext4 the free can wait for the filesystem's journal (the old version's
blocks may belong to the commit being written): that wait would be most of a
status write, and it stays a wait in the loop's idle time after the cycle. Here
each version written stays open until the next one has replaced it, and a
worker thread closes it then: the free waits there, beside the cycles instead
of inside them. The temp file each write fills is made ahead, in the wait between
cycles (`prepare`, one of the loop's chores), for the same reason. What readers see
is unchanged: the same atomic replace, in the same place of the cycle.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
from pathlib import Path

from engine.contract.fileio import atomic_replace_open, new_temp


class StatusFile:
    """Writes one file by atomic replace; holds the version in place open until the next replaces it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: int | None = None  # the descriptor of the version now at `path`
        self._next: tuple[int, str] | None = None  # the next write's temp file, made ahead

    def prepare(self) -> None:
        """Make the next write's temp file now, in the wait between cycles: creating a file in
        the state directory is a tenth of a millisecond or more the cycle need not spend."""
        if self._next is None:
            with contextlib.suppress(OSError):  # the write makes its own, and says why if it cannot
                self._next = new_temp(self.path)

    def write(self, data: bytes) -> None:
        """`data` at `path`, atomically (OSError when it cannot be written: the old version stays)."""
        temp, self._next = self._next, None
        fd = atomic_replace_open(self.path, data, temp)
        replaced, self._held = self._held, fd
        if replaced is not None:
            _releases().put(replaced)

    def close(self) -> None:
        """Every version released, the ones handed over included (the file stays), the temp file
        made ahead removed; a later write holds its own again."""
        self._drop_next()
        if self._held is not None:
            os.close(self._held)
            self._held = None
        done = threading.Event()
        _releases().put(done)  # the worker takes them in order: set once the closes before it are done
        done.wait()

    def __del__(self) -> None:
        # An engine dropped without a clean stop (a test, a benchmark) leaks no descriptor.
        self._drop_next()
        if self._held is not None:
            with contextlib.suppress(OSError):
                os.close(self._held)

    def _drop_next(self) -> None:
        if self._next is not None:
            fd, name = self._next
            self._next = None
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(name)


@functools.cache
def _releases() -> queue.SimpleQueue[int | threading.Event]:
    """The queue of descriptors to close, and its one worker for the process (engines made in one
    process, as tests and benchmarks make them, share it)."""
    releases: queue.SimpleQueue[int | threading.Event] = queue.SimpleQueue()
    threading.Thread(target=_release, args=(releases,), name="status-release", daemon=True).start()
    return releases


def _release(releases: queue.SimpleQueue[int | threading.Event]) -> None:
    while True:
        item = releases.get()
        if isinstance(item, threading.Event):
            item.set()
            continue
        with contextlib.suppress(OSError):
            os.close(item)
