"""The shadow's commands (shadow, promote, drop): run at a cycle boundary, acknowledged once each.

`shadow` goes through every check a reload makes (prepared ahead between cycles like
a check, engine/between_cycles.py) and starts the shadow only if they pass; `promote` swaps
the checked candidate in with a reload's commit, into probation like any new code;
`drop` ends the shadow and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.contract.models import Ack, Command, utc_now_iso
from engine.events import EventLog
from engine.reload.manager import ReloadManager, ReloadOutcome
from engine.shadow.runner import ShadowRunner
from engine.trading.state import StateManager

TYPES = ("shadow", "promote", "drop")


@dataclass
class ShadowCommands:
    manager: StateManager
    reloader: ReloadManager
    events: EventLog
    shadow: ShadowRunner
    # A promote is a swap like a reload's: what follows one (parameters, probation, its ack) is
    # the caller's, engine/commands.py.
    swapped: Callable[[Command, ReloadOutcome], None]

    def run(self, command: Command, may_defer: bool) -> bool:
        """Run one shadow command; False when its candidate is not prepared yet (the boundary defers it)."""
        if command.type == "shadow":
            answer = self._shadow(command, may_defer)
            if answer is None:
                return False
            ok, detail = answer
        elif command.type == "promote":
            return self._promote(command)
        else:
            ok, detail = self._drop()
        self._ack(command, ok, detail)
        return True

    def _shadow(self, command: Command, may_defer: bool) -> tuple[bool, str] | None:
        overrides = dict(self.manager.state.applied.overrides)
        shadow = self.shadow
        if command.aa:
            return True, shadow.start(None, aa=True, cycles=command.cycles, overrides=overrides)
        reloader = self.reloader
        outcome = reloader.swap_if_prepared("check", overrides=overrides) if may_defer else reloader.check(overrides=overrides)
        if outcome is None:
            return None
        self.events.emit("check", f"shadow's check: {outcome.detail}", **outcome.to_event(), commands=[command.id])
        if not outcome.ok:
            return False, f"shadow refused, nothing changed: {outcome.error}"
        prepared = reloader.checked
        assert prepared is not None and prepared.version is not None
        if prepared.version.version == reloader.registry.version:
            # The files on disk are the running code: that is the A/A control, said as such.
            detail = shadow.start(None, aa=True, cycles=command.cycles, overrides=overrides)
            return True, f"the files on disk are the running code; {detail}"
        return True, shadow.start(prepared, aa=False, cycles=command.cycles, overrides=overrides)

    def _drop(self) -> tuple[bool, str]:
        shadow = self.shadow.active
        if shadow is None:
            return False, "no shadow is running: nothing to drop"
        version = shadow.report.version
        self.shadow.finish("dropped", "dropped by an operator")
        return True, f"shadow {version} dropped; nothing else changed, {self.reloader.registry.version} keeps running"

    def _promote(self, command: Command) -> bool:
        shadow = self.shadow.active
        if shadow is None or shadow.preparation is None:
            why = "no shadow is running: start one (foresight ctl shadow)" if shadow is None else (
                "the running shadow is the A/A control (the running code itself): nothing to promote"
            )  # fmt: skip
            self._ack(command, False, why)
            return True
        outcome = self.reloader.promote(shadow.preparation)
        self.events.emit("reload", f"promote: {outcome.detail}", **outcome.to_event(), commands=[command.id])
        if not outcome.ok:
            self._ack(command, False, outcome.detail)
            return True
        report = shadow.report
        self.shadow.finish("promoted", f"promoted after {report.cycles} cycles ({report.differ} of {report.compared} decisions differed)")
        self.swapped(command, outcome)
        return True

    def _ack(self, command: Command, ok: bool, detail: str) -> None:
        self.manager.record_ack(
            Ack(id=command.id, type=command.type, result="applied" if ok else "rejected", at=utc_now_iso(), detail=detail),
            command.issued_at,
        )
        self.events.emit("shadow", f"{command.type} {command.id}: {detail}", command=command.id, ok=ok)
