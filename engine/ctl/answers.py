"""How `foresight ctl` hears the engine's answer: exit codes, the status it reads, the waits.

Shared by the verb modules (engine/ctl/verbs.py and the verbs of risk, shadow and
versions), so none of them imports another's helpers.
"""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from engine.contract.control_writer import WriteResult
from engine.contract.fileio import read_model
from engine.contract.liveness import gone_from_here, lock_holder
from engine.contract.models import STATUS_FILE, Status

EXIT_APPLIED, EXIT_REFUSED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3
# A status this old from another host (where its pid cannot be probed) means no engine answers.
SILENT_ENGINE_S = 30.0


@dataclass(frozen=True)
class Verdict:
    code: int
    message: str


class NoEngine(Exception):
    """Nothing would act on a write: said before writing anything."""


def read_status(state_dir: Path) -> Status | None:
    return read_model(state_dir / STATUS_FILE, Status).value


def unreadable_status(state_dir: Path) -> str:
    """Why there is no status to read in `state_dir`, and what to do about it."""
    result = read_model(state_dir / STATUS_FILE, Status)
    start = f"foresight engine --state-dir {state_dir}"
    holder = lock_holder(state_dir)
    if result.missing and holder is not None:
        return f"no {STATUS_FILE} in {state_dir} though the engine (pid {holder}) holds the directory: it writes one every cycle, so retry"
    if result.missing:
        return f"no engine has run in {state_dir} (no {STATUS_FILE}); start one ({start})"
    if holder is None:
        return f"{STATUS_FILE} in {state_dir} is unreadable ({result.reason}) and no engine runs there; start one ({start}): it rewrites {STATUS_FILE}"
    return f"{STATUS_FILE} in {state_dir} is unreadable ({result.reason}) though the engine (pid {holder}) holds the directory: it rewrites the file every cycle, so retry, and see its events.jsonl if this persists"




def engine_absent(state_dir: Path) -> str | None:
    """Why no engine would act on a write to `state_dir` now, or None when one runs there."""
    result = read_model(state_dir / STATUS_FILE, Status)
    status = result.value
    if status is None:
        if lock_holder(state_dir) is not None:
            return None  # the engine that holds the directory writes it every cycle (deleted, or not yet written)
        if result.missing:
            return f"no engine has run in {state_dir} (no {STATUS_FILE})"
        return f"{STATUS_FILE} in {state_dir} is unreadable ({result.reason}) and no engine runs there (engine.lock names no live process)"
    e = status.engine
    if gone_from_here(e.host, e.pid):
        if e.stopped_at:
            return f"the engine stopped at {e.stopped_at}"
        return f"the engine that ran in {state_dir} (pid {e.pid}) has stopped; its last status is {status.age_s():.0f}s old"
    if e.host != socket.gethostname() and status.age_s() > SILENT_ENGINE_S:
        return f"the engine on {e.host} (pid {e.pid}) has written no status for {status.age_s():.0f}s"
    return None


class Lookout:
    """While ctl waits on an engine: whether it is still there to answer, looked at twice a
    second (a process that died, or exited for its supervisor, never will)."""

    EVERY_S = 0.5

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._next = time.monotonic() + self.EVERY_S

    def gone(self, what: str) -> Verdict | None:
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self.EVERY_S
        why = engine_absent(self.state_dir)
        if why is None:
            return None
        return Verdict(
            EXIT_TIMEOUT,
            f"the engine went away while ctl waited for {what}: {why}. The change stays in control.json and applies "
            f"when an engine starts there (foresight engine --state-dir {self.state_dir}); see its events.jsonl for why it stopped",
        )


def wait_for_generation(state_dir: Path, generation: int, timeout: float) -> Verdict:
    deadline = time.monotonic() + timeout
    lookout = Lookout(state_dir)
    while time.monotonic() < deadline:
        status = read_status(state_dir)
        if status is not None:
            if status.control.observed_generation >= generation:
                return Verdict(EXIT_APPLIED, f"applied: generation {generation} observed at cycle {status.engine.cycle}")
            if status.control.rejected_generation >= generation:
                reasons = status.control.rejected_reason or "; ".join(status.control.warnings) or "no reason given"
                return Verdict(EXIT_REFUSED, f"refused: generation {generation}: {reasons}")
        if (gone := lookout.gone(f"generation {generation}")) is not None:
            return gone
        time.sleep(0.02)
    return Verdict(EXIT_TIMEOUT, timeout_message(state_dir, f"generation {generation}", timeout))


def timeout_message(state_dir: Path, what: str, timeout: float) -> str:
    status = read_status(state_dir)
    if status is None:
        hint = unreadable_status(state_dir)
    elif status.engine.stopped_at:
        hint = f"the engine stopped at {status.engine.stopped_at}; start it (foresight engine --state-dir {state_dir})"
    else:
        hint = f"last status is {status.age_s():.1f}s old (engine pid {status.engine.pid} on {status.engine.host})"
    return f"timeout: {what} not acknowledged within {timeout:g}s; {hint}. The change stays in control.json and applies when the engine reads it."


def no_engine(state_dir: Path, why: str) -> int:
    """A write refused because no engine would act on it, said before anything is written."""
    print(
        f"foresight ctl: {why}; start it (foresight engine --state-dir {state_dir}), "
        "or add --queue to leave the change for the next engine that starts there: nothing written.",
        file=sys.stderr,
    )
    return EXIT_TIMEOUT


def follow(state_dir: Path, result: WriteResult, *, queue: bool, timeout: float) -> int:
    """A change written: queued for the next engine, or followed to the engine's answer."""
    note(result)
    if queue and engine_absent(state_dir) is not None:
        print(f"queued: control generation {result.control.generation}; the next engine started in {state_dir} applies it")
        return EXIT_APPLIED
    print(f"wrote control generation {result.control.generation}; waiting for the engine...", file=sys.stderr)
    return finish(wait_for_generation(state_dir, result.control.generation, timeout))


def note(result: WriteResult) -> None:
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)


def finish(verdict: Verdict) -> int:
    print(verdict.message, file=sys.stdout if verdict.code == EXIT_APPLIED else sys.stderr)
    return verdict.code
