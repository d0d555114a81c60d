"""The loop's wait between cycles, put to use without moving the next cycle.

Two jobs run here, where they cost the trading loop nothing:

- after a code swap, the collection of the replaced version (cyclic garbage
  left for a collection keeps the heap growing, see benchmarks/findings.md);
- a reload or check waiting in control.json is prepared ahead: read, compiled,
  executed, checked and smoke-tested now, so that the boundary which applies
  the command only re-reads the files and swaps (`ReloadManager.prepare`).
  Control is still applied at the boundary and only there; a preparation is
  used only if the files, the running version and the overrides are still
  those it was made from, otherwise the boundary prepares again.

control.json is looked at by `stat` every `POLL_S` while waiting, and parsed
only when it changed.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.control_intake import ControlIntake
from engine.process_guard import StopSignal
from engine.reload_manager import ReloadManager

POLL_S = 0.02
_CODE_COMMANDS = ("reload", "check")
# A preparation starts only if it fits in what is left of the wait this many times over.
_HEADROOM = 3.0


@dataclass
class BetweenCycles:
    intake: ControlIntake
    reloader: ReloadManager
    stop: StopSignal
    last_generation: Callable[[], int]
    is_handled: Callable[[str], bool]
    collect_pending: bool = False
    prepared: int = 0  # preparations made ahead (for status and tests)
    _seen: tuple[int, int, int] | None = field(default=None, init=False)
    _cost_ms: float = field(default=10.0, init=False)  # what the last preparation took

    def wait_until(self, deadline: float) -> None:
        """Sleep until `deadline` (monotonic) or a stop signal, doing the idle jobs on the way."""
        if self.collect_pending:
            self.collect_pending = False
            gc.collect()
        while self.stop.requested is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._look_at_control(left):
                continue
            self.stop.sleep(min(left, POLL_S))

    def _look_at_control(self, left_s: float) -> bool:
        """Prepare a pending reload if control.json changed and holds one; True if it did work."""
        try:
            info = os.stat(self.intake.path)
        except OSError:
            self._seen = None
            return False
        seen = (info.st_mtime_ns, info.st_size, info.st_ino)
        if seen == self._seen:
            return False
        if left_s * 1000.0 < _HEADROOM * self._cost_ms:
            return False  # too close to the boundary: it prepares the command itself
        self._seen = seen
        control = self.intake.peek(self.last_generation())
        if control is None:
            return False
        if not any(c.type in _CODE_COMMANDS and not self.is_handled(c.id) for c in control.commands):
            return False
        prepared = self.reloader.prepare(overrides=control.overrides)
        if prepared is None:
            return False
        self.prepared += 1
        self._cost_ms = prepared.elapsed_ms
        return True
