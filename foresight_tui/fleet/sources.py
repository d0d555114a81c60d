"""Where the fleet's engines come from: several local state directories, or a NATS server.

Both give rows, pause or resume one engine (and report its own answer), and a
state directory to open Mission Control on: the engine's own directory, or a
mirror of the remote engine fed from NATS (engine/contract/fleet/mirror.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from nats.aio.client import Client
from nats.js.kv import KeyValue
from pydantic import ValidationError

from engine.contract.control_writer import ControlWriter, operator_identity
from engine.contract.fileio import read_model
from engine.contract.fleet import keys, kv_watch
from engine.contract.fleet.connect import Buckets, connect, open_buckets
from engine.contract.fleet.envelope import Presence
from engine.contract.fleet.mirror import Mirror
from engine.contract.fleet.options import NatsOptions
from engine.contract.fleet.remote_write import RemoteWriter
from engine.contract.liveness import pid_alive
from engine.contract.models import STATUS_FILE
from foresight_tui.fleet.rows import FleetRow, Liveness, StatusCells, offline_after_s, row_for, status_cells
from foresight_tui.fleet.summary import StatusSummary

Opened = tuple[Path, Callable[[], Awaitable[None]]]  # the directory to show, and how to let it go
WAIT_S = 10.0
STOP_WAIT_S = 3.0
# A watch the server dropped without a word gives nothing, as a quiet fleet would. Engines
# write every cycle and bridges beat every few seconds, so a watch quiet for longer than two
# of those is opened again (which also brings every key's last value); nats-py's own check
# (two missed idle heartbeats) takes 10-20 s, long enough to show every row stale, then
# "bridge gone". An engine really silent still ages in its row: a new watch brings back its
# last status, not a newer one.
QUIET_CYCLES = 2
QUIET_MIN_S = 1.0
NOTHING_EXPECTED_S = 10.0  # no engine known yet: still look again, for a watch dropped before the first one


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def settled(status: StatusSummary | None, generation: int) -> str | None:
    """The engine's answer to our `generation`, or None while it has not read it."""
    if status is None:
        return None
    control = status.control
    if control.observed_generation >= generation:
        return f"{'paused' if status.engine.state == 'paused' else 'running'} at cycle {status.engine.cycle}"
    if control.rejected_generation >= generation:
        return "refused: " + (control.rejected_reason or "; ".join(control.warnings) or "no reason given")
    return None


class LocalFleet:
    """Several engines on this host, one state directory each; no NATS."""

    def __init__(self, directories: list[Path], *, read_only: bool = False) -> None:
        self.read_only = read_only
        self.directories: dict[str, Path] = {}
        for directory in directories:
            name = directory.name or str(directory)
            if name in self.directories:
                name = f"{directory.parent.name}/{name}"
            self.directories[name] = directory
        self.title = f"{len(self.directories)} state directories on {socket.gethostname()}"
        self.problem: str | None = None
        self.this_host = socket.gethostname()

    async def start(self, on_change: Callable[[], None]) -> None:
        async def look() -> None:
            while True:  # a stat-free look: reading a few status files four times a second is cheap
                on_change()
                await asyncio.sleep(0.25)

        self._task = asyncio.create_task(look())

    async def stop(self) -> None:
        task = getattr(self, "_task", None)
        if task is not None:
            task.cancel()

    def status(self, name: str) -> StatusSummary | None:
        return read_model(self.directories[name] / STATUS_FILE, StatusSummary).value

    def rows(self) -> list[FleetRow]:
        rows = []
        for name in self.directories:
            status = self.status(name)
            alive = pid_alive(status.engine.pid) if status is not None and status.engine.host == self.this_host else None
            rows.append(row_for(name, status, Liveness(process_alive=alive)))
        return rows

    async def set_paused(self, name: str, paused: bool) -> str:
        writer = ControlWriter(self.directories[name], tool="foresight-tui fleet")
        result = await asyncio.to_thread(writer.set_paused, paused)
        return await self._answer(lambda: self.status(name), result.control.generation)

    async def _answer(self, read: Callable[[], StatusSummary | None], generation: int) -> str:
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while asyncio.get_running_loop().time() < deadline:
            answer = settled(read(), generation)
            if answer is not None:
                return answer
            await asyncio.sleep(0.02)
        return f"no answer within {WAIT_S:g}s (generation {generation} waits in control.json)"

    async def open(self, name: str) -> Opened:
        async def nothing() -> None:
            return None

        return self.directories[name], nothing


