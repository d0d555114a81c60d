"""Whether the engine a status names still runs: what every client on its host can ask."""

from __future__ import annotations

import os


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
