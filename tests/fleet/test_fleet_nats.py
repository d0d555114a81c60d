"""The fleet over a real NATS server: three real engines, each with its bridge, on the fast clock.

One server and one fleet for the whole module (engines take seconds to start);
the tests that break something come last and leave it broken only for
themselves. Skipped, with the reason, where no NATS server can run.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from engine.contract.control_writer import ControlWriter
from engine.contract.fileio import ensure_state_dir, read_model
from engine.contract.fleet import keys
from engine.contract.fleet.connect import connect, open_buckets
from engine.contract.fleet.envelope import ControlEntry, Presence
from engine.contract.fleet.loop_thread import LoopThread
from engine.contract.fleet.options import NatsOptions
from engine.contract.fleet.remote_write import RemoteWriter
from engine.contract.models import CONTROL_FILE, SCHEMA_VERSION, Control, Status, parse_iso
from foresight_tui.fleet.rows import Link
from foresight_tui.fleet.sources import NatsFleet
from foresight_tui.fleet.summary import StatusSummary
from tests.support.engine_proc import ROOT, EngineProcess
from tests.support.nats_server import OPERATOR, WATCHER, NatsServer, unavailable
from tests.support.waits import wait_until

NAMES = ("bot-a", "bot-b", "bot-c")
T = TypeVar("T")
TIMEOUT = 20.0



@dataclass
class Fleet:
    server: NatsServer
    engines: dict[str, EngineProcess]
    bridges: dict[str, subprocess.Popen[bytes]]
    root: Path

    def ctl(self, *args: str, user: tuple[str, str] = OPERATOR, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "engine", "ctl", "--nats", self.server.url(user), *args]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def bridge_log(self, name: str) -> str:
        return (self.root / f"{name}-bridge.log").read_text(errors="replace")


def start_bridge(root: Path, server: NatsServer, name: str, state_dir: Path) -> subprocess.Popen[bytes]:
    log = (root / f"{name}-bridge.log").open("ab")
    cmd = [sys.executable, "-m", "engine", "bridge", "--state-dir", str(state_dir), "--nats", server.url(),
           "--name", name, "--presence-every", "0.3"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log)
    log.close()
    return proc


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    why = unavailable(root / "probe")
    if why:
        pytest.skip(f"the fleet tests need a NATS server: {why}")
    server = NatsServer(root / "nats").start()
    engines: dict[str, EngineProcess] = {}
    bridges: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for i, name in enumerate(NAMES):
            engines[name] = EngineProcess(root / name, "--maker", "slow", seed=11 + i).start(wait=False)
        for name, engine in engines.items():
            engine.wait_for(lambda s, e=engine: s.engine.pid == e.pid, what=f"{name}'s first status")
            bridges[name] = start_bridge(root, server, name, engine.state_dir)
        fleet = Fleet(server, engines, bridges, root)
        wait_until(lambda: buckets_exist(server.url()), "the bridges' buckets")
        with Reader(server.url()) as reader:
            for name in NAMES:
                wait_until(lambda n=name: reader.status(n) is not None and reader.presence(n), f"{name} on NATS")
        yield fleet
    finally:
        for proc in bridges.values():
            if proc.poll() is None:
                proc.terminate()
        for engine in engines.values():
            engine.stop()
        for proc in bridges.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.kill()


def buckets_exist(url: str) -> bool:
    try:
        with Reader(url):
            return True
    except LookupError:
        return False


class Reader:
    """A NATS client of the test's own (the real client, on a loop thread)."""

    def __init__(self, url: str) -> None:
        self.options = NatsOptions(url=url)
        self.thread = LoopThread()

    def __enter__(self) -> Reader:
        async def go() -> None:
            self.nc = await connect(self.options)
            try:
                self.buckets = await open_buckets(self.nc.jetstream(), create=False)
            except LookupError:
                await self.nc.close()
                raise

        try:
            self.thread.run(go())
        except LookupError:
            self.thread.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.run(self.nc.close())
        self.thread.close()

    def status(self, name: str) -> Status | None:
        async def go() -> Status | None:
            try:
                entry = await self.buckets.status.get(keys.status_key(name))
            except Exception:
                return None
            return Status.model_validate_json(entry.value)

        return self.thread.run(go())

    def raw_status(self, name: str) -> bytes:
        async def go() -> bytes:
            return (await self.buckets.status.get(keys.status_key(name))).value

        return self.thread.run(go())

    def put_status(self, name: str, data: bytes) -> None:
        async def go() -> None:
            await self.buckets.status.put(keys.status_key(name), data)

        self.thread.run(go())

    def presence(self, name: str) -> bool:
        async def go() -> bool:
            try:
                await self.buckets.presence.get(keys.presence_key(name))
            except Exception:
                return False
            return True

        return self.thread.run(go())

    def control_history(self, name: str) -> list[ControlEntry]:
        async def go() -> list[ControlEntry]:
            return [ControlEntry.model_validate_json(e.value) for e in await self.buckets.control.history(keys.control_key(name)) if e.value]

        return self.thread.run(go())


