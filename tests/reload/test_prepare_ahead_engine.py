"""A real engine prepares a reload written between cycles in its wait, and the boundary
only swaps: what runs is still exactly the code on disk at that boundary."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest

from engine.contract.models import Status
from engine.contract.paths import shipped_strategies_dir
from tests.reload.helpers import STRATEGY_FILES, append
from tests.support.engine_proc import EngineProcess
from tests.support.waits import wait_until

# Long waits between cycles: a command written just after a status has most of a second of idle time.
SLOW = ("--speed", "1", "--cycle-interval", "1.0")

EDIT_V2 = "\n\nVERSION_TAG = 'v2'\n"
EDIT_V3 = "\n\nVERSION_TAG = 'v3'\n"


@pytest.fixture
def engine(tmp_path: Path):
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    for name in STRATEGY_FILES:
        shutil.copyfile(shipped_strategies_dir() / name, strategies / name)
    proc = EngineProcess(tmp_path / "state", "--strategies-path", str(strategies), fast=SLOW).start()
    try:
        yield proc, strategies
    finally:
        proc.stop()


def _reload_just_after_a_cycle(proc: EngineProcess) -> tuple[str, float]:
    """Send a reload right after a status appears, so the engine's wait lies ahead of it."""
    proc.wait_cycles(1, timeout=20)
    _, command = proc.writer.send_command("reload")
    return command.id, time.monotonic()


def _acked(proc: EngineProcess, command_id: str) -> Status:
    return proc.wait_ack(command_id, timeout=20)


def _reload_events(state_dir: Path) -> list[dict]:
    lines = (state_dir / "events.jsonl").read_text().splitlines()
    return [event for event in map(json.loads, lines) if event.get("kind") == "reload"]


def test_a_reload_prepared_between_cycles_is_only_swapped_at_the_boundary(engine) -> None:
    proc, strategies = engine
    append(strategies / "strategy.py", EDIT_V2)
    command_id, _ = _reload_just_after_a_cycle(proc)

    status = _acked(proc, command_id)

    ack = next(a for a in status.control.acks if a.id == command_id)
    assert ack.result == "applied", ack.detail
    assert "prepared in" in ack.detail and "between cycles" in ack.detail, ack.detail
    last = status.code.last_reload
    assert last is not None and last.ok and last.changed == ["strategy"] and last.prepared_ms is not None
    event = _reload_events(proc.state_dir)[-1]["detail"]
    assert set(event["phases_ms"]) == {"read", "commit"}, event  # the pause held no compile, import or smoke
    sha = hashlib.sha256((strategies / "strategy.py").read_bytes()).hexdigest()
    assert {m.name: m.sha256 for m in status.code.modules}["strategy"] == sha
    assert status.engine.pid == proc.pid


def test_an_edit_after_the_preparation_is_the_code_that_runs(engine, tmp_path: Path) -> None:
    proc, strategies = engine
    path = strategies / "strategy.py"
    # v2's top level leaves a mark each time it executes: a preparation executes it.
    prepared = tmp_path / "v2-prepared"
    append(path, f"\n\nimport pathlib\npathlib.Path({str(prepared)!r}).touch()" + EDIT_V2)
    command_id, _ = _reload_just_after_a_cycle(proc)
    wait_until(prepared.exists, "v2 prepared in the wait between cycles")
    append(path, EDIT_V3)

    status = _acked(proc, command_id)

    ack = next(a for a in status.control.acks if a.id == command_id)
    assert ack.result == "applied", ack.detail
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert {m.name: m.sha256 for m in status.code.modules}["strategy"] == sha
    # The stale preparation (v2's) was not used: what runs hashes as the file with v3, and no
    # reload ever swapped v2 in; v3 was prepared in a later wait and only swapped at the boundary.
    events = [e["detail"] for e in _reload_events(proc.state_dir)]
    assert [e["version"] for e in events if e.get("swapped")] == [status.code.version], events
    assert status.code.last_reload.prepared_ms is not None
    assert set(events[-1]["phases_ms"]) == {"read", "commit"}, events[-1]


def test_a_broken_file_prepared_ahead_is_refused_with_its_place(engine) -> None:
    proc, strategies = engine
    before = proc.status().code.version
    append(strategies / "momentum_strategy.py", "\n\ndef broken(:\n    pass\n")
    command_id, _ = _reload_just_after_a_cycle(proc)

    status = _acked(proc, command_id)

    ack = next(a for a in status.control.acks if a.id == command_id)
    assert ack.result == "rejected" and "SyntaxError" in ack.detail, ack.detail
    assert str(strategies / "momentum_strategy.py") in ack.detail
    assert status.code.version == before and status.code.last_reload.prepared_ms is not None
