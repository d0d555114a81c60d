"""Another process holding a write transaction on an SQLite file, as an operator's sqlite3 shell would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()  # held until the test closes our stdin
db.execute("ROLLBACK")
"""


class WriteLock:
    """`BEGIN IMMEDIATE` on `path` in a child process, from `__enter__` (once it holds) to `release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> WriteLock:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(self.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "locked", f"the lock holder did not take the lock: {line!r}"
        return self

    def release(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(10)

    def __exit__(self, *exc: object) -> None:
        self.release()
