"""Every write the TUI makes, through the project's ControlWriter (no Textual here).

Each method returns the `PendingWrite` to follow until the engine applies or
refuses it. A read-only client refuses before touching the disk, whatever the
caller's UI allowed.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from engine.contract.control_writer import ControlWriter, WriteResult, resume_trip
from engine.contract.models import Command, CommandType, Control, RiskLimits, utc_now_iso
from foresight_tui.data_source import PendingWrite
from foresight_tui.risk_text import limit_text

COMMAND_LABELS: dict[str, str] = {
    "reload": "reload strategy code",
    "check": "check the code on disk",
    "rollback": "roll back to the previous code",
    "shadow": "shadow the code on disk",
    "promote": "promote the shadowed code",
    "drop": "drop the shadow",
}


class ReadOnlyError(RuntimeError):
    pass


def read_only_refusal(what: str) -> str:
    """What a write key says in read-only mode: the same words on every screen."""
    return f"{what}: not sent, Mission Control is read-only (--read-only); nothing is written"


class ControlClient:
    def __init__(self, state_dir: Path, *, read_only: bool = False, tool: str = "foresight-tui") -> None:
        self.read_only = read_only
        self._writer = ControlWriter(state_dir, tool=tool)
        self._state_dir = state_dir
        self.last_note: str | None = None

    def _guard(self) -> None:
        if self.read_only:
            raise ReadOnlyError("read-only mode: nothing is written")

    def _done(
        self, label: str, result: WriteResult, command_id: str | None = None, kind: str | None = None
    ) -> PendingWrite:
        self.last_note = result.note
        return PendingWrite(label, result.control.generation, command_id, kind)

    def set_engine_paused(self, paused: bool) -> PendingWrite:
        self._guard()
        label = "pause engine" if paused else "resume engine"
        result = self._writer.set_paused(paused)
        if not paused:  # a resume also clears the tripped risk limit status.json shows, if one is
            result = resume_trip(self._state_dir, self._writer) or result
        return self._done(label, result)

    def set_slot_paused(self, slot_id: str, paused: bool) -> PendingWrite:
        self._guard()
        label = f"{'pause' if paused else 'resume'} {slot_id}"
        return self._done(label, self._writer.set_slot_paused(slot_id, paused))

    def set_overrides(self, values: dict[str, Any], unset: tuple[str, ...] = ()) -> PendingWrite:
        self._guard()
        parts = [f"{k}={v!r}" for k, v in values.items()] + [f"{k}=default" for k in unset]
        label = "override " + ", ".join(parts) if parts else "overrides (no change)"
        return self._done(label, self._writer.set_overrides(values, unset))

    def set_risk_limits(self, changes: dict[str, int | float | None]) -> PendingWrite:
        """The limits named (None: no limit) onto those in control.json; the others are left as they are."""
        self._guard()
        shown = ", ".join(f"{k}={'none' if v is None else limit_text(v)}" for k, v in changes.items()) or "no change"

        def mutate(c: Control) -> None:
            c.risk = RiskLimits.model_validate({**c.risk.model_dump(), **changes})

        return self._done(f"risk limits: {shown}", self._writer.update(mutate))

    def clear_overrides(self) -> PendingWrite:
        self._guard()
        return self._done("clear all overrides", self._writer.replace_overrides({}))

    def send_command(self, kind: CommandType) -> PendingWrite:
        self._guard()
        result, command = self._writer.send_command(kind)
        return self._done(COMMAND_LABELS.get(kind, kind), result, command.id, kind)

    def rollback_to(self, version: str) -> PendingWrite:
        """Return to a kept version (the versions screen; `foresight ctl rollback --to`)."""
        command = Command(id=f"rollback-{uuid.uuid4().hex[:12]}", type="rollback", issued_at=utc_now_iso(), version=version)
        return self._append(command, f"return to version {version}")

    def send_shadow(self, *, aa: bool = False, cycles: int | None = None) -> PendingWrite:
        """A shadow of the code on disk (or, with `aa`, of the running code against itself)."""
        command = Command(id=f"shadow-{uuid.uuid4().hex[:12]}", type="shadow", issued_at=utc_now_iso(), aa=aa, cycles=cycles)
        return self._append(command, "A/A shadow of the running code" if aa else COMMAND_LABELS["shadow"])

    def _append(self, command: Command, label: str) -> PendingWrite:
        self._guard()

        def mutate(c: Control) -> None:
            c.commands = [*c.commands, command]

        return self._done(label, self._writer.update(mutate), command.id, command.type)
