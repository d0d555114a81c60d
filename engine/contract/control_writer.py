"""The one way to change control.json: read-modify-write under control.lock.

Used by `foresight ctl`, the TUI and scripts alike, so concurrent operators
never lose each other's change and the generation only moves forward.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.contract.fileio import atomic_write_model, ensure_state_dir, file_lock, read_model
from engine.contract.finite import not_finite
from engine.contract.models import (
    CONTROL_FILE,
    CONTROL_LOCK,
    SCHEMA_VERSION,
    STATUS_FILE,
    Command,
    CommandType,
    Control,
    RiskLimits,
    Status,
    utc_now_iso,
)


def user_name() -> str:
    """Who runs this process: the login name, or the uid where there is no passwd entry (some containers)."""
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid())


def operator_identity(tool: str) -> str:
    return f"{user_name()}@{socket.gethostname()} {tool} pid={os.getpid()}"


def new_command(kind: CommandType) -> Command:
    return Command(id=f"{kind}-{uuid.uuid4().hex[:12]}", type=kind, issued_at=utc_now_iso())


@dataclass(frozen=True)
class WriteResult:
    control: Control
    note: str | None = None  # e.g. the previous file was unreadable and was rebuilt


class ControlWriter:
    """Writes intent for one state directory on behalf of one tool."""

    def __init__(self, state_dir: Path, tool: str = "script") -> None:
        self.state_dir = state_dir
        self.tool = tool

    @property
    def control_path(self) -> Path:
        return self.state_dir / CONTROL_FILE

    def update(self, mutate: Callable[[Control], None]) -> WriteResult:
        """Apply `mutate` to the current intent and write it with the next generation.

        The mutated control is validated as a whole before anything is written, so a
        bad change raises `pydantic.ValidationError` and leaves the file untouched.
        """
        ensure_state_dir(self.state_dir)
        with file_lock(self.state_dir / CONTROL_LOCK):
            # Read as the engine reads it: a file it would refuse (not this user's, writable by
            # others, a link) is never built on, or a write of ours would launder its intent.
            current = read_model(self.control_path, Control, trusted=True)
            status = read_model(self.state_dir / STATUS_FILE, Status).value
            note = None
            ignored = self._ignored_reason(current.value, status, hashlib.sha256(current.data).hexdigest()) if current.value is not None else None
            if current.value is not None and ignored is None:
                base = current.value.model_copy(deep=True)
            elif current.value is not None:
                # The engine does not run what the file says: build on the intent it runs, so a
                # refused, replayed or hand-edited file is never written again under a new
                # generation. Pending commands still travel.
                base = self._rebuild(status)
                base.commands = list(current.value.commands)
                note = f"{ignored}; built on the engine's applied intent"
            else:
                base = self._rebuild(status)
                if not current.missing:
                    note = f"previous control.json was unusable ({current.reason}); rebuilt from the engine's applied intent"
            seen = max(
                current.value.generation if current.value else 0,
                status.control.observed_generation if status else 0,
                status.control.rejected_generation if status else 0,
            )
            if status is not None:
                # Commands already acknowledged need not travel again.
                done = {ack.id for ack in status.control.acks}
                base.commands = [c for c in base.commands if c.id not in done]
            mutate(base)
            # JSON has no NaN: written, it would arrive as null and be refused as a missing number.
            problem = next((p for key, value in base.overrides.items() if (p := not_finite(value, key))), None)
            if problem:
                raise ValueError(f"refused before writing: {problem}")
            base.generation = seen + 1
            base.updated_at = utc_now_iso()
            base.updated_by = operator_identity(self.tool)
            checked = Control.model_validate(base.model_dump())
            try:
                atomic_write_model(self.control_path, checked)
            except IsADirectoryError:
                raise ValueError(
                    f"{self.control_path} is a directory, so no control can be written there: remove it "
                    "(the engine refuses it too), nothing written"
                ) from None
        return WriteResult(checked, note)

    @staticmethod
    def _ignored_reason(control: Control, status: Status | None, digest: str) -> str | None:
        """Why the engine does not run the intent `control` holds, or None when it runs it or may
        still apply it (a newer generation it has not read yet)."""
        if status is None:
            return None
        seen = status.control
        generation = control.generation
        if generation < seen.observed_generation:
            return f"control.json generation {generation} is older than the engine's applied {seen.observed_generation} (a replayed or restored file)"
        if generation == seen.rejected_generation and seen.observed_generation < generation:
            reason = seen.rejected_reason or "; ".join(seen.warnings) or "no reason given"
            return f"generation {generation} had been refused ({reason})"
        applied = seen.applied
        if generation == seen.observed_generation and (
            (seen.applied_digest and digest != seen.applied_digest)  # any field: risk limits, a resume, commands
            or control.paused != applied.paused
            or sorted(control.paused_slots) != sorted(applied.paused_slots)
            or control.overrides != applied.overrides
        ):
            return f"control.json generation {generation} is not what the engine applied at that generation (edited by hand?)"
        return None

    @staticmethod
    def _rebuild(status: Status | None) -> Control:
        control = Control(schema_version=SCHEMA_VERSION, generation=0)
        if status is not None:
            applied = status.control.applied
            control.paused = applied.paused
            control.paused_slots = list(applied.paused_slots)
            control.overrides = dict(applied.overrides)
            # The risk limits in force travel too: a rebuild must never drop them silently.
            control.risk = RiskLimits.model_validate(status.risk.limits)
        return control

    # Convenience verbs, the same vocabulary as `foresight ctl` and the TUI.

    def set_paused(self, paused: bool) -> WriteResult:
        def mutate(c: Control) -> None:
            c.paused = paused

        return self.update(mutate)

    def set_slot_paused(self, slot_id: str, paused: bool) -> WriteResult:
        def mutate(c: Control) -> None:
            slots = set(c.paused_slots)
            (slots.add if paused else slots.discard)(slot_id)
            c.paused_slots = sorted(slots)

        return self.update(mutate)

    def set_overrides(self, values: dict[str, object], unset: tuple[str, ...] = ()) -> WriteResult:
        def mutate(c: Control) -> None:
            merged = dict(c.overrides)
            merged.update(values)  # type: ignore[arg-type]
            for key in unset:
                merged.pop(key, None)
            c.overrides = merged

        return self.update(mutate)

    def replace_overrides(self, values: dict[str, object]) -> WriteResult:
        def mutate(c: Control) -> None:
            c.overrides = dict(values)  # type: ignore[arg-type]

        return self.update(mutate)

    def send_command(self, kind: CommandType) -> tuple[WriteResult, Command]:
        command = new_command(kind)

        def mutate(c: Control) -> None:
            c.commands = [*c.commands, command]

        return self.update(mutate), command


def resume_trip(state_dir: Path, writer: ControlWriter) -> WriteResult | None:
    """Write the resume of the trip status.json shows; None when none is tripped."""
    status = read_model(state_dir / STATUS_FILE, Status).value
    trip = status.risk.tripped if status is not None else None
    if trip is None:
        return None

    def mutate(control: Control) -> None:
        control.risk_resume = trip.id

    return writer.update(mutate)
