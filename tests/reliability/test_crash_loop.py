"""Kill -9 the engine at random moments, over and over: nothing of the trading state is lost.

Half the runs also arm a failpoint that SIGKILLs the engine between writing a
temp file and replacing the real one, the narrowest window a crash can hit.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.contract.control_writer import ControlWriter
from engine.contract.fileio import read_model
from engine.contract.models import CONTROL_FILE, STATE_FILE, STATUS_FILE, Control, Status
from engine.events import read_events
from engine.trading.state import TradingState
from engine.trading.state import load_state as load_persisted
from tests.support.engine_proc import ROOT

CRASHES = 60
EAGER = {"snipe_window_s": 900, "edge_margin": 0.0, "confidence_threshold": 0.5, "cooldown_s": 120}


def start(state_dir: Path, run: int, armed: bool) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if armed:
        env["FORESIGHT_FAILPOINTS"] = f"crash_before_replace=0.04,seed={run}"
    log = (state_dir.parent / "engine.log").open("ab")
    cmd = [sys.executable, "-m", "engine", "engine", "--state-dir", str(state_dir), "--speed", "300", "--cycle-interval", "0.04", "--seed", "5", "--quiet"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)


def wait_first_status(state_dir: Path, proc: subprocess.Popen[bytes], timeout: float = 20) -> Status | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_model(state_dir / STATUS_FILE, Status).value
        if status is not None and status.engine.pid == proc.pid:
            return status
        if proc.poll() is not None:
            return None  # the failpoint killed it during its first writes: that is a crash too
        time.sleep(0.01)
    raise AssertionError("engine never wrote a status")


def load_state(state_dir: Path) -> TradingState:
    """What a restarted engine resumes from: state.json with its journal replayed."""
    result = load_persisted(state_dir / STATE_FILE)
    assert result.value is not None, f"state.json unreadable after a crash: {result.reason}"
    return result.value


def assert_nothing_lost(before: TradingState, after: TradingState, intent_changed: bool) -> None:
    """`after` was derived from `before` by a restarted engine: everything carried over."""
    assert after.cycle >= before.cycle
    assert after.results[: len(before.results)] == before.results  # win-rate entries only ever appended
    assert after.resolved >= before.resolved
    assert set(before.handled_commands) <= set(after.handled_commands) | set(after.started_commands)
    if not intent_changed:
        assert after.applied.paused == before.applied.paused
        assert after.applied.paused_slots == before.applied.paused_slots
    for sid, slot in before.slots.items():
        now = after.slots[sid]
        window_end = slot.window_start + slot.window_s
        if slot.position is not None:
            if now.window_start == slot.window_start:
                assert now.position == slot.position, f"{sid}: position changed across a restart"
            else:
                assert now.window_start >= window_end and now.last_result is not None, f"{sid}: position vanished"
        if slot.cooldown_until is not None and slot.cooldown_until > after.sim_time:
            assert now.cooldown_until is not None and now.cooldown_until >= slot.cooldown_until, f"{sid}: cooldown lost"


@pytest.mark.slow
def test_crash_loop_loses_nothing(tmp_path: Path, figures: dict) -> None:
    state_dir = tmp_path / "state"
    writer = ControlWriter(state_dir, tool="crash-loop")
    writer.update(lambda c: c.overrides.update(EAGER))
    rng = random.Random(20261126)
    sent: list[str] = []
    before: TradingState | None = None
    positions_open_at_kill = 0
    temp_files_seen = 0
    died_between_write_and_replace = 0
    intent_generation = 0  # the control generation of the last pause written
    for run in range(CRASHES):
        leftovers = sorted(p.name for p in state_dir.glob(".*.tmp"))
        temp_files_seen += len(leftovers)
        armed = run % 2 == 1
        proc = start(state_dir, run, armed)
        first = wait_first_status(state_dir, proc)
        if first is not None:
            assert not [n for n in leftovers if (state_dir / n).exists()], "leftover temp files not cleaned at start"
        intent_changed = False
        if proc.poll() is None:
            if rng.random() < 0.3:
                _, command = writer.send_command(rng.choice(["check", "reload"]))
                sent.append(command.id)
            if rng.random() < 0.2:
                writer.set_paused(rng.random() < 0.5)
                written = writer.set_slot_paused(rng.choice(["BTC-5m", "ETH-15m", "SOL-5m"]), rng.random() < 0.5)
                intent_generation = written.control.generation
                intent_changed = True
            time.sleep(rng.uniform(0.05, 0.6))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        else:
            assert proc.returncode == -signal.SIGKILL, f"engine exited {proc.returncode} on its own"
            died_between_write_and_replace += 1
        proc.wait()
        # Whatever the moment of death, every file parses.
        after = load_state(state_dir) if (state_dir / STATE_FILE).exists() else None
        for name, model in ((STATUS_FILE, Status), (CONTROL_FILE, Control)):
            if (state_dir / name).exists():
                assert read_model(state_dir / name, model).ok, f"{name} torn after crash {run}"
        if before is not None and after is not None:
            # A pause written in an earlier run that its engine died before applying is applied
            # by a later one: the intent changed then too, on the operator's word.
            unapplied = intent_generation > before.last_generation
            assert_nothing_lost(before, after, intent_changed or unapplied)
        if after is not None:
            positions_open_at_kill += sum(1 for s in after.slots.values() if s.position is not None)
            before = after

    # A last, clean run acknowledges everything sent, and no command ever ran twice.
    proc = start(state_dir, CRASHES, armed=False)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = read_model(state_dir / STATUS_FILE, Status).value
            if status is not None and status.engine.pid == proc.pid and set(sent) <= set(load_state(state_dir).handled_commands):
                break
            time.sleep(0.05)
        final = load_state(state_dir)
        assert set(sent) <= set(final.handled_commands), "a command was lost"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    runs: dict[str, int] = {}
    for event in read_events(state_dir / "events.jsonl", limit=1_000_000):
        for command_id in event.get("detail", {}).get("commands", []):
            runs[command_id] = runs.get(command_id, 0) + 1
    assert all(count == 1 for count in runs.values()), {k: v for k, v in runs.items() if v > 1}
    assert positions_open_at_kill >= CRASHES  # the kills really hit open positions
    assert not list(state_dir.glob(".*.tmp"))
    figures["crash_loop"] = {
        "crashes": CRASHES,
        "killed_between_temp_write_and_replace": died_between_write_and_replace,
        "positions_open_at_kills": positions_open_at_kill,
        "commands_sent": len(sent),
        "commands_run_twice": 0,
        "temp_files_left_by_kills_and_cleaned": temp_files_seen,
        "engine_cycles_survived": final.cycle,
        "resolved_bets_kept": final.resolved,
    }
    assert died_between_write_and_replace >= 5
