"""What strategy code can change about the whole process while it loads, put back after.

A check or a preparation executes a module's top level; a reload does too. None of
it may leave a lasting effect on the engine: its signal handlers (a module that
installs one would leave the engine deaf to SIGTERM), working directory,
`sys.path`, recursion limit, warnings filters and interval timer are what they
were before, whatever the module did. A thread it started is named (it cannot be
stopped, and the engine's exit does not wait for it).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

_SIGNALS = tuple(s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))


@dataclass
class ProcessSnapshot:
    handlers: dict[int, Any] = field(default_factory=dict)
    cwd: str | None = None
    path: list[str] = field(default_factory=list)
    recursion_limit: int = 1000
    filters: list[Any] = field(default_factory=list)
    timer: tuple[float, float] = (0.0, 0.0)
    main_thread: bool = False
    threads: frozenset[int] = frozenset()

    @classmethod
    def take(cls) -> ProcessSnapshot:
        import threading

        main = threading.current_thread() is threading.main_thread()
        handlers: dict[int, Any] = {}
        if main:
            for sig in _SIGNALS:
                try:
                    handler = signal.getsignal(sig)
                except (ValueError, OSError):
                    continue
                if handler is not None:  # None: installed outside Python, cannot be restored
                    handlers[sig] = handler
        try:
            cwd: str | None = os.getcwd()
        except OSError:
            cwd = None
        return cls(
            handlers=handlers,
            cwd=cwd,
            path=list(sys.path),
            recursion_limit=sys.getrecursionlimit(),
            filters=list(warnings.filters),
            timer=signal.getitimer(signal.ITIMER_REAL) if main else (0.0, 0.0),
            main_thread=main,
            threads=frozenset(t.ident for t in threading.enumerate() if t.ident is not None),
        )

    def restore(self) -> list[str]:
        """Put everything back; the names of what had changed (for the event log)."""
        changed: list[str] = []
        if self.main_thread:
            for sig, handler in self.handlers.items():
                try:
                    if signal.getsignal(sig) != handler:
                        signal.signal(sig, handler)
                        changed.append(f"handler of {signal.Signals(sig).name}")
                except (ValueError, OSError):
                    continue
            if signal.getitimer(signal.ITIMER_REAL) != self.timer and self.timer == (0.0, 0.0):
                signal.setitimer(signal.ITIMER_REAL, 0)
                changed.append("interval timer")
        if self.cwd is not None:
            try:
                if os.getcwd() != self.cwd:
                    os.chdir(self.cwd)
                    changed.append("working directory")
            except OSError:
                os.chdir(self.cwd)
                changed.append("working directory")
        if sys.path != self.path:
            sys.path[:] = self.path
            changed.append("sys.path")
        if sys.getrecursionlimit() != self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
            changed.append("recursion limit")
        if warnings.filters != self.filters:
            warnings.filters[:] = self.filters  # type: ignore[index]  # typeshed types the live list as a Sequence
            warnings._filters_mutated()  # type: ignore[attr-defined]
            changed.append("warnings filters")
        # A thread cannot be stopped from outside: it is named, and the engine's exit does not
        # wait for it (engine/cli.py).
        import threading

        changed += [
            f"thread {t.name!r} (still running: a thread cannot be stopped)"
            for t in threading.enumerate()
            if t.ident not in self.threads and t.is_alive()
        ]
        return changed
