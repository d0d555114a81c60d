"""Reading control.json at a cycle boundary: new intent, or a reason it was refused.

Refusal is whole: a file with one bad field changes nothing, the engine keeps
the last good intent and says why (status `control.warnings`, `events.jsonl`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from engine.contract.fileio import describe_validation_error, read_bytes
from engine.contract.models import CONTROL_FILE, MAX_FILE_BYTES, Command, Control
from engine.strategy_api.params import OverrideError, validate_overrides


@dataclass(frozen=True)
class Intake:
    """What one look at control.json found."""

    kind: str  # "none" (missing/unchanged), "new", "refused"
    control: Control | None = None
    params: BaseModel | None = None
    new_commands: tuple[Command, ...] = ()
    warnings: tuple[str, ...] = ()
    generation: int | None = None
    digest: str = ""  # sha256 of the file's bytes, for a "new" intake


@dataclass
class ControlIntake:
    state_dir: Path
    slot_ids: frozenset[str]
    applied_digest: str = ""  # of the file whose intent is in force (kept in state.json across restarts)
    _last_digest: str | None = field(default=None, init=False)
    _last_refusal: Intake | None = field(default=None, init=False)

    @property
    def path(self) -> Path:
        return self.state_dir / CONTROL_FILE

    def read(self, last_generation: int, params_model: type[BaseModel], is_handled: Callable[[str], bool]) -> Intake:
        data, reason = self._trusted_bytes()
        if data is None:
            if reason and not reason.endswith("does not exist"):
                if reason == self._last_digest and self._last_refusal is not None:
                    return self._last_refusal  # the same trouble as last cycle: said once
                return self._refuse(reason, reason, None)
            self._last_digest = None
            return Intake("none")
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._last_digest:
            # Same bytes as last cycle: nothing new, and a refusal stays in force without repeating itself.
            return self._last_refusal or Intake("none")
        self._last_digest = digest
        self._last_refusal = None
        try:
            control = Control.model_validate_json(data)
        except ValidationError as exc:
            return self._refuse(digest, describe_validation_error(exc, CONTROL_FILE), None)
        if control.generation < last_generation:
            return self._refuse(
                digest,
                f"control.json generation {control.generation} is older than the applied {last_generation}; ignored",
                control.generation,
            )
        if control.generation == last_generation:
            if self.applied_digest and digest != self.applied_digest:
                return self._refuse(
                    digest,
                    f"control.json changed without a new generation (still {control.generation}); ignored: "
                    f"write it with foresight ctl (or raise its generation)",
                    control.generation,
                )
            return Intake("none")
        unknown = sorted(set(control.paused_slots) - self.slot_ids)
        if unknown:
            return self._refuse(digest, f"paused_slots names unknown slot {unknown[0]!r}; control refused", control.generation)
        try:
            params = validate_overrides(params_model, dict(control.overrides))
        except OverrideError as exc:
            return self._refuse(digest, str(exc), control.generation)
        fresh = tuple(c for c in control.commands if not is_handled(c.id))
        self.applied_digest = digest
        return Intake("new", control=control, params=params, new_commands=fresh, generation=control.generation, digest=digest)

    def peek(self, last_generation: int) -> Control | None:
        """A control.json newer than `last_generation`, if it is well-formed and may be trusted.

        Changes nothing: the next boundary's `read` still decides, and reports any refusal.
        """
        data, _reason = self._trusted_bytes()
        if data is None:
            return None
        try:
            control = Control.model_validate_json(data)
        except ValidationError:
            return None
        return control if control.generation > last_generation else None

    def _trusted_bytes(self) -> tuple[bytes | None, str | None]:
        """control.json's bytes, or why not: not there, unreadable, or not to be trusted (the
        same checks `ControlWriter` makes before it builds on the file)."""
        return read_bytes(self.path, MAX_FILE_BYTES, trusted=True)

    def _refuse(self, digest: str, reason: str, generation: int | None) -> Intake:
        intake = Intake("refused", warnings=(reason,), generation=generation)
        self._last_digest = digest
        self._last_refusal = Intake("refused-again", warnings=(reason,), generation=generation)
        return intake
