"""One directory watched through Linux inotify on the event loop: no thread, no polling step.

watchfiles' `awatch` waits a `step` after each change for more to come (and wakes every step
while idle), which put its step into every status's way to the screen. Here the kernel's
notification wakes the loop itself and the callback runs at once, once per batch read.
Elsewhere (no inotify), `available()` is False and the caller keeps watchfiles.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import struct
from collections.abc import Callable
from pathlib import Path

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_IGNORED = 0x8000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
# An atomic replace arrives as IN_MOVED_TO of the final name; a plain write as IN_CLOSE_WRITE.
MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
HEADER = struct.Struct("iIII")  # wd, mask, cookie, len; then `len` bytes of NUL-padded name
GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - probing that the symbol exists
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


def available() -> bool:
    return _LIBC is not None


def names_in(data: bytes) -> tuple[list[str], bool]:
    """The file names an inotify read carries, and whether the watched directory went away."""
    names: list[str] = []
    gone = False
    offset = 0
    while offset + HEADER.size <= len(data):
        _wd, mask, _cookie, length = HEADER.unpack_from(data, offset)
        offset += HEADER.size
        name = data[offset : offset + length].split(b"\0", 1)[0]
        offset += length
        if mask & GONE:
            gone = True
        if name:
            names.append(os.fsdecode(name))
    return names, gone


async def watch_once(directory: Path, on_change: Callable[[], None], accept: Callable[[str], bool],
                     stop: asyncio.Event) -> None:  # fmt: skip
    """Call `on_change` for each batch of events naming an accepted file, until `stop` is set or
    the directory goes away (then return: the caller waits for it to come back)."""
    assert _LIBC is not None
    fd = _LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1 failed")
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    try:
        if _LIBC.inotify_add_watch(fd, os.fsencode(directory), MASK) < 0:
            error = ctypes.get_errno()
            raise OSError(error, f"cannot watch {directory}: {os.strerror(error)}")

        def readable() -> None:
            try:
                data = os.read(fd, 64 * 1024)
            except BlockingIOError:
                return
            names, gone = names_in(data)
            if any(accept(name) for name in names):
                on_change()
            if gone:
                ended.set()

        loop.add_reader(fd, readable)
        try:
            stopped = asyncio.ensure_future(stop.wait())
            finished = asyncio.ensure_future(ended.wait())
            await asyncio.wait({stopped, finished}, return_when=asyncio.FIRST_COMPLETED)
            for task in (stopped, finished):
                task.cancel()
        finally:
            loop.remove_reader(fd)
    finally:
        os.close(fd)
