"""Noticing that the terminal went away (SSH dropped), so the TUI exits instead of spinning."""

from __future__ import annotations

import os
import sys
import termios


def controlling_fd() -> int | None:
    """The stdin descriptor when it is a terminal, else None (nothing to watch)."""
    try:
        fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
    except (OSError, ValueError):
        return None
    return fd if fd >= 0 and os.isatty(fd) else None


def terminal_gone(fd: int | None) -> bool:
    """True once a terminal that was there is hung up or closed (its ioctls then fail)."""
    if fd is None:
        return False
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return True
    return False
