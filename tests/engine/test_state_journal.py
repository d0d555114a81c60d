"""state.json is a checkpoint rewritten when the trading state changes; the cycles between are
appended to its journal, and a restart replays them (engine/trading/state.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.contract.models import STATE_FILE, Position
from engine.trading.state import CHECKPOINT_EVERY, SlotRecord, StateManager, TradingState, journal_path, load_state
from tests.support.in_process_engine import engine_on


def test_quiet_cycles_go_to_the_journal_and_a_restart_replays_them(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    engine = engine_on(state_dir)
    checkpoints = []
    persist = engine.manager.persist
    engine.manager.persist = lambda durable=True: (checkpoints.append(engine.manager.state.cycle), persist(durable))[1]  # type: ignore[method-assign]
    try:
        for _ in range(40):
            engine.cycle()
        assert checkpoints[0] == 1  # the first cycle of a process always checkpoints
        assert len(checkpoints) < 40
        saved = load_state(state_dir / STATE_FILE).value
        assert saved is not None
        assert saved.cycle == engine.manager.state.cycle == 40
        assert saved.sim_time == engine.manager.state.sim_time
        assert saved.market.history == engine.market.record().history
        assert saved.market.feed == engine.market.feed.snapshot()
        trading = lambda s: (s.position, s.cooldown_until, s.window_start, s.open_price, s.last_result)  # noqa: E731
        assert {k: trading(s) for k, s in saved.slots.items()} == {k: trading(s) for k, s in engine.manager.state.slots.items()}
        raw = json.loads((state_dir / STATE_FILE).read_bytes())
        assert raw["cycle"] == checkpoints[-1]
        assert os.stat(journal_path(state_dir / STATE_FILE)).st_mode & 0o777 == 0o600
        history = {asset: list(points) for asset, points in engine.market.history.items()}
    finally:
        engine.manager.close_journal()
        engine.lock.release()  # as a kill -9 would leave it: no final checkpoint

    again = engine_on(state_dir)
    try:
        assert again.manager.resumed and again.manager.state.cycle == 40
        assert {asset: list(points) for asset, points in again.market.history.items()} == history
        again.cycle()
        assert again.manager.state.cycle == 41
    finally:
        again.lock.release()


def checkpoint_with_journal(tmp_path: Path, cycles: int) -> Path:
    path = tmp_path / STATE_FILE
    manager = StateManager(path)
    manager.state.market.history = {"BTC": [1.0, 2.0]}
    manager.persist(durable=False)
    for _ in range(cycles):
        manager.state.cycle += 1
        manager.state.sim_time += 5.0
        manager.journal({"BTC": 10.0 + manager.state.cycle}, {"t": manager.state.sim_time})
    manager.close_journal()
    return path


def test_a_torn_last_line_ends_the_journal(tmp_path: Path) -> None:
    path = checkpoint_with_journal(tmp_path, 3)
    journal = journal_path(path)
    journal.write_bytes(journal.read_bytes()[:-7])  # a crash in the middle of the last append
    state = load_state(path).value
    assert state is not None
    assert state.cycle == 2 and state.sim_time == 10.0
    assert state.market.history["BTC"] == [1.0, 2.0, 11.0, 12.0]
    assert state.market.feed == {"t": 10.0}


def test_an_older_journal_within_its_checkpoint_is_ignored(tmp_path: Path) -> None:
    path = checkpoint_with_journal(tmp_path, 3)
    raw = json.loads(path.read_bytes())
    raw["journal_id"], raw["cycle"] = "another", 3  # a crash between a checkpoint and its journal's replace
    path.write_text(json.dumps(raw))
    state = load_state(path).value
    assert state is not None and state.cycle == 3 and state.market.history["BTC"] == [1.0, 2.0]


def test_a_journal_running_past_another_checkpoint_is_refused(tmp_path: Path) -> None:
    path = checkpoint_with_journal(tmp_path, 3)
    raw = json.loads(path.read_bytes())
    raw["journal_id"] = "another"
    path.write_text(json.dumps(raw))  # e.g. state.json put back from a backup: cycles 1-3 are not in it
    result = load_state(path)
    assert result.value is None
    assert "runs to cycle 3, past state.json's cycle 0" in (result.reason or "")


def test_the_journal_is_bounded_by_a_checkpoint(tmp_path: Path) -> None:
    manager = StateManager(tmp_path / STATE_FILE)
    assert manager.checkpoint_due()  # nothing to append to before a first checkpoint
    with pytest.raises(RuntimeError):
        manager.journal({}, {})
    manager.persist(durable=False)
    for _ in range(CHECKPOINT_EVERY):
        assert not manager.checkpoint_due()
        manager.state.cycle += 1
        manager.journal({"BTC": 1.0}, {})
    assert manager.checkpoint_due()
    manager.persist(durable=False)
    assert not manager.checkpoint_due()
    assert journal_path(manager.path).read_bytes().count(b"\n") == 1  # the header alone
    manager.close_journal()
    assert TradingState.model_validate_json(manager.path.read_bytes()).cycle == CHECKPOINT_EVERY


def test_trading_changes_ride_the_journal_and_a_torn_one_is_not_half_applied(tmp_path: Path) -> None:
    path = checkpoint_with_journal(tmp_path, 1)
    manager = StateManager.open(path)
    manager.persist(durable=False)
    manager.state.cycle += 1
    manager.state.slots["BTC-5m"] = SlotRecord(id="BTC-5m", asset="BTC", window_s=300, window_start=0.0, open_price=11.0)
    manager.state.slots["BTC-5m"].position = Position(side="up", stake=5.0, odds=0.5, shares=10.0, entered_at=5.0)
    manager.state.staked = 5.0
    manager.journal({"BTC": 12.0}, {}, trading=True, durable=True)
    manager.state.cycle += 1
    manager.journal({"BTC": 13.0}, {})
    entered = load_state(path).value
    assert entered is not None and entered.cycle == 3 and entered.staked == 5.0
    assert entered.slots["BTC-5m"].position == manager.state.slots["BTC-5m"].position
    assert entered.market.history["BTC"] == [1.0, 2.0, 11.0, 12.0, 13.0]

    manager.state.cycle += 1
    manager.state.slots["BTC-5m"].position = None
    manager.record_result(True, 5.0)
    manager.journal({"BTC": 14.0}, {}, trading=True, durable=True)
    manager.close_journal()
    journal = journal_path(path)
    journal.write_bytes(journal.read_bytes()[:-40])  # killed in the middle of the resolution's line
    before = load_state(path).value
    assert before is not None and before.cycle == 3 and before.resolved == 0
    assert before.slots["BTC-5m"].position is not None


def test_a_window_boundary_rides_the_journal_and_a_restart_resolves_at_its_prices(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    engine = engine_on(state_dir)
    try:
        while engine.manager.checkpoint_due() or not engine.market.new_boundaries:
            engine.cycle()  # on to a boundary that is not the process's first checkpoint
        crossed = dict(engine.market.new_boundaries)
        saved = load_state(state_dir / STATE_FILE).value
        assert saved is not None and saved.cycle == engine.manager.state.cycle
        assert {float(t): p for t, p in saved.market.boundary_prices.items()} == engine.market.boundaries
        boundaries = dict(engine.market.boundaries)
    finally:
        engine.manager.close_journal()
        engine.lock.release()  # as a kill -9 would leave it: no final checkpoint

    again = engine_on(state_dir)
    try:
        assert again.manager.state.cycle == saved.cycle
        assert again.market.boundaries == boundaries
        assert all(again.market.boundaries[t] == p for t, p in crossed.items())
    finally:
        again.lock.release()


def test_a_commands_write_ahead_mark_rides_the_journal_between_cycles(tmp_path: Path) -> None:
    """A command's mark is one fdatasync'd line that does not end a cycle: a restart knows the
    command as started (it is never run twice), the cycles around it replay as before, and a
    mark torn by a crash is as if never written (the command had not run)."""
    path = checkpoint_with_journal(tmp_path, 2)
    manager = StateManager.open(path)
    manager.persist(durable=False)
    manager.mark_started("c1", "reload")
    manager.mark()  # before the command runs, inside cycle 2's boundary
    manager.state.cycle += 1
    manager.journal({"BTC": 13.0}, {})
    resumed = load_state(path).value
    assert resumed is not None and resumed.cycle == 3 and resumed.started_commands == {"c1": "reload"}
    assert resumed.market.history["BTC"] == [1.0, 2.0, 11.0, 12.0, 13.0]
    assert journal_path(path).read_bytes().count(b"\n") == 3  # the header, the mark, cycle 3

    manager.mark_started("c2", "check")
    manager.mark()
    manager.close_journal()
    journal = journal_path(path)
    journal.write_bytes(journal.read_bytes()[:-30])  # killed in the middle of the second mark
    torn = load_state(path).value
    assert torn is not None and torn.cycle == 3 and torn.started_commands == {"c1": "reload"}
