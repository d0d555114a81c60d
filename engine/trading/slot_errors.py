"""Live slot errors leave a record without flooding it: one event when a slot starts
failing, one summary (count, first and last error) when it stops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class _Streak:
    first: str
    last: str
    since_cycle: int
    count: int = 1


@dataclass(frozen=True)
class SlotEvent:
    kind: str  # "error" when a slot starts failing, "recovered" when it stops
    message: str
    detail: dict[str, Any]


class SlotErrorLog:
    def __init__(self) -> None:
        self._open: dict[str, _Streak] = {}

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(self._open)

    def observe(self, errors: list[str], cycle: int, version: str) -> list[SlotEvent]:
        """This cycle's errors ("SLOT: file:line: message"); the events to emit."""
        events: list[SlotEvent] = []
        if not errors and not self._open:
            return events
        now: dict[str, str] = {}
        for line in errors:
            slot, _, text = line.partition(": ")
            now.setdefault(slot, text)
        for slot, text in now.items():
            streak = self._open.get(slot)
            if streak is None:
                self._open[slot] = _Streak(text, text, cycle)
                events.append(
                    SlotEvent("error", f"{slot} failing on {version}: {text}", {"slot": slot, "error": text, "version": version, "cycle": cycle})
                )
            else:
                streak.count += 1
                streak.last = text
        for slot in [s for s in self._open if s not in now]:
            streak = self._open.pop(slot)
            events.append(self._summary(slot, streak, cycle))
        return events

    @staticmethod
    def _summary(slot: str, streak: _Streak, cycle: int) -> SlotEvent:
        same = streak.first == streak.last
        return SlotEvent(
            "recovered",
            f"{slot} stopped failing after {streak.count} cycles" + (f": {streak.first}" if same else f"; first: {streak.first}; last: {streak.last}"),
            {"slot": slot, "count": streak.count, "first_error": streak.first, "last_error": streak.last, "since_cycle": streak.since_cycle, "cycle": cycle},
        )
