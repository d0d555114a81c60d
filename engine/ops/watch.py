"""`foresight watch`: the outside watcher, for what an engine cannot say about itself.

It reads status.json every `--interval` seconds, the way any operator's tool does,
and notifies (engine/ops/notify.py) on each change of the engine's condition:

- STALE: status.json is older than `--stale-after` (default: 3 cycle intervals, at
  least 10 s) while the engine's process still exists (hung, or starved);
- DOWN: the engine's process is gone (checked by pid when status.json names this
  host), or there is no readable status.json at all;
- recovered: an engine writes fresh status again (saying so when it is a new
  process, a restart).

It never writes to the state directory.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from engine.contract.fileio import read_model
from engine.contract.liveness import gone_from_here
from engine.contract.models import STATUS_FILE, Status
from engine.ops.notify import Notifier, Severity

Condition = Literal["UP", "STALE", "DOWN"]
MIN_STALE_S = 10.0
MIN_STALE_LIMIT_S, MAX_STALE_LIMIT_S = 0.1, 86_400.0  # what --stale-after accepts


@dataclass(frozen=True)
class Reading:
    condition: Condition
    detail: str
    boot_id: str | None = None


def read_condition(state_dir: Path, stale_after_s: float | None) -> Reading:
    result = read_model(state_dir / STATUS_FILE, Status)
    status = result.value
    if status is None:
        if not state_dir.is_dir():
            return Reading("DOWN", f"{state_dir} does not exist: no engine has run there yet (is --state-dir right?)")
        return Reading("DOWN", f"no readable {STATUS_FILE} in {state_dir} ({result.reason})")
    engine = status.engine
    age = status.age_s(datetime.now(UTC))
    here = engine.host == socket.gethostname()
    if gone_from_here(engine.host, engine.pid):
        return Reading(
            "DOWN", f"engine pid {engine.pid} is gone; its last status is {age:.0f}s old (cycle {engine.cycle})", engine.boot_id
        )
    limit = stale_after_s if stale_after_s is not None else max(3 * engine.cycle_interval_s, MIN_STALE_S)
    if age > limit:
        alive = f"pid {engine.pid} still exists" if here else f"on {engine.host}, not checked from here"
        return Reading("STALE", f"status.json not written for {age:.0f}s (limit {limit:g}s); engine {alive}", engine.boot_id)
    return Reading("UP", f"engine pid {engine.pid} at cycle {engine.cycle}, {engine.state}", engine.boot_id)


class Watcher:
    """Owns the notifier and the last condition seen; `check` once per interval."""

    def __init__(self, state_dir: Path, notifier: Notifier | None, stale_after_s: float | None = None) -> None:
        self.state_dir = state_dir
        self.notifier = notifier
        self.stale_after_s = stale_after_s
        self.last: Reading | None = None
        self.where = f"{socket.gethostname()}:{state_dir}"

    def check(self) -> Reading:
        now = read_condition(self.state_dir, self.stale_after_s)
        before = self.last
        self.last = now
        if before is None:
            if now.condition != "UP":
                self._tell(now.condition, now.detail, "failure")
            else:
                print(f"foresight watch: {now.detail}", file=sys.stderr, flush=True)
        elif now.condition != before.condition:
            if now.condition == "UP":
                restarted = before.boot_id is not None and now.boot_id != before.boot_id
                self._tell("recovered", f"{now.detail}{' (a new engine process: restarted)' if restarted else ''}; was {before.condition}", "success")
            else:
                self._tell(now.condition, now.detail, "failure")
        elif now.condition == "UP" and before.boot_id is not None and now.boot_id != before.boot_id:
            # Not a change of condition (restarted between two looks): held back when it repeats.
            self._tell("restarted", f"{now.detail} (a new engine process since the last check)", "warning", repeat_key="watch:restarted")
        return now

    def _tell(self, what: str, detail: str, severity: Severity, repeat_key: str | None = None) -> None:
        """Each change of condition is sent, never held back as a repeat: the last notification
        must say how the engine is now (a second DOWN after a recovery is news, and so is the
        recovery after it). A crash loop is bounded by its supervisor (systemd's start limit)."""
        print(f"foresight watch: {what}: {detail}", file=sys.stderr, flush=True)
        if self.notifier is not None:
            self.notifier.send(f"foresight engine {what}", f"{detail}\n({self.where})", severity, key=repeat_key)


def run_watch(state_dir: Path, urls: tuple[str, ...], interval_s: float, stale_after_s: float | None) -> int:
    if not 0.05 <= interval_s <= 3600:
        print("foresight watch: --interval must be between 0.05 and 3600 seconds", file=sys.stderr)
        return 2
    if stale_after_s is not None and not MIN_STALE_LIMIT_S <= stale_after_s <= MAX_STALE_LIMIT_S:
        # Zero or less would call every look STALE; nan or inf none, a watcher blind to a hung engine.
        print(
            f"foresight watch: --stale-after {stale_after_s:g}: expected seconds between {MIN_STALE_LIMIT_S:g} and "
            f"{MAX_STALE_LIMIT_S:g} (default: 3 cycle intervals, at least {MIN_STALE_S:g})",
            file=sys.stderr,
        )
        return 2
    try:
        notifier = Notifier(urls) if urls else None
    except ValueError as exc:
        print(f"foresight watch: {exc}", file=sys.stderr)
        return 2
    if notifier is None:
        print("foresight watch: no --notify URL (or $FORESIGHT_NOTIFY): conditions are only printed", file=sys.stderr)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    watcher = Watcher(state_dir, notifier, stale_after_s)
    while not stop.is_set():
        watcher.check()
        stop.wait(interval_s)
    if notifier is not None:
        notifier.close()
    return 0