class NatsFleet:
    """Every engine whose bridge publishes to one NATS server."""

    def __init__(self, options: NatsOptions, *, read_only: bool = False) -> None:
        self.options = options
        self.read_only = read_only
        self.title = f"NATS {options.safe_url()}"
        self.statuses: dict[str, StatusSummary] = {}
        self._cells: dict[str, StatusCells] = {}  # status_cells of each status above
        self.presences: dict[str, Presence] = {}
        self.problem: str | None = None
        self.link_down_since: str | None = None
        self.gaps: list[tuple[str, str]] = []  # (from, to) of our link's outages, newest last
        self.updates = 0  # statuses received, for the benchmarks
        self._new_status = asyncio.Event()  # set at each status received: a pause's answer is read at once
        self.refused: str | None = None  # the server's last permission violation (a read-only credential writing)
        self._nc: Client | None = None
        self.buckets: Buckets | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._on_change: Callable[[], None] = lambda: None
        self._epoch = 0  # +1 on each reconnect: every watch starts again (a watch may not survive one)
        self._heard: dict[str, float] = {}  # each watch: when it opened or last gave an entry (monotonic)
        self.renewals = 0  # watches opened again because they were quiet for longer than the fleet allows

    async def start(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self._tasks.append(asyncio.create_task(self._run()))

    async def _run(self) -> None:
        while self._nc is None:
            try:
                self._nc = nc = await connect(self.options, on_disconnected=self._down, on_reconnected=self._up, on_refused=self._refused)
                self.buckets = await open_buckets(nc.jetstream(), create=False)
                self.problem = None
            except Exception as exc:
                if self._nc is not None:
                    await self._nc.close()
                    self._nc = None
                self.problem = f"NATS at {self.options.safe_url()}: {type(exc).__name__}: {exc or 'no answer'}; retrying"
                self._on_change()
                await asyncio.sleep(2.0)
        self._tasks.append(asyncio.create_task(self._watch("status")))
        self._tasks.append(asyncio.create_task(self._watch("presence")))
        self._on_change()

    def _refused(self, text: str) -> None:
        self.refused = text

    async def _down(self) -> None:
        if self.link_down_since is None:
            self.link_down_since = _now_iso()
            self.problem = f"lost NATS at {self.options.safe_url()} at {self.link_down_since[11:19]}; reconnecting (rows age meanwhile)"
            self._on_change()

    async def _up(self) -> None:
        if self.link_down_since is not None:
            self.gaps.append((self.link_down_since, _now_iso()))
        self.link_down_since = None
        self.problem = None
        self._epoch += 1
        self._on_change()

    async def _watch(self, which: str) -> None:
        assert self.buckets is not None
        bucket = self.buckets.status if which == "status" else self.buckets.presence
        epoch = self._epoch

        async def watch() -> KeyValue.KeyWatcher:
            nonlocal epoch
            epoch = self._epoch  # before the watch opens: a reconnect meanwhile asks for another
            return await bucket.watchall()

        def renew() -> bool:
            return epoch != self._epoch or self._too_quiet(which)

        await kv_watch.follow(watch, lambda entry: self._take(which, entry), renew=renew, on_open=lambda: self._hear(which))

    def _hear(self, which: str) -> None:
        self._heard[which] = time.monotonic()

    def quiet_limit_s(self, which: str) -> float:
        """How long the `which` watch may give nothing before it is taken for dropped."""
        if which == "presence":
            return QUIET_CYCLES * keys.PRESENCE_EVERY_S if self.presences else NOTHING_EXPECTED_S
        now = datetime.now(UTC)
        intervals = [s.engine.cycle_interval_s for s in self.statuses.values()
                     if not s.engine.stopped_at and s.age_s(now) <= offline_after_s(s)]  # fmt: skip
        return max(QUIET_MIN_S, QUIET_CYCLES * min(intervals)) if intervals else NOTHING_EXPECTED_S

    def _too_quiet(self, which: str) -> bool:
        if self.link_down_since is not None:
            return False  # quiet for a known reason; the reconnect opens every watch again
        quiet = time.monotonic() - self._heard.get(which, time.monotonic())
        if quiet <= QUIET_MIN_S or quiet <= self.quiet_limit_s(which):  # the first test spares the second at each entry
            return False
        self.renewals += 1
        return True

    def _take(self, which: str, entry) -> None:  # type: ignore[no-untyped-def]
        self._hear(which)
        name = keys.name_of(entry.key)
        deleted = not entry.value or entry.operation in ("DEL", "PURGE")
        try:
            if which == "status":
                if deleted:  # `ctl forget`: a retired engine leaves the view
                    self.statuses.pop(name, None)
                    self._cells.pop(name, None)
                else:
                    status = self.statuses[name] = StatusSummary.model_validate_json(entry.value)
                    self._cells[name] = status_cells(status)
                    self.updates += 1
                    self._new_status.set()
            elif deleted:
                self.presences.pop(name, None)
            else:
                self.presences[name] = Presence.model_validate_json(entry.value)
        except ValidationError:
            return  # a value of another version or writer: the row keeps its last good one
        self._on_change()

    async def stop(self) -> None:
        """The watches and the connection ended, within STOP_WAIT_S each: quitting the view never
        waits on a busy or unreachable server (the client's close flushes and drains first)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_WAIT_S)
        if self._nc is not None:
            with contextlib.suppress(Exception):  # TimeoutError included: the process is leaving anyway
                await asyncio.wait_for(self._nc.close(), STOP_WAIT_S)

    def expire_presence(self, now: datetime) -> None:
        """The server removes an expired key with a marker a watcher may not see: age it here too."""
        for name, presence in list(self.presences.items()):
            try:
                at = datetime.fromisoformat(presence.at)
            except ValueError:
                continue
            if (now - at).total_seconds() > keys.PRESENCE_TTL_S:
                self.presences.pop(name, None)

    def rows(self) -> list[FleetRow]:
        now = datetime.now(UTC)
        self.expire_presence(now)
        names = sorted(set(self.statuses) | set(self.presences))
        return [
            row_for(name, self.statuses.get(name),
                    Liveness(presence=self.presences.get(name), via_bridge=True, link_down_since=self.link_down_since), now,
                    self._cells.get(name))
            for name in names
        ]  # fmt: skip

    async def set_paused(self, name: str, paused: bool) -> str:
        if self.buckets is None:
            return "not sent: not connected to NATS"
        writer = RemoteWriter(self.buckets, name, operator_identity("foresight-tui fleet over NATS"))
        self.refused = None
        try:
            revision = await writer.update(lambda c: setattr(c, "paused", paused))
        except Exception as exc:
            if self.refused:
                return f"refused by NATS ({self.refused}): this credential may not write; open the view with --read-only"
            return f"not sent ({type(exc).__name__}: {exc or 'no answer'})"
        deadline = asyncio.get_running_loop().time() + WAIT_S
        generation = None
        while asyncio.get_running_loop().time() < deadline:
            if generation is None:
                ack = await writer.bridge_ack(revision)
                if ack is not None and ack.result != "written":
                    return f"refused by the bridge: {ack.detail}"
                generation = ack.generation if ack is not None else None
            if generation is None:
                await asyncio.sleep(0.02)  # the bridge's ack: a key to read again
                continue
            self._new_status.clear()
            answer = settled(self.statuses.get(name), generation)
            if answer is not None:
                return answer
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_status.wait(), max(0.0, deadline - asyncio.get_running_loop().time()))
        return f"no answer within {WAIT_S:g}s (revision {revision} of {keys.control_key(name)} waits for its bridge)"

    async def open(self, name: str) -> Opened:
        assert self.buckets is not None
        directory = Path(tempfile.mkdtemp(prefix=f"foresight-{name}-"))
        mirror = Mirror(self.buckets, name, directory, tool="foresight-tui", read_only=self.read_only)
        await mirror.start()

        async def close() -> None:
            try:
                await asyncio.wait_for(mirror.flush(), 5.0)  # what Mission Control wrote last
            except Exception:
                pass
            await mirror.stop()
            shutil.rmtree(directory, ignore_errors=True)

        return directory, close
