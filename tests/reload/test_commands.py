"""Commands without a whole engine: a real state manager, reload manager, event log and wait
between cycles on a temporary directory (engine/commands.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from engine.between_cycles import BetweenCycles
from engine.commands import Commands
from engine.contract.models import Command, utc_now_iso
from engine.control_intake import ControlIntake
from engine.events import EventLog
from engine.market.feeds import SimFeed
from engine.market.market import Market
from engine.process_guard import StopSignal
from engine.reload.manager import ReloadManager
from engine.shadow.runner import ShadowRunner
from engine.trading.state import StateManager
from engine.trading.trader import Trader
from tests.reload.helpers import edit


def _commands(state_dir: Path, strategies: Path) -> tuple[Commands, list[str]]:
    manager = StateManager.open(state_dir / "state.json")
    reloader = ReloadManager(strategies)
    reloader.load_initial()
    events = EventLog(state_dir / "events.jsonl")
    between = BetweenCycles(
        ControlIntake(state_dir, frozenset()), reloader, StopSignal(), lambda: manager.state.last_generation, manager.is_handled
    )
    adopted: list[str] = []

    def persist() -> str | None:
        manager.persist(True)
        return None

    # No slots: these commands never shadow, but Commands owns the shadow's commands too.
    trader = Trader((), manager, Market(SimFeed(()), (), (), 1.0, 0))
    shadow = ShadowRunner(reloader, manager, trader, events, interval_s=1.0)
    commands = Commands(
        manager, reloader, events, between, persist=persist, adopt_params=lambda: adopted.append(reloader.registry.version),
        shadow=shadow,
    )
    return commands, adopted


def _acks(commands: Commands) -> dict[str, tuple[str, bool]]:
    return {ack.id: (ack.outcome, ack.final) for ack in commands.manager.state.acks}


def test_a_reload_left_unprepared_is_prepared_between_cycles_and_answered_once_at_the_next_boundary(
    tmp_path: Path, fixture_dir: Path
) -> None:
    commands, adopted = _commands(tmp_path, fixture_dir)
    before = commands.reloader.registry.version
    edit(fixture_dir / "strategy.py", "0.6", "0.7")
    reload = Command(id="r1", type="reload", issued_at=utc_now_iso())
    check = Command(id="c1", type="check", issued_at=utc_now_iso())

    commands.run((reload, check))
    # Not prepared yet: nothing swapped, both wait in operator order; the ids are marked started on disk.
    assert commands.deferred == (reload, check)
    assert commands.reloader.registry.version == before and not commands.manager.state.acks
    on_disk = json.loads((tmp_path / "state.json").read_text())
    assert set(on_disk["started_commands"]) == {"r1", "c1"}

    commands.between.wait_until(time.monotonic() + 0.2)  # the wait prepares the reload
    assert commands.run_deferred()
    assert commands.reloader.registry.version != before
    assert adopted == [commands.reloader.registry.version]  # the new code's parameters were put in force
    assert commands.deferred == ()
    assert _acks(commands) == {"r1": ("applied", False), "c1": ("check passed", True)}  # r1 waits on probation
    assert commands.probation_ack_ids == ["r1"]
    assert commands.between.collect_pending  # the replaced version is collected in the next wait
    assert not commands.run_deferred()  # answered once: nothing is left for a later boundary


def test_a_command_an_earlier_run_started_is_refused_never_run_again(tmp_path: Path, fixture_dir: Path) -> None:
    commands, _ = _commands(tmp_path, fixture_dir)
    before = commands.reloader.registry.version
    edit(fixture_dir / "strategy.py", "0.6", "0.7")
    commands.manager.mark_started("r0", "reload")

    commands.interrupted()
    assert commands.reloader.registry.version == before
    [ack] = commands.manager.state.acks
    assert (ack.id, ack.outcome) == ("r0", "refused") and "not run again" in ack.detail
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert any("interrupted by an engine stop" in e["message"] for e in events)