def run_in_loop(coro: Coroutine[Any, Any, T]) -> T:
    """One coroutine on a loop thread of its own, as ctl runs its NATS work."""
    thread = LoopThread()
    try:
        return thread.run(coro)
    finally:
        thread.close()


def test_a_pause_over_nats_is_applied_by_that_engine_and_no_other(fleet: Fleet) -> None:
    a, b, c = (fleet.engines[n] for n in NAMES)
    before = {n: fleet.engines[n].status().control.observed_generation for n in ("bot-b", "bot-c")}

    done = fleet.ctl("--engine", "bot-a", "pause")
    assert done.returncode == 0, done.stderr
    assert "applied: generation" in done.stdout
    assert a.status().engine.state == "paused"  # applied in the engine's own status when ctl says so
    for name in ("bot-b", "bot-c"):
        status = fleet.engines[name].wait_cycles(2)
        assert status.engine.state == "running", name
        assert status.control.observed_generation == before[name], f"{name} got a write meant for bot-a"
    assert "ctl over NATS" in fleet.bridge_log("bot-a") and "wrote pause" in fleet.bridge_log("bot-a")

    # The same exit codes as locally: bad input is refused before anything travels.
    bad = fleet.ctl("--engine", "bot-a", "set", "no_such_parameter=1")
    assert bad.returncode == 2 and "unknown parameter 'no_such_parameter'" in bad.stderr
    missing = fleet.ctl("--engine", "bot-zzz", "pause")
    assert missing.returncode == 3 and "no engine named 'bot-zzz'" in missing.stderr and "bot-a" in missing.stderr

    # Questions the bridge answers from the engine's own files.
    versions = fleet.ctl("--engine", "bot-b", "versions")
    assert versions.returncode == 0 and "running" in versions.stdout, versions.stderr

    # --all reports per engine; resume undoes bot-a's pause.
    everyone = fleet.ctl("--all", "pause")
    assert everyone.returncode == 0, everyone.stderr
    assert all(f"{n}: pause applied" in everyone.stdout for n in NAMES), everyone.stdout
    assert all(fleet.engines[n].status().engine.state == "paused" for n in NAMES)
    back = fleet.ctl("--all", "resume")
    assert back.returncode == 0 and all(fleet.engines[n].status().engine.state == "running" for n in NAMES), back.stdout + back.stderr


def test_a_second_bridge_under_a_name_in_use_is_refused_and_the_first_keeps_it(fleet: Fleet) -> None:
    # A copied unit file that forgot its --name: bot-b's directory bridged as bot-a.
    impostor = start_bridge(fleet.root, fleet.server, "bot-a", fleet.engines["bot-b"].state_dir)
    try:
        assert impostor.wait(TIMEOUT) == 2
    finally:
        if impostor.poll() is None:
            impostor.kill()
    said = fleet.bridge_log("bot-a")
    assert "bot-a is taken" in said and str(fleet.engines["bot-a"].state_dir) in said, said
    shown = fleet.ctl("--engine", "bot-a", "status")
    assert shown.returncode == 0 and f"pid {fleet.engines['bot-a'].pid}@" in shown.stdout, shown.stdout + shown.stderr


