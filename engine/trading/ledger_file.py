"""ledger.sqlite3 as a file: opened safely, waited for when another process holds it, and
written again at its place when it is deleted or replaced under the engine.

The engine's other files are opened with O_NOFOLLOW on a checked descriptor; SQLite opens
the ledger (and its -wal and -shm) by name itself, so each is checked with lstat before
the connection is made: a link, a FIFO or a directory there is refused, never followed
or opened (a FIFO would block the open).

A write lock held by another process (an sqlite3 shell mid-transaction, a backup tool)
is no damage: the start waits for it a bounded time, saying so, and then refuses with
what to do, never with advice to move a healthy ledger aside.

Deleted under the engine (an outside cleanup), the ledger lives on in the engine's open
connection, which still reads every row: `write_again` copies it with SQLite's backup
API into a new file renamed into place, so no row is lost and nothing is imported again.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from engine.contract.fileio import UnsafeFile, fsync_dir, open_private
from engine.trading.state import StateFileError

T = TypeVar("T")

LOCK_WAIT_S = 10.0  # a start waits this long for another process's write transaction
START_BUSY_MS = 1000  # each try of a start step waits this long, then says it still waits
# A cycle meets a lock for at most this long: the rows wait in memory and are tried again
# next cycle, so a held lock costs each cycle a few milliseconds, not a second.
CYCLE_BUSY_MS = 5
SIDE_FILES = ("-wal", "-shm")

Identity = tuple[int, int]


class LedgerFileError(StateFileError):
    """ledger.sqlite3 exists but is no usable ledger; the engine refuses to start (exit 2)."""


class LedgerLocked(LedgerFileError):
    """Another process held a write transaction on the ledger for the whole start's wait."""


def is_locked(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock; the file is fine."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def locked_message(path: Path, waited_s: float) -> str:
    return (
        f"another process holds a write transaction on {path} (waited {waited_s:.0f} s): the ledger is not damaged, "
        f"do not move it aside. End that transaction or stop that process (an sqlite3 shell, a backup or sync tool; "
        f"`fuser {path}` names it) and start the engine again"
    )


def refused(path: Path, problem: str) -> LedgerFileError:
    return LedgerFileError(
        f"refusing {path}: {problem}. The engine never follows links or opens anything but a regular file as its "
        "ledger: remove it (a link's target was not touched) and start again"
    )


def check_files(path: Path) -> None:
    """Refuse (LedgerFileError) a link or anything but a regular file at the ledger or its -wal or -shm."""
    for name in (path, *(path.with_name(path.name + side) for side in SIDE_FILES)):
        try:
            info = os.lstat(name)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            raise refused(path, f"{name.name} is a symbolic link (to {os.readlink(name)})")
        if not stat.S_ISREG(info.st_mode):
            raise refused(path, f"{name.name} is not a regular file")


def connect(path: Path) -> sqlite3.Connection:
    """The ledger's connection, WAL mode, created 0600 when missing; refusing what is no regular file."""
    check_files(path)
    try:
        os.close(open_private(path, os.O_RDWR | os.O_CREAT))  # 0600 before SQLite opens it
    except UnsafeFile as exc:
        raise refused(path, exc.strerror or str(exc)) from None
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # checkpointed between cycles: see Ledger.checkpoint
    except sqlite3.Error:
        db.close()
        raise
    return db


def say_waiting(text: str) -> None:
    print(f"foresight engine: {text}", file=sys.stderr, flush=True)


def waiting_out_locks(db: sqlite3.Connection, path: Path, step: Callable[[], T], note: Callable[[str], None]) -> T:
    """`step()`, tried again while another process holds the ledger's lock, up to LOCK_WAIT_S,
    `note` saying so each second; then LedgerLocked. Other errors pass through."""
    db.execute(f"PRAGMA busy_timeout={START_BUSY_MS}")
    started = time.monotonic()
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            waited = time.monotonic() - started
            if not is_locked(exc):
                raise
            if waited >= LOCK_WAIT_S:
                raise LedgerLocked(locked_message(path, waited)) from exc
            note(f"{path.name}: another process holds a write transaction on it; waiting for it ({waited:.0f} s of {LOCK_WAIT_S:.0f})")


def identity(path: Path) -> Identity | None:
    """The file at `path` itself (never a link's target), or None when there is none."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def write_again(db: sqlite3.Connection, path: Path) -> tuple[sqlite3.Connection, Path | None]:
    """The ledger `db` holds, written again at `path` (deleted or replaced under it) and opened:
    the new connection, and where a file found in its place was kept (never overwritten).
    `db` is closed once its copy is in place; on a failure it is left open and nothing moved."""
    temp = path.with_name(f"{path.name}.rewrite-{uuid.uuid4().hex[:8]}")
    try:
        os.close(open_private(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        copy = sqlite3.connect(temp)
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to rename into place
        finally:
            copy.close()
        fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        aside = None
        if os.path.lexists(path):
            aside = path.with_name(f"{path.name}.replaced-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}")
            os.rename(path, aside)
        os.rename(temp, path)
    except BaseException:
        for leftover in (temp, *(temp.with_name(temp.name + side) for side in SIDE_FILES)):
            leftover.unlink(missing_ok=True)
        raise
    # The old connection goes once its copy is in place. A -wal or -shm still at the ledger's
    # name is the old file's (the copy has none yet; a reader of the old file keeps one open):
    # left there, SQLite would replay the old file's frames into the copy.
    db.close()
    for side in SIDE_FILES:
        path.with_name(path.name + side).unlink(missing_ok=True)
    fsync_dir(path.parent)
    return connect(path), aside
