"""A remote write applied to the local intent as the change it made, never as a whole file.

A remote operator edits the copy of control.json the bridge published (revision
N-1) into revision N. Applying only what changed from N-1 to N onto the local
file, under the same lock the TUI takes, keeps a change a local operator made
meanwhile: nothing is overwritten that the remote operator did not touch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.contract.models import Command, Control

# Bookkeeping of the file, never the operator's intent.
_NOT_INTENT = {"schema_version", "generation", "updated_at", "updated_by"}


@dataclass
class Change:
    paused: bool | None = None
    slots_paused: set[str] = field(default_factory=set)
    slots_resumed: set[str] = field(default_factory=set)
    overrides_set: dict[str, object] = field(default_factory=dict)
    overrides_unset: set[str] = field(default_factory=set)
    commands: list[Command] = field(default_factory=list)
    replaced: dict[str, object] = field(default_factory=dict)  # any other field, whole

    def empty(self) -> bool:
        return not (self.paused is not None or self.slots_paused or self.slots_resumed or self.overrides_set
                    or self.overrides_unset or self.commands or self.replaced)  # fmt: skip

    def describe(self) -> str:
        parts: list[str] = []
        if self.paused is not None:
            parts.append("pause" if self.paused else "resume")
        parts += [f"pause {s}" for s in sorted(self.slots_paused)] + [f"resume {s}" for s in sorted(self.slots_resumed)]
        parts += [f"{k}={v!r}" for k, v in self.overrides_set.items()] + [f"{k}=default" for k in sorted(self.overrides_unset)]
        parts += [f"{c.type} {c.id}" for c in self.commands]  # type: ignore[attr-defined]
        parts += [f"{k} changed" for k in self.replaced]
        return ", ".join(parts) or "no change"


def change_between(base: Control | None, new: Control) -> Change:
    base = base or Control(schema_version=new.schema_version, generation=0)
    change = Change()
    if new.paused != base.paused:
        change.paused = new.paused
    change.slots_paused = set(new.paused_slots) - set(base.paused_slots)
    change.slots_resumed = set(base.paused_slots) - set(new.paused_slots)
    change.overrides_set = {k: v for k, v in new.overrides.items() if k not in base.overrides or base.overrides[k] != v}
    change.overrides_unset = set(base.overrides) - set(new.overrides)
    known = {c.id for c in base.commands}
    change.commands = [c for c in new.commands if c.id not in known]
    for name in Control.model_fields:
        if name in _NOT_INTENT or name in ("paused", "paused_slots", "overrides", "commands"):
            continue
        if getattr(new, name) != getattr(base, name):
            change.replaced[name] = getattr(new, name)
    return change


def apply_change(change: Change, local: Control) -> None:
    """Mutates `local` (inside ControlWriter.update) by exactly `change`."""
    if change.paused is not None:
        local.paused = change.paused
    local.paused_slots = sorted((set(local.paused_slots) | change.slots_paused) - change.slots_resumed)
    overrides = dict(local.overrides)
    overrides.update(change.overrides_set)  # type: ignore[arg-type]
    for key in change.overrides_unset:
        overrides.pop(key, None)
    local.overrides = overrides
    ids = {c.id for c in local.commands}
    local.commands = [*local.commands, *(c for c in change.commands if c.id not in ids)]
    for name, value in change.replaced.items():
        setattr(local, name, value.model_copy(deep=True) if hasattr(value, "model_copy") else value)
