"""Whether the engine a status names still runs: what every client on its host can ask."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from engine.contract.models import ENGINE_LOCK


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host (signal 0 probes only)."""
    if pid <= 0:  # 0 and negative pids name process groups: never an engine
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is just not ours
        return True
    return True


def gone_from_here(host: str, pid: int) -> bool:
    """The process `pid` of `host` is known to be gone: it ran on this host and no longer exists.
    (Another host's process cannot be probed from here: never known gone.)"""
    return host == socket.gethostname() and not pid_alive(pid)


def lock_holder(state_dir: Path) -> int | None:
    """The pid engine.lock names when that process runs on this host, else None. The engine
    writes its pid there under its flock; reading (not locking) never races a starting engine."""
    try:
        with open(state_dir / ENGINE_LOCK, "rb") as lock:
            text = lock.read(32).decode(errors="replace").strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    return pid if pid_alive(pid) else None
