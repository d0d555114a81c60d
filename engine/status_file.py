"""status.json's writer: replaced atomically once a cycle, each old version freed off the cycle.

A rename over a file that nothing holds open frees that file inside the rename,
and on ext4 the free can wait for the filesystem's journal (the old version's
blocks may belong to the commit being written), so most of a status write was
that wait. Here each version written stays open until the next one has replaced
it, and a worker thread closes it then: the free happens there, beside the next
cycles instead of inside them. What readers see is unchanged: the same atomic
replace, in the same place of the cycle.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from engine.contract.fileio import atomic_replace_open

# One worker for the process: a close is quick to hand over, and engines made in one process
# (tests, benchmarks) need no thread each.
_RELEASER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="status-release")


class StatusFile:
    """Writes one file by atomic replace; holds the version in place open until the next replaces it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: int | None = None  # the descriptor of the version now at `path`

    def write(self, data: bytes) -> None:
        """`data` at `path`, atomically (OSError when it cannot be written: the old version stays)."""
        fd = atomic_replace_open(self.path, data)
        replaced, self._held = self._held, fd
        if replaced is not None:
            _RELEASER.submit(os.close, replaced)

    def close(self) -> None:
        """Every version released, once the ones handed over are closed (the file stays); a later
        write holds its own again."""
        if self._held is not None:
            os.close(self._held)
            self._held = None
        _RELEASER.submit(_nothing).result()  # the worker runs in order: what was handed over is closed


def _nothing() -> None:
    pass

    def __del__(self) -> None:
        # An engine dropped without a clean stop (a test, a benchmark) leaks no descriptor.
        if self._held is not None:
            with contextlib.suppress(OSError):
                os.close(self._held)
