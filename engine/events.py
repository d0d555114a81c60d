"""events.jsonl: the append-only audit log (and the recent tail status.json carries)."""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.contract import Event, utc_now_iso
from engine.fileio import FILE_MODE, write_all

ROTATE_BYTES = 8 * 1024 * 1024
RECENT = 30
UNWRITTEN_KEPT = 5000


class EventLog:
    def __init__(self, path: Path, echo: bool = False) -> None:
        self.path = path
        self.echo = echo
        self.recent: deque[Event] = deque(maxlen=RECENT)
        self.write_error: str | None = None
        self._unwritten: deque[str] = deque(maxlen=UNWRITTEN_KEPT)
        self.listeners: list[Callable[[Event], None]] = []  # called with each event, after it is logged

    def emit(self, kind: str, message: str, /, **detail: Any) -> Event:
        event = Event(at=utc_now_iso(), kind=kind, message=message, detail=detail)
        self.recent.append(event)
        self._unwritten.append(event.model_dump_json() + "\n")
        try:
            self._rotate_if_large()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                write_all(fd, "".join(self._unwritten).encode())
            finally:
                os.close(fd)
            self._unwritten.clear()
            self.write_error = None
        except OSError as exc:
            # The log is an audit trail, not trading state: trading goes on, status says so,
            # and the lines wait in memory (bounded) until the disk takes them again.
            self.write_error = f"cannot append to {self.path.name}: {exc.strerror or exc}"
        if self.echo:
            print(f"{event.at} {kind:<10} {message}", file=sys.stderr, flush=True)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as exc:  # a listener (the alerts) must never cost an event or the engine
                print(f"event listener failed: {exc!r}", file=sys.stderr, flush=True)
        return event

    def _rotate_if_large(self) -> None:
        try:
            if self.path.stat().st_size > ROTATE_BYTES:
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
