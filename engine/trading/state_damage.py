"""What stops the engine from resuming its state, said so an operator can act on it.

The engine resumes only state it can prove complete: `state.json` and the journal
that extends it. Anything else (a damaged journal line, a journal without its
checkpoint, a checkpoint without its journal) is a `Damage`: the engine refuses to
start, naming the file, the line and what to do. With `--accept-loss` it starts
from what it can prove instead, keeps the damaged file aside (never truncated
away) and writes the loss to events.jsonl.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


class StateFileError(RuntimeError):
    """The persisted state cannot be resumed as it is; the message says what to do."""


@dataclass(frozen=True)
class Damage:
    file: Path
    line: int | None  # 1-based; None when the whole file is at fault
    what: str
    lost: str  # what resuming without it loses, for the refusal and the loss event

    @property
    def where(self) -> str:
        return f"{self.file}" + (f" line {self.line}" if self.line is not None else "")

    def refusal(self) -> str:
        return (
            f"refusing to resume: {self.where}: {self.what}; {self.lost}. Restore state.json and state.journal "
            f"from a backup, or start with --accept-loss to resume from what can be proved "
            f"(the loss is written to events.jsonl and {self.file.name} kept aside)"
        )


class JournalDamage(Exception):
    """`damage`, and the state as far as it is proved (the checkpoint and the whole lines before
    the damage: a TradingState), which --accept-loss resumes."""

    def __init__(self, damage: Damage, proved: object = None) -> None:
        super().__init__(damage.refusal())
        self.damage = damage
        self.proved = proved


def set_aside(path: Path) -> Path | None:
    """Move `path` (a file or a link, never followed) aside as NAME.damaged-STAMP; the new name."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for attempt in range(100):
        candidate = target if attempt == 0 else target.with_name(f"{target.name}.{attempt}")
        if not os.path.lexists(candidate):
            try:
                os.rename(path, candidate)
            except FileNotFoundError:
                return None
            return candidate
    raise StateFileError(f"cannot move {path} aside: 100 damaged copies are already there; clean them up")
