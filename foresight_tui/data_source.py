"""Reads status.json defensively and derives what the operator sees (no Textual here).

The source keeps the last good status: a missing, torn, corrupt or
unknown-version file never blanks the screen, it only adds a `problem` saying why
the newest file was refused. Everything time-dependent takes `now` from an
injectable clock, so tests and snapshots are stable.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from engine.contract.fileio import read_model
from engine.contract.liveness import pid_alive
from engine.contract.models import CONTROL_FILE, STATUS_FILE, Control, Status

Clock = Callable[[], datetime]
PidAlive = Callable[[int], bool]


def system_clock() -> datetime:
    return datetime.now(UTC)




class EngineState(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STALE = "STALE"
    DOWN = "DOWN"
    WAITING = "WAITING FOR ENGINE"


@dataclass(frozen=True)
class View:
    """What the header shows, recomputed on every status and every clock tick."""

    state: EngineState
    status: Status | None
    age_s: float | None
    uptime_s: float | None
    problem: str | None
    control_generation: int
    exited: str | None = None  # the engine this TUI started (the demo's) exited before any status: why

    @property
    def observed_generation(self) -> int:
        return self.status.control.observed_generation if self.status else 0

    @property
    def pending(self) -> bool:
        """A control generation the engine has neither applied nor refused yet."""
        if self.status is None:
            return self.control_generation > 0
        control = self.status.control
        return self.control_generation > max(control.observed_generation, control.rejected_generation)


def engine_state(status: Status | None, now: datetime, alive: PidAlive, this_host: str) -> EngineState:
    if status is None:
        return EngineState.WAITING
    if status.engine.host == this_host and not alive(status.engine.pid):
        return EngineState.DOWN
    if status.is_stale(now):
        return EngineState.STALE
    return EngineState.PAUSED if status.engine.state == "paused" else EngineState.RUNNING


@dataclass(frozen=True)
class LoadResult:
    """The outcome of one read of status.json."""

    changed: bool  # a new good status replaced the last one
    restarted: bool  # ... and it comes from a new engine boot
    problem: str | None


class StatusSource:
    """The TUI's only view of the state directory, for reading."""

    def __init__(
        self,
        state_dir: Path,
        *,
        clock: Clock = system_clock,
        alive: PidAlive = pid_alive,
        this_host: str | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.clock = clock
        self.alive = alive
        self.this_host = this_host if this_host is not None else socket.gethostname()
        self.status: Status | None = None
        self.problem: str | None = None
        self.exited: str | None = None  # set by the app when the engine it started has exited
        self.control_generation = 0
        self._stamp: tuple[int, int, int] | None = None
        self._control_stamp: tuple[int, int, int] | None = None

    @property
    def status_path(self) -> Path:
        return self.state_dir / STATUS_FILE

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.status_path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def file_changed(self) -> bool:
        """Cheap check (one stat) whether status.json differs from the last read."""
        return self._file_stamp() != self._stamp

    def load(self) -> LoadResult:
        self._stamp = self._file_stamp()
        self._read_control_generation()
        result = read_model(self.status_path, Status)
        if result.value is None:
            if result.missing and self.status is None:
                self.problem = None  # nothing to complain about: the engine has not started
            else:
                self.problem = result.reason
            return LoadResult(False, False, self.problem)
        new = result.value
        previous = self.status
        self.problem = None
        if previous is not None and new == previous:
            return LoadResult(False, False, None)
        restarted = previous is not None and previous.engine.boot_id != new.engine.boot_id
        self.status = new
        return LoadResult(True, restarted, None)

    def note_written(self, generation: int) -> None:
        """Our own write: pending at once, without waiting for the next status."""
        self.control_generation = max(self.control_generation, generation)

    def _read_control_generation(self) -> None:
        # control.json changes far less often than status.json: parse it only when it was replaced.
        try:
            st = os.stat(self.state_dir / CONTROL_FILE)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp is not None and stamp == self._control_stamp:
            return
        self._control_stamp = stamp
        control = read_model(self.state_dir / CONTROL_FILE, Control).value
        if control is not None:
            self.control_generation = control.generation

    def view(self) -> View:
        now = self.clock()
        status = self.status
        age = uptime = None
        state = engine_state(status, now, self.alive, self.this_host)
        if status is None and self.exited is not None:
            state = EngineState.DOWN  # not waiting: the engine that was to write it is gone
        if status is not None:
            age = max(0.0, status.age_s(now))
            # A stopped or silent engine's uptime ends at its last status, not at our clock.
            until = now if state in (EngineState.RUNNING, EngineState.PAUSED) else now - timedelta(seconds=age)
            try:
                uptime = max(0.0, (until - datetime.fromisoformat(status.engine.started_at)).total_seconds())
            except ValueError:
                uptime = None
        return View(
            state=state,
            status=status,
            age_s=age,
            uptime_s=uptime,
            problem=self.problem,
            control_generation=self.control_generation,
            exited=self.exited,
        )


# ------------------------------------------------------------------ pending writes


@dataclass(frozen=True)
class PendingWrite:
    """One write of ours, shown as pending until the engine applies or refuses it."""

    label: str
    generation: int
    command_id: str | None = None
    kind: str | None = None  # the command's type (reload, check, rollback), None for intent


OUTCOME_TITLES = {
    "applied": "Applied",
    "refused": "Refused",
    "rolled back": "Rolled back",
    "check passed": "Check passed",
    "check failed": "Check failed",
}


@dataclass(frozen=True)
class Outcome:
    write: PendingWrite
    result: str  # a key of OUTCOME_TITLES: the engine's answer in the operator's words
    detail: str = ""
    running: str | None = None  # the code version the status that settled it says runs

    @property
    def ok(self) -> bool:
        return self.result in ("applied", "check passed")

    @property
    def title(self) -> str:
        return OUTCOME_TITLES.get(self.result, self.result)

    @property
    def severity(self) -> str:
        return "information" if self.ok else "error"

    @property
    def event_kind(self) -> str:
        return self.result.replace(" ", "-")

    @property
    def text(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        text = f"{self.write.label}: {self.result}{detail}"
        # An ack read back after a restart can name a version that no longer runs: say which does.
        if self.write.kind in ("reload", "rollback") and self.running and self.running not in self.detail:
            text += f" (running now: {self.running})"
        return text


def resolve(write: PendingWrite, status: Status) -> Outcome | None:
    """The fate of `write` according to `status`, or None while it is still pending."""
    control = status.control
    if write.command_id is not None:
        for ack in control.acks:
            if ack.id == write.command_id:
                return Outcome(write, ack.outcome, ack.detail, status.code.version)
    # A later file that contained this write (writers read-modify-write) and was
    # refused whole also refuses this one if the engine never applied it.
    refused = control.rejected_generation == write.generation or (
        control.rejected_generation > write.generation > control.observed_generation
    )
    if refused:
        return Outcome(write, "refused", "; ".join(control.warnings) or "refused by the engine")
    if write.command_id is None and control.observed_generation >= write.generation:
        return Outcome(write, "applied")
    return None


@dataclass
class PendingTracker:
    writes: list[PendingWrite] = field(default_factory=list)

    def add(self, write: PendingWrite) -> None:
        self.writes.append(write)

    def settle(self, status: Status) -> list[Outcome]:
        outcomes = []
        still = []
        for write in self.writes:
            outcome = resolve(write, status)
            if outcome is None:
                still.append(write)
            else:
                outcomes.append(outcome)
        self.writes = still
        return outcomes

    def __len__(self) -> int:
        return len(self.writes)
