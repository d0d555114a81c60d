"""The loop's wait between cycles, put to use without moving the next cycle.

The jobs that run here, where they cost the trading loop nothing:

- the cyclic collector's work, which the cycle holds back (`Engine.cycle`):
  the generation CPython itself would collect now, by its own counts and
  thresholds; after a code swap, a full collection of the replaced version
  (cyclic garbage left for a collection keeps the heap growing, see
  benchmarks/findings.md);
- a reload or check is prepared ahead: read, compiled, executed, checked and
  smoke-tested now, so that the boundary which applies the command only
  re-reads the files and swaps (`ReloadManager.prepare`). Either the command is
  seen in control.json during the wait (control.json is looked at by `stat`
  every `POLL_S`, and parsed only when it changed), or a boundary found it
  unprepared and left it for the next boundary (`prepare_soon`). Control is
  still applied at boundaries and only there; a preparation is used only if the
  files, the running version and the overrides are still those it was made
  from, otherwise the boundary prepares again itself.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.collector import collect_as_cpython_would
from engine.contract.models import Control
from engine.control_intake import ControlIntake
from engine.process_guard import StopSignal
from engine.reload.manager import ReloadManager
from engine.strategy_api.params import validate_overrides

# The commands whose costly part is prepared between cycles; a boundary swaps them.
PREPARED_AHEAD = ("reload", "check", "shadow")
POLL_S = 0.02
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
    # Work that must not run inside a cycle and takes a few milliseconds (the ledger's checkpoint).
    chores: list[Callable[[], None]] = field(default_factory=list)
    _seen: tuple[int, int, int] | None = field(default=None, init=False)
    _wanted: dict[str, Any] | None = field(default=None, init=False)  # overrides to prepare for
    _cost_ms: float = field(default=10.0, init=False)  # what the last preparation took

    def prepare_soon(self, overrides: Mapping[str, Any]) -> None:
        """A boundary left a reload or check for the next one: prepare it in this wait."""
        self._wanted = dict(overrides)

    def wait_until(self, deadline: float) -> None:
        """Sleep until `deadline` (monotonic) or a stop signal, doing the idle jobs on the way."""
        self.reloader.flush_store()
        for chore in self.chores:
            chore()
        if self.collect_pending:
            self.collect_pending = False
            gc.collect()
        elif gc.isenabled():
            collect_as_cpython_would()
        wanted, self._wanted = self._wanted, None
        if wanted is not None and self._fits(deadline - time.monotonic()):
            self._prepare(wanted)  # otherwise the next boundary prepares it itself
        while self.stop.requested is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._look_at_control(left):
                continue
            self.stop.sleep(min(left, POLL_S))

    def _fits(self, left_s: float) -> bool:
        return left_s * 1000.0 >= _HEADROOM * self._cost_ms

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
        if not self._fits(left_s):
            return False  # too close to the boundary: it prepares the command itself
        self._seen = seen
        control = self.intake.peek(self.last_generation())
        if control is None:
            return False
        if not any(c.type in PREPARED_AHEAD and not self.is_handled(c.id) for c in control.commands):
            return False
        if not self._acceptable(control):
            return False  # the boundary refuses this file whole: none of its commands is prepared
        return self._prepare(control.overrides)

    def _acceptable(self, control: Control) -> bool:
        """Would the boundary take this control file? (its slots and overrides; the rest `peek` checked)"""
        if not set(control.paused_slots) <= self.intake.slot_ids:
            return False
        reloader = self.reloader
        try:
            reloader.guard.call(reloader.budgets.call_s, validate_overrides, reloader.registry.params_model, dict(control.overrides))
        except Exception:  # noqa: BLE001 - refused, or the strategy's validator failed: the boundary says why
            return False
        return True

    def _prepare(self, overrides: Mapping[str, Any]) -> bool:
        prepared = self.reloader.prepare(overrides=overrides)
        if prepared is None:
            return False
        self._cost_ms = prepared.elapsed_ms
        return True
