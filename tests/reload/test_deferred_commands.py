"""A reload that a boundary finds unprepared: prepared in the wait after it, swapped at the
next boundary, still run at most once. The engine's own loop object, driven step by step
(a real engine cannot be made to miss its chance to prepare on purpose)."""

from __future__ import annotations

import gc
import shutil
import time
from pathlib import Path

import pytest

from engine.config import EngineConfig
from engine.contract.control_writer import ControlWriter
from engine.contract.paths import shipped_strategies_dir
from engine.loop import Engine
from engine.trading.state import StateManager
from tests.reload.helpers import STRATEGY_FILES, append


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gc, "freeze", lambda: None)  # the engine freezes its heap: not pytest's
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    for name in STRATEGY_FILES:
        shutil.copyfile(shipped_strategies_dir() / name, strategies / name)
    config = EngineConfig(state_dir=tmp_path / "state", strategies_path=strategies, cycle_interval_s=1.0)
    engines: list[Engine] = []

    def start() -> Engine:
        engine = Engine(config)
        engine.open()
        engines.append(engine)
        return engine

    yield start, strategies, ControlWriter(config.state_dir, tool="test")
    for engine in engines:
        engine.lock.release()


def _ack(engine: Engine, command_id: str):
    return next((a for a in engine.manager.state.acks if a.id == command_id), None)


def _edit_and_send(engine: Engine, strategies: Path, writer: ControlWriter, *kinds: str) -> list[str]:
    """After a first cycle: edit the strategy, send the commands, and run the boundary that
    sees them with nothing prepared (no wait ran since they were written)."""
    engine.cycle()
    append(strategies / "strategy.py", "\n\nEDITED = True\n")
    ids = [writer.send_command(kind)[1].id for kind in kinds]  # type: ignore[arg-type]
    engine.cycle()
    return ids


def test_an_unprepared_reload_is_prepared_in_the_wait_and_swapped_at_the_next_boundary(setup) -> None:
    start, strategies, writer = setup
    engine = start()
    before = engine.reloader.registry.version

    (command_id,) = _edit_and_send(engine, strategies, writer, "reload")

    assert _ack(engine, command_id) is None and command_id in engine.manager.state.started_commands
    assert engine.reloader.registry.version == before
    on_disk = StateManager.open(engine.dir / "state.json").state
    assert command_id in on_disk.started_commands  # write-ahead: a crash now never runs it twice

    engine.between.wait_until(time.monotonic() + 0.5)
    engine.cycle()

    ack = _ack(engine, command_id)
    assert ack is not None and ack.result == "applied" and "between cycles" in ack.detail, ack
    assert engine.reloader.registry.version != before
    assert engine.reloader.last_outcome.prepared_ms is not None
    assert set(engine.reloader.last_outcome.phases) == {"read", "commit"}


def test_commands_after_a_deferred_reload_keep_their_order(setup) -> None:
    start, strategies, writer = setup
    engine = start()
    original = engine.reloader.registry.version

    reload, rollback = _edit_and_send(engine, strategies, writer, "reload", "rollback")
    assert _ack(engine, reload) is None and _ack(engine, rollback) is None
    engine.between.wait_until(time.monotonic() + 0.5)
    engine.cycle()

    assert _ack(engine, reload).result == "applied"
    assert _ack(engine, rollback).result == "applied"
    assert engine.reloader.registry.version == original  # reload, then rollback: back where it was


def test_an_engine_stopped_with_a_deferred_reload_refuses_it_after_the_restart(setup) -> None:
    start, strategies, writer = setup
    engine = start()
    (command_id,) = _edit_and_send(engine, strategies, writer, "reload")
    engine.lock.release()  # as if killed here: nothing more of this engine runs

    restarted = start()

    ack = _ack(restarted, command_id)
    assert ack is not None and ack.result == "rejected" and "not run again" in ack.detail


def test_with_no_wait_to_prepare_in_the_next_boundary_prepares_it_itself(setup) -> None:
    start, strategies, writer = setup
    engine = start()
    (command_id,) = _edit_and_send(engine, strategies, writer, "reload")
    engine.between.wait_until(time.monotonic())  # the cycle overran: no wait at all
    engine.cycle()

    ack = _ack(engine, command_id)
    assert ack is not None and ack.result == "applied", ack
    assert engine.reloader.last_outcome.prepared_ms is None and "smoke" in engine.reloader.last_outcome.phases