def test_two_remote_writers_racing_lose_no_update(fleet: Fleet) -> None:
    engine = fleet.engines["bot-b"]

    async def race() -> tuple[int, int]:
        one = await connect(NatsOptions(url=fleet.server.url()))
        two = await connect(NatsOptions(url=fleet.server.url()))
        try:
            first = RemoteWriter(await open_buckets(one.jetstream(), create=False), "bot-b", "operator one@host-1")
            second = RemoteWriter(await open_buckets(two.jetstream(), create=False), "bot-b", "operator two@host-2")
            base_one, base_two = await first.load(), await second.load()
            assert first.revision == second.revision  # both built on the same revision: a real race
            wanted_one = base_one.model_copy(deep=True)
            wanted_one.overrides = {**wanted_one.overrides, "stake": 6.5}
            wanted_two = base_two.model_copy(deep=True)
            wanted_two.overrides = {**wanted_two.overrides, "confidence_threshold": 0.7}
            wanted_two.paused_slots = sorted({*wanted_two.paused_slots, "ETH-5m"})
            r1, r2 = await asyncio.gather(first.send(wanted_one), second.send(wanted_two))
            return r1, r2
        finally:
            await one.close()
            await two.close()

    r1, r2 = run_in_loop(race())
    assert r1 != r2
    # Meanwhile an operator on the engine's own host pauses a slot through the local lock.
    ControlWriter(engine.state_dir, tool="local operator").set_slot_paused("SOL-15m", True)

    def everything_applied(s: Status) -> bool:
        applied = s.control.applied
        return (applied.overrides.get("stake") == 6.5 and applied.overrides.get("confidence_threshold") == 0.7
                and {"ETH-5m", "SOL-15m"} <= set(applied.paused_slots))  # fmt: skip

    engine.wait_for(everything_applied, what="both remote writes and the local one applied", timeout=TIMEOUT)
    with Reader(fleet.server.url()) as reader:
        writers = [e.by for e in reader.control_history("bot-b")]
    assert any("operator one" in w for w in writers) and any("operator two" in w for w in writers)
    done = fleet.ctl("--engine", "bot-b", "unset", "stake", "confidence_threshold")
    assert done.returncode == 0, done.stderr
    assert fleet.ctl("--engine", "bot-b", "resume-slot", "ETH-5m").returncode == 0
    ControlWriter(engine.state_dir, tool="local operator").set_slot_paused("SOL-15m", False)



def test_a_burst_of_remote_writes_is_applied_to_the_last(fleet: Fleet) -> None:
    # Each write lands while the bridge may still be applying the one before: none may be
    # left waiting for a wake-up that never comes.
    engine = fleet.engines["bot-c"]
    stakes = [round(5.0 + i / 10, 1) for i in range(1, 31)]
    spacing = random.Random(7)

    async def burst() -> None:
        nc = await connect(NatsOptions(url=fleet.server.url()))
        try:
            writer = RemoteWriter(await open_buckets(nc.jetstream(), create=False), "bot-c", "operator burst@host-3")
            await writer.load()
            for stake in stakes:
                base = writer.base or Control(schema_version=SCHEMA_VERSION, generation=0)  # no control.json there yet
                wanted = base.model_copy(deep=True)
                wanted.overrides = {**wanted.overrides, "stake": stake}
                await writer.send(wanted)
                await asyncio.sleep(spacing.uniform(0.0, 0.03))  # writes landing at any moment of the bridge's work
        finally:
            await nc.close()

    run_in_loop(burst())
    engine.wait_for(lambda s: s.control.applied.overrides.get("stake") == stakes[-1], what=f"stake {stakes[-1]} applied", timeout=TIMEOUT)
    assert fleet.ctl("--engine", "bot-c", "unset", "stake").returncode == 0


def test_a_remote_write_is_applied_after_the_bridges_watch_dies_silently(fleet: Fleet) -> None:
    # The server drops the bridge's watch (its consumer deleted, as a server restart or a
    # missed heartbeat can do) and the client is told nothing: writes must still arrive.
    engine = fleet.engines["bot-c"]

    async def drop_watches_then_write() -> None:
        nc = await connect(NatsOptions(url=fleet.server.url()))
        try:
            js = nc.jetstream()
            stream = f"KV_{keys.CONTROL_BUCKET}"
            for consumer in await js.consumers_info(stream):
                await js.delete_consumer(stream, consumer.name)
            writer = RemoteWriter(await open_buckets(js, create=False), "bot-c", "operator late@host-3")
            base = await writer.load() or Control(schema_version=SCHEMA_VERSION, generation=0)
            wanted = base.model_copy(deep=True)
            wanted.overrides = {**wanted.overrides, "stake": 8.5}
            await writer.send(wanted)
        finally:
            await nc.close()

    run_in_loop(drop_watches_then_write())
    engine.wait_for(lambda s: s.control.applied.overrides.get("stake") == 8.5, what="stake 8.5 applied", timeout=TIMEOUT)
    assert fleet.ctl("--engine", "bot-c", "unset", "stake").returncode == 0

