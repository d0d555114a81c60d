"""Why the engine did not start, in one line, and its exit code (documented in the README).

    2  refused: a bad flag, an unsafe state directory, state that cannot be resumed as is
    3  another engine already runs on the state directory
    4  the strategy code does not load
    5  the filesystem refused: read-only, full, no permission, an I/O error

An operator's mistake never shows a traceback; only a bug in the engine does.
"""

from __future__ import annotations

import errno

EXIT_REFUSED, EXIT_ALREADY_RUNNING, EXIT_STRATEGY, EXIT_FILESYSTEM = 2, 3, 4, 5

_WHAT_TO_DO = {
    errno.EROFS: "the filesystem is read-only: remount it read-write or use another --state-dir",
    errno.ENOSPC: "the disk is full: free space on it or use another --state-dir",
    errno.EDQUOT: "the disk quota is exhausted: free space or use another --state-dir",
    errno.EACCES: "permission denied: run the engine as the directory's owner or use another --state-dir",
    errno.EPERM: "not permitted: run the engine as the directory's owner or use another --state-dir",
    errno.EIO: "an I/O error: check the disk (dmesg) before starting again",
}


def filesystem_failure(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    hint = _WHAT_TO_DO.get(exc.errno or 0, "check the state directory and its disk, then start again")
    return f"cannot start: {exc.strerror or exc}{where}; {hint}"
