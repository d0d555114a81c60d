"""The version of the strategy files on disk: a candidate, compared with what runs.

Looked at by `stat` at most every `EVERY_S`, read and hashed only when a file changed,
so status.json can say "disk differs" every cycle for a few microseconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from engine.reload.module_loader import StrategyLoadError, read_sources, version_of

EVERY_S = 0.5


class DiskCandidate:
    def __init__(self, directory: Path, scope: Sequence[str]) -> None:
        self.directory = directory
        self.scope = tuple(scope)
        self._seen: tuple[tuple[int, int, int], ...] | None = None
        self._version: str | None = None
        self._looked = -EVERY_S

    def version(self) -> str | None:
        """The version the files would load as, or None when one cannot be read."""
        now = time.monotonic()
        if now - self._looked < EVERY_S:
            return self._version
        self._looked = now
        try:
            seen = tuple(
                (info.st_mtime_ns, info.st_size, info.st_ino)
                for info in (os.stat(self.directory / f"{name}.py") for name in self.scope)
            )
        except OSError:
            self._seen, self._version = None, None
            return None
        if seen != self._seen:
            try:
                sources = read_sources(self.directory, self.scope)
            except StrategyLoadError:
                return None
            self._seen = seen
            self._version = version_of((s.name, s.sha256) for s in sources)
        return self._version
