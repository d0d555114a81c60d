"""One engine per state directory, and a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
from collections.abc import Callable
from pathlib import Path

from engine import failpoints
from engine.contract.fileio import open_private, write_all
from engine.contract.models import ENGINE_LOCK


class AlreadyRunning(RuntimeError):
    pass


class EngineLock:
    """`flock` on engine.lock, held for the life of the process (the kernel drops it on death)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / ENGINE_LOCK
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (again: a no-op). The file is never a link followed (open_private)."""
        if self.fd is not None:
            return
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise AlreadyRunning(
                    f"another engine (pid {holder}) already runs on {self.path.parent}; "
                    f"stop it first or use another --state-dir"
                ) from None
            raise
        try:
            if failpoints.ENABLED:
                failpoints.before_write(self.path)
            os.ftruncate(fd, 0)
            write_all(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:
            os.close(fd)
            raise OSError(exc.errno, exc.strerror, exc.filename or str(self.path)) from None
        self.fd = fd

    def lost(self) -> bool:
        """True when engine.lock is no longer the file this process locked (deleted or replaced
        under it): another engine could then lock a new one and run on the same directory."""
        if self.fd is None:
            return False
        try:
            held = os.fstat(self.fd)
            there = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return True
        except OSError:
            return False  # unreadable for a moment: looked at again next cycle
        return (held.st_dev, held.st_ino) != (there.st_dev, there.st_ino)

    def retake(self) -> None:
        """Lock the file now at the path (a new one if it is gone); AlreadyRunning if another
        engine holds it."""
        old, self.fd = self.fd, None
        try:
            self.acquire()
        finally:
            if old is not None:
                os.close(old)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class StopSignal:
    """SIGTERM/SIGINT/SIGHUP ask the loop to finish its cycle; the sleep between cycles wakes at once."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        # Called last in the handler: the guard raises its interrupt there into a strategy call
        # that is running (the handler runs in that frame), so a stop never waits for it.
        self.on_stop: Callable[[], None] | None = None
        self._installed = False
        self._signals: tuple[signal.Signals, ...] = ()

    def install(self) -> None:
        # A hangup (the SSH session that started the engine closed) is a clean stop too, never
        # a death the TUI and the watcher can only call DOWN; under nohup it stays ignored.
        hangup = [] if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else [signal.SIGHUP]
        self._signals = (signal.SIGTERM, signal.SIGINT, *hangup)
        for sig in self._signals:
            signal.signal(sig, self._handle)
        self._installed = True

    def reinstall(self) -> None:
        """Put the handlers back if something (strategy code) replaced them."""
        if self._installed:
            for sig in self._signals:
                if signal.getsignal(sig) != self._handle:
                    signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        self.requested = signal.Signals(signum).name
        try:
            os.write(self._write, b"x")
        except BlockingIOError:
            pass
        if self.on_stop is not None:
            self.on_stop()

    def sleep(self, seconds: float) -> None:
        if seconds > 0 and self.requested is None:
            select.select([self._read], [], [], seconds)
