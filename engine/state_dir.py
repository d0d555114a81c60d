"""The state directory is the engine's alone, checked before anything in it is used.

Like ssh's StrictModes: a directory owned by another user, or writable by group or
others, lets someone else plant links and files the engine would write through, so
the engine refuses it and says the `chown`/`chmod` that fixes it. A directory that
is only readable by others is tightened to 0700. The files the engine writes must
be regular files of its own user with one link each: a symbolic link, a hard link
or a foreign file where one of them should be is refused with its name.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.contract.fileio import DIR_MODE, not_a_directory
from engine.contract.ledger_schema import LEDGER_FILE
from engine.contract.models import CONTROL_LOCK, ENGINE_LOCK, EVENTS_FILE, STATE_FILE, STATUS_FILE
from engine.trading.state_damage import StateFileError

# control.json is the operator's: the intake checks it on the descriptor it reads, every cycle.
# The ledger's -wal and -shm are opened by SQLite by name: checked here like the ledger itself.
LEDGER_FILES = (LEDGER_FILE, f"{LEDGER_FILE}-wal", f"{LEDGER_FILE}-shm")
ENGINE_FILES = (STATE_FILE, "state.journal", STATUS_FILE, EVENTS_FILE, f"{EVENTS_FILE}.1", ENGINE_LOCK, CONTROL_LOCK, *LEDGER_FILES)
# Written in place (appended, locked, SQLite's pages): a second hard link would be written too. The
# others are replaced whole before they are written, so a backup tool's hard links to them are harmless.
IN_PLACE = frozenset({EVENTS_FILE, ENGINE_LOCK, CONTROL_LOCK, *LEDGER_FILES})


class UnsafeStateDir(StateFileError):
    pass


def prepare_state_dir(path: Path) -> Path:
    """Create `path` 0700 if missing; refuse it (UnsafeStateDir) if it is not the engine's alone."""
    if (not_dir := not_a_directory(path)) is not None:
        raise UnsafeStateDir(f"refusing the state directory: {not_dir}")
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    info = os.lstat(path)
    uid = os.geteuid()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeStateDir(f"refusing the state directory {path}: not a directory (a link?); use a real directory")
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != uid:
        raise UnsafeStateDir(
            f"refusing the state directory {path}: owned by uid {info.st_uid}, not the engine's uid {uid}, who would "
            f"keep control of it; fix: chown {uid} {path} && chmod 700 {path} (or use another --state-dir)"
        )
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeStateDir(
            f"refusing the state directory {path}: writable by group or others (mode {mode:o}), who could plant links "
            f"in it; fix: chmod 700 {path}, and check its files"
        )
    if mode != DIR_MODE:
        os.chmod(path, DIR_MODE)
    unsafe = [problem for name in ENGINE_FILES if (problem := _file_problem(path / name, uid))]
    if unsafe:
        raise UnsafeStateDir(
            f"refusing the state directory {path}: {'; '.join(unsafe)}. The engine never follows links or writes "
            f"another user's files: remove them (their targets were not touched)"
        )
    return path


def _file_problem(path: Path, uid: int) -> str | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return f"{path.name} is a symbolic link (to {os.readlink(path)})"
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file"
    if info.st_uid != uid:
        return f"{path.name} is owned by uid {info.st_uid}"
    if info.st_nlink > 1 and path.name in IN_PLACE:
        return f"{path.name} has {info.st_nlink - 1} other hard link(s)"
    return None