def test_a_read_only_credential_cannot_write(fleet: Fleet) -> None:
    engine = fleet.engines["bot-a"]
    before = engine.status().control.observed_generation
    looked = fleet.ctl("--engine", "bot-a", "status", user=WATCHER)
    assert looked.returncode == 0 and "engine   RUNNING" in looked.stdout, looked.stderr
    refused = fleet.ctl("--engine", "bot-a", "pause", user=WATCHER, timeout=40)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "NATS refused the write" in refused.stderr and "read-only" in refused.stderr
    status = engine.wait_cycles(3)
    assert status.engine.state == "running" and status.control.observed_generation == before


def test_a_retired_engine_is_forgotten_and_no_longer_counted(fleet: Fleet) -> None:
    # An engine taken out of service leaves its last status on NATS: without a way to retire
    # it, every `--all` exits 3 on it forever and the fleet view keeps an offline row.
    with Reader(fleet.server.url()) as reader:
        reader.put_status("bot-old", reader.raw_status("bot-a"))
        view = FleetView(fleet.server.url())
        try:
            wait_until(lambda: view.link("bot-old") is not None, "the retired engine's row in the fleet view")
            everyone = fleet.ctl("--all", "resume")
            assert everyone.returncode == 3 and "bot-old: resume no answer" in everyone.stdout, everyone.stdout

            live = fleet.ctl("--engine", "bot-a", "forget")
            assert live.returncode == 1, live.stdout + live.stderr
            assert "bridge of bot-a is running" in live.stderr and "nothing removed" in live.stderr
            assert reader.status("bot-a") is not None

            gone = fleet.ctl("--engine", "bot-old", "forget")
            assert gone.returncode == 0, gone.stdout + gone.stderr
            assert "forgot bot-old" in gone.stdout
            assert reader.status("bot-old") is None
            wait_until(lambda: view.link("bot-old") is None, "the retired engine's row gone from the fleet view")
            everyone = fleet.ctl("--all", "resume")
            assert everyone.returncode == 0 and "bot-old" not in everyone.stdout + everyone.stderr, everyone.stdout

            again = fleet.ctl("--engine", "bot-old", "forget")
            assert again.returncode == 3 and "no engine named 'bot-old'" in again.stderr, again.stderr
        finally:
            view.close()
    local = subprocess.run([sys.executable, "-m", "engine", "ctl", "--state-dir", str(fleet.engines["bot-a"].state_dir), "forget"],
                           cwd=ROOT, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert local.returncode == 2 and "--engine NAME" in local.stderr, local.stderr


def test_a_change_queued_over_nats_before_the_engine_first_runs_reaches_it(fleet: Fleet) -> None:
    # The bridge is installed with the engine's unit and runs before the engine's first start.
    state_dir = fleet.root / "bot-new"
    ensure_state_dir(state_dir)
    bridge = start_bridge(fleet.root, fleet.server, "bot-new", state_dir)
    try:
        with Reader(fleet.server.url()) as reader:
            wait_until(lambda: reader.presence("bot-new"), "bot-new's bridge on NATS")
        plain = fleet.ctl("--engine", "bot-new", "pause")
        assert plain.returncode == 3, plain.stdout + plain.stderr
        assert "no engine has run" in plain.stderr and "--queue" in plain.stderr
        assert not (state_dir / CONTROL_FILE).exists()

        queued = fleet.ctl("--engine", "bot-new", "--queue", "pause")
        assert queued.returncode == 0, queued.stdout + queued.stderr
        assert "queued" in queued.stdout
        wait_until(lambda: (c := read_model(state_dir / CONTROL_FILE, Control).value) is not None and c.paused,
                   "the queued pause in bot-new's control.json")  # fmt: skip
        everyone = fleet.ctl("--all", "resume")  # counted, not skipped: its engine has not answered
        assert everyone.returncode == 3 and "bot-new: resume no answer" in everyone.stdout, everyone.stdout
        assert read_model(state_dir / CONTROL_FILE, Control).value.paused  # type: ignore[union-attr]
    finally:
        bridge.terminate()
        bridge.wait(10)
    engine = EngineProcess(state_dir, seed=5).start()
    try:
        assert engine.status().engine.state == "paused"
    finally:
        engine.stop()
    assert fleet.ctl("--engine", "bot-new", "forget").returncode == 0


class FleetView:
    """The fleet view's NATS source, in this process: what the table shows."""

    def __init__(self, url: str) -> None:
        self.source = NatsFleet(NatsOptions(url=url))
        self.thread = LoopThread()
        self.thread.run(self.source.start(lambda: None))

    def link(self, name: str) -> tuple[Link, str] | None:
        async def go():  # type: ignore[no-untyped-def]
            return next(((r.link, r.why) for r in self.source.rows() if r.name == name), None)

        return self.thread.run(go())

    def status(self, name: str) -> StatusSummary | None:
        async def go() -> StatusSummary | None:
            return self.source.statuses.get(name)

        return self.thread.run(go())

    def presence(self, name: str) -> Presence | None:
        async def go() -> Presence | None:
            return self.source.presences.get(name)

        return self.thread.run(go())

    def set_paused(self, name: str, paused: bool) -> str:
        return self.thread.run(self.source.set_paused(name, paused))

    def close(self) -> None:
        self.thread.run(self.source.stop())
        self.thread.close()


async def delete_consumers(url: str, buckets: tuple[str, ...]) -> None:
    """The server drops the watches on `buckets` without a word to their clients (as a server
    restart or a missed heartbeat can do): their consumers deleted on the server."""
    nc = await connect(NatsOptions(url=url))
    try:
        js = nc.jetstream()
        for bucket in buckets:
            stream = f"KV_{bucket}"
            for consumer in await js.consumers_info(stream):
                await js.delete_consumer(stream, consumer.name)
    finally:
        await nc.close()


def test_the_fleet_view_renews_watches_the_server_dropped_silently(fleet: Fleet) -> None:
    # The server drops the view's watches and tells the client nothing. nats-py notices only
    # after two missed idle heartbeats (10-20 s), by when every row shows stale, then offline
    # ("bridge gone": the presences aged past their TTL) while every engine and bridge runs.
    # The view expects a status every cycle and a presence every few seconds.
    view = FleetView(fleet.server.url())
    hung = fleet.engines["bot-a"]
    try:
        wait_until(lambda: all((view.link(n) or (None,))[0] is Link.ONLINE for n in NAMES), "three engines online")
        run_in_loop(delete_consumers(fleet.server.url(), (keys.STATUS_BUCKET, keys.PRESENCE_BUCKET)))
        dropped = datetime.now(UTC)
        shown_offline: set[str] = set()

        def caught_up() -> bool:
            for name in NAMES:
                link, why = view.link(name) or (None, "")
                if link is Link.OFFLINE:
                    shown_offline.add(f"{name}: {why}")
            return all((s := view.status(n)) is not None and parse_iso(s.written_at) > dropped
                       and (p := view.presence(n)) is not None and parse_iso(p.at) > dropped for n in NAMES)  # fmt: skip

        wait_until(caught_up, "statuses and presences written after the watches were dropped")
        assert not shown_offline, f"shown offline while the engine and its bridge ran: {sorted(shown_offline)}"
        assert view.source.renewals >= 2
        # An engine really silent says so while the others stay online.
        os.kill(hung.pid, signal.SIGSTOP)
        try:
            link, why = wait_until(lambda: (seen := view.link("bot-a")) and seen[0] is Link.STALE and seen, "bot-a stale")
            assert "no new status" in why
            wait_until(lambda: all((view.link(n) or (None,))[0] is Link.ONLINE for n in ("bot-b", "bot-c")), "the others online")
            assert view.link("bot-a")[0] is Link.STALE  # type: ignore[index]
        finally:
            os.kill(hung.pid, signal.SIGCONT)
        wait_until(lambda: (view.link("bot-a") or (None,))[0] is Link.ONLINE, "bot-a online again")
    finally:
        view.close()


def test_the_nats_server_killed_and_restarted_touches_no_engine(fleet: Fleet) -> None:
    view = FleetView(fleet.server.url())
    try:
        wait_until(lambda: all((view.link(n) or (None,))[0] is Link.ONLINE for n in NAMES), "three engines online")
        cycles = {n: fleet.engines[n].status().engine.cycle for n in NAMES}
        fleet.server.kill()
        # The engines go on; the local ctl keeps working on its own host.
        for name in NAMES:
            fleet.engines[name].wait_for(lambda s, n=name: s.engine.cycle >= cycles[n] + 20, what=f"{name} cycling with NATS down")
        local = subprocess.run([sys.executable, "-m", "engine", "ctl", "--state-dir", str(fleet.engines["bot-c"].state_dir), "pause-slot", "BTC-5m"],
                               cwd=ROOT, capture_output=True, text=True, timeout=30)  # fmt: skip
        assert local.returncode == 0, local.stderr
        # The fleet view shows the gap: rows stale, saying NATS is down.
        link, why = wait_until(lambda: (seen := view.link("bot-a")) and seen[0] is Link.STALE and seen, "bot-a stale in the fleet view")
        assert "NATS down since" in why
        down_at = {n: fleet.engines[n].status().engine.cycle for n in NAMES}

        fleet.server.restart()
        with Reader(fleet.server.url()) as reader:
            for name in NAMES:  # the bridges catch up: a status newer than any made during the outage
                wait_until(lambda n=name: (s := reader.status(n)) is not None and s.engine.cycle > down_at[n], f"{name} caught up")
        wait_until(lambda: all((view.link(n) or (None,))[0] is Link.ONLINE for n in NAMES), "three engines online again")
        assert len(view.source.gaps) == 1  # the view says it: "NATS was unreachable HH:MM:SS-HH:MM:SS UTC"
        # The local write made during the outage reached NATS; a remote write is applied again.
        done = fleet.ctl("--engine", "bot-c", "resume-slot", "BTC-5m")
        assert done.returncode == 0, done.stderr
        assert "BTC-5m" not in fleet.engines["bot-c"].status().control.applied.paused_slots
        for name in NAMES:
            assert "lost NATS" in fleet.bridge_log(name) and "NATS back" in fleet.bridge_log(name)
            assert fleet.engines[name].proc.poll() is None
    finally:
        view.close()


TMUX = shutil.which("tmux")


@pytest.mark.e2e
@pytest.mark.skipif(TMUX is None, reason="needs tmux")
def test_a_nats_server_back_without_its_store_is_caught_up_and_remote_writes_apply(fleet: Fleet) -> None:
    # A server restarted with no volume (or a new node): every bucket and revision is gone.
    fleet.server.kill()
    shutil.rmtree(fleet.server.store)
    fleet.server.start()
    wait_until(lambda: buckets_exist(fleet.server.url()), "the buckets made again by the bridges", timeout=30)
    with Reader(fleet.server.url()) as reader:  # and each publishes again
        for name in NAMES:
            wait_until(lambda n=name: reader.status(n) is not None and reader.presence(n), f"{name} on NATS again", timeout=30)
    done = fleet.ctl("--engine", "bot-b", "pause-slot", "ETH-5m")
    assert done.returncode == 0, done.stderr
    fleet.engines["bot-b"].wait_for(lambda s: "ETH-5m" in s.control.applied.paused_slots, what="the remote write applied")
    assert fleet.ctl("--engine", "bot-b", "resume-slot", "ETH-5m").returncode == 0
    # The bridges' answers of before the loss name revisions the new store hands out again:
    # each answer must still be the one to this write.
    view = FleetView(fleet.server.url())
    try:
        wait_until(lambda: (view.link("bot-b") or (None,))[0] is Link.ONLINE, "bot-b online in the fleet view")
        answers = [view.set_paused("bot-b", i % 2 == 0) for i in range(24)]
    finally:
        view.close()
    wrong = [(i, a) for i, a in enumerate(answers) if not a.startswith("paused at cycle" if i % 2 == 0 else "running at cycle")]
    assert not wrong, wrong
    assert fleet.engines["bot-b"].status().engine.state == "running"


def test_the_fleet_tui_in_tmux_shows_three_engines_and_opens_one(fleet: Fleet) -> None:
    from tests.tui.test_e2e_tmux import Tmux

    tmux = Tmux()
    try:
        tmux.start([sys.executable, "-m", "foresight_tui", "--nats", fleet.server.url()])
        tmux.wait_screen("bot-a", "bot-b", "bot-c")
        # A row may show stale for a moment on a loaded host before its next status lands.
        wait_until(lambda: tmux.screen().count("online") >= 3, "all three engines online", TIMEOUT)
        tmux.send("Enter")  # the first row: bot-a's own Mission Control, on its mirror
        tmux.wait_screen("BTC 5m", "foresight-bot-a-")
        tmux.send("p")  # Mission Control over NATS writes too: its mirror sends the change by compare-and-set
        fleet.engines["bot-a"].wait_for(lambda s: s.engine.state == "paused", what="bot-a paused from its Mission Control")
        tmux.wait_screen("PAUSED")
        tmux.send("r")
        fleet.engines["bot-a"].wait_for(lambda s: s.engine.state == "running", what="bot-a resumed from its Mission Control")
        assert fleet.engines["bot-b"].status().engine.state == "running"
        tmux.send("q")
        tmux.wait_screen("P Pause all", "bot-c")
        tmux.send("P")
        tmux.wait_screen("Pause new bets on 3 engines")
        tmux.send("y")
        tmux.wait_screen("bot-a: paused at cycle", "bot-b: paused at cycle", "bot-c: paused at cycle")
        assert all(fleet.engines[n].status().engine.state == "paused" for n in NAMES)
        tmux.send("R")
        tmux.wait_screen("Resume new bets on 3 engines")
        tmux.send("y")
        tmux.wait_screen("bot-a: running at cycle", "bot-c: running at cycle")
        assert all(fleet.engines[n].status().engine.state == "running" for n in NAMES)
    finally:
        tmux.kill()


async def test_the_fleet_view_of_state_directories_on_one_host_needs_no_nats(fleet: Fleet) -> None:
    from foresight_tui.fleet.app import FleetApp
    from foresight_tui.fleet.sources import LocalFleet
    from foresight_tui.fleet.table import FleetTable

    app = FleetApp(LocalFleet([fleet.engines[n].state_dir for n in NAMES]))
    async with app.run_test(size=(200, 30)) as pilot:
        table = app.query_one(FleetTable)

        async def until(check: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + TIMEOUT
            while not check():
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                await pilot.pause(0.05)

        await until(lambda: table.names == list(NAMES) and all(c[2] == "online" for c in table._cells), "three rows online")
        await pilot.press("R")  # resume all asks first: nothing is written before y
        await until(lambda: len(app.screen_stack) > 1, "the confirmation")
        await pilot.press("n")
        await pilot.press("P")
        await until(lambda: len(app.screen_stack) > 1, "the confirmation")
        await pilot.press("y")
        await until(lambda: all(fleet.engines[n].status().engine.state == "paused" for n in NAMES), "three engines paused")
        report = app.query_one("#fleet-report")
        await until(lambda: all(f"{n}: paused at cycle" in str(report.render()) for n in NAMES), "a report per engine")
        await pilot.press("R", "y")
        await until(lambda: all(fleet.engines[n].status().engine.state == "running" for n in NAMES), "three engines running")


def test_an_engine_killed_shows_stale_then_offline(fleet: Fleet) -> None:
    view = FleetView(fleet.server.url())
    engine = fleet.engines["bot-c"]
    try:
        wait_until(lambda: (view.link("bot-c") or (None,))[0] is Link.ONLINE, "bot-c online")
        os.kill(engine.pid, signal.SIGSTOP)  # hung: its process is there, its status ages
        link, why = wait_until(lambda: (seen := view.link("bot-c")) and seen[0] is Link.STALE and seen, "bot-c stale")
        assert "no new status" in why
        os.kill(engine.pid, signal.SIGKILL)
        engine.proc.wait(10)
        link, why = wait_until(lambda: (seen := view.link("bot-c")) and seen[0] is Link.OFFLINE and seen, "bot-c offline")
        assert "process gone" in why
        assert view.link("bot-a")[0] is Link.ONLINE  # the others are not affected
        fleet.bridges["bot-c"].terminate()  # and its bridge: the presence goes, the row says so
        fleet.bridges["bot-c"].wait(10)
        wait_until(lambda: "bridge gone" in (view.link("bot-c") or ("", ""))[1], "bot-c's bridge gone")
    finally:
        view.close()
