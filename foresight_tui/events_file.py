"""events.jsonl read for people: the whole tail, then only what was appended (no Textual here)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.contract.models import EVENTS_FILE, Event

TAIL_BYTES = 4 * 1024 * 1024  # what the events screen reads back at most when it opens


@dataclass(frozen=True)
class EventQuery:
    """`kind:reload slot:BTC-5m some words`: every part must match, case-insensitively."""

    kind: str = ""
    slot: str = ""
    text: str = ""

    @classmethod
    def parse(cls, line: str) -> EventQuery:
        kind = slot = ""
        words = []
        for word in line.split():
            key, sep, value = word.partition(":")
            if sep and key.lower() == "kind":
                kind = value.lower()
            elif sep and key.lower() == "slot":
                slot = value.lower()
            else:
                words.append(word.lower())
        return cls(kind, slot, " ".join(words))

    def matches(self, event: Event) -> bool:
        if self.kind and self.kind not in event.kind.lower():
            return False
        if self.slot:
            slot = str(event.detail.get("slot", "")).lower()
            if self.slot not in slot and self.slot not in event.message.lower():
                return False
        return not self.text or self.text in f"{event.kind} {event.message}".lower()


def display_kind(event: Event) -> str:
    """The engine logs an automatic rollback as kind "reload": show what it was."""
    detail_kind = event.detail.get("kind")
    if event.kind == "reload" and detail_kind == "auto_rollback":
        return "rolled-back"
    if event.kind in ("reload", "check") and event.detail.get("ok") is False:
        return "check-failed" if event.kind == "check" else "refused"
    return event.kind


class EventsFile:
    """Follows events.jsonl: `read_new` returns the events appended since the last call."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / EVENTS_FILE
        self._offset = 0
        self._inode: int | None = None

    def read_new(self) -> list[Event]:
        try:
            with self.path.open("rb") as handle:
                stat = handle.seek(0, 2)
                inode = self.path.stat().st_ino
                if inode != self._inode or stat < self._offset:  # rotated or truncated: start over
                    self._inode, self._offset = inode, max(0, stat - TAIL_BYTES)
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being appended waits for the next call
        self._offset += end
        events = []
        for line in data[:end].splitlines():
            try:
                events.append(Event.model_validate(json.loads(line)))
            except (ValueError, TypeError):
                continue
        return events
