"""events.jsonl: the append-only audit log (and the recent tail status.json carries)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine.contract.fileio import open_private, write_all
from engine.contract.models import Event, utc_now_iso

ROTATE_BYTES = 8 * 1024 * 1024
RECENT = 30
UNWRITTEN_KEPT = 5000  # events without money in them, waiting for the disk; trade events all wait
# What the audit log must never miss: each carries money (or its loss).
TRADE_KINDS = frozenset({"entry", "resolution", "loss"})


class EventLog:
    def __init__(self, path: Path, echo: bool = False) -> None:
        self.path = path
        self.echo = echo
        self.recent: deque[Event] = deque(maxlen=RECENT)
        self.write_error: str | None = None
        # Lines waiting for the disk, in order. Trade events are never dropped (a few hundred
        # bytes each, a few a minute); the others are bounded, the oldest dropped and counted.
        self._unwritten: deque[tuple[bool, str]] = deque()
        self._unwritten_other = 0
        self.dropped = 0
        self.listeners: list[Callable[[Event], None]] = []  # called with each event, after it is logged
        self._batching = 0

    def emit(self, kind: str, message: str, /, **detail: Any) -> Event:
        event = Event(at=utc_now_iso(), kind=kind, message=message, detail=detail)
        self.recent.append(event)
        self._hold(kind in TRADE_KINDS, event.model_dump_json() + "\n")
        if not self._batching:
            self.flush()
        if self.echo:
            print(f"{event.at} {kind:<10} {message}", file=sys.stderr, flush=True)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as exc:  # a listener (the alerts) must never cost an event or the engine
                print(f"event listener failed: {exc!r}", file=sys.stderr, flush=True)
        return event

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Events emitted inside reach the file in one append when it ends (a cycle's entries
        and resolutions: one open and write, not one per bet)."""
        self._batching += 1
        try:
            yield
        finally:
            self._batching -= 1
            if not self._batching and self._unwritten:
                self.flush()

    def flush(self) -> bool:
        """Append what waits to the file; False (and `write_error` says why) if it cannot."""
        try:
            self._rotate_if_large()
            fd = open_private(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                write_all(fd, self._pending_bytes())
            finally:
                os.close(fd)
        except OSError as exc:
            # The log is an audit trail, not trading state: trading goes on, status says so,
            # and the lines wait in memory until the disk takes them again.
            self.write_error = f"cannot append to {self.path.name}: {exc.strerror or exc}"
            return False
        self._unwritten.clear()
        self._unwritten_other = 0
        self.dropped = 0
        self.write_error = None
        return True

    def _hold(self, trade: bool, line: str) -> None:
        self._unwritten.append((trade, line))
        if not trade:
            self._unwritten_other += 1
        if self._unwritten_other > UNWRITTEN_KEPT:
            for index, (kept, _) in enumerate(self._unwritten):
                if not kept:
                    del self._unwritten[index]
                    break
            self._unwritten_other -= 1
            self.dropped += 1

    def _pending_bytes(self) -> bytes:
        data = "".join(line for _, line in self._unwritten)
        if self.dropped:
            note = Event(
                at=utc_now_iso(),
                kind="warning",
                message=f"{self.dropped} events without trades in them were dropped while {self.path.name} could not be written",
                detail={"dropped": self.dropped},
            )
            data = note.model_dump_json() + "\n" + data
        return data.encode()

    def _rotate_if_large(self) -> None:
        try:
            if os.stat(self.path, follow_symlinks=False).st_size > ROTATE_BYTES:
                os.replace(self.path, self.path.with_suffix(".jsonl.1"))
        except FileNotFoundError:
            pass


def read_events(path: Path, limit: int = 1000) -> list[dict[str, Any]]:
    """The last `limit` parseable events; a torn last line (crash mid-append) is skipped."""
    try:
        lines = path.read_text(errors="replace").splitlines()[-limit:]
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
