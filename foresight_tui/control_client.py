"""Every write the TUI makes, through the project's ControlWriter (no Textual here).

Each method returns the `PendingWrite` to follow until the engine applies or
refuses it. A read-only client refuses before touching the disk, whatever the
caller's UI allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.contract.control_writer import ControlWriter, WriteResult
from engine.contract.models import CommandType
from foresight_tui.data_source import PendingWrite

COMMAND_LABELS: dict[str, str] = {
    "reload": "reload strategy code",
    "check": "check the code on disk",
    "rollback": "roll back to the previous code",
}


class ReadOnlyError(RuntimeError):
    pass


class ControlClient:
    def __init__(self, state_dir: Path, *, read_only: bool = False, tool: str = "foresight-tui") -> None:
        self.read_only = read_only
        self._writer = ControlWriter(state_dir, tool=tool)
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
        return self._done(label, self._writer.set_paused(paused))

    def set_slot_paused(self, slot_id: str, paused: bool) -> PendingWrite:
        self._guard()
        label = f"{'pause' if paused else 'resume'} {slot_id}"
        return self._done(label, self._writer.set_slot_paused(slot_id, paused))

    def set_overrides(self, values: dict[str, Any], unset: tuple[str, ...] = ()) -> PendingWrite:
        self._guard()
        parts = [f"{k}={v!r}" for k, v in values.items()] + [f"{k}=default" for k in unset]
        label = "override " + ", ".join(parts) if parts else "overrides (no change)"
        return self._done(label, self._writer.set_overrides(values, unset))

    def clear_overrides(self) -> PendingWrite:
        self._guard()
        return self._done("clear all overrides", self._writer.replace_overrides({}))

    def send_command(self, kind: CommandType) -> PendingWrite:
        self._guard()
        result, command = self._writer.send_command(kind)
        return self._done(COMMAND_LABELS.get(kind, kind), result, command.id, kind)
