"""Persistence failures, loud once and counted: one warning when writes start failing, a
count of every failure since, and a summary when a checkpoint is written again.

A failing disk fails every cycle, and often in more than one way (state.json and
status.json in turn); a warning a cycle would bury the audit log and the first cause.
"""

from __future__ import annotations

from collections import Counter

from engine.events import EventLog


class DiskTrouble:
    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.failures: Counter[str] = Counter()

    def failed(self, message: str) -> None:
        if not self.failures:
            self.events.emit("warning", message + " (further write failures are counted, not repeated)")
        self.failures[message] += 1

    def recovered(self) -> str:
        """What the episode cost, for the event that says persistence caught up; clears it."""
        total = sum(self.failures.values())
        detail = "; ".join(f"{count} x {message}" for message, count in self.failures.most_common())
        self.failures.clear()
        return f"state.json written again; persistence caught up after {total} failed write(s): {detail}"

    @property
    def count(self) -> int:
        return sum(self.failures.values())
