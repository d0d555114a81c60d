"""A real engine killed -9 over and over: its ledger keeps every bet once, in step with its state."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from engine.contract.fileio import read_model
from engine.contract.models import STATE_FILE, STATUS_FILE, Status
from engine.trading.state import load_state
from tests.support.engine_proc import EngineProcess
from tests.support.ledger_rows import FASTER, ledger_rows

RESTARTS = 20


def _wait_for_new_resolutions(engine: EngineProcess, timeout: float = 20) -> Status | None:
    """The first status of this process that shows a resolution it made; None if it died first
    (the failpoint that kills it between the ledger's commit and the state's persist)."""
    deadline = time.monotonic() + timeout
    base: int | None = None
    while time.monotonic() < deadline:
        status = read_model(engine.state_dir / STATUS_FILE, Status).value
        if status is not None and status.engine.pid == engine.pid:
            base = status.stats.resolved if base is None else base
            if status.stats.resolved > base:
                return status
        if engine.proc is not None and engine.proc.poll() is not None:
            return None
        time.sleep(0.005)
    raise AssertionError(f"no resolution within {timeout}s\n{engine.log()[-2000:]}")


@pytest.mark.slow
def test_ledger_survives_twenty_kill9s_without_losing_or_doubling_a_bet(tmp_path: Path, engine_factory) -> None:
    state_dir = tmp_path / "state"
    died_by_failpoint = 0
    for run in range(RESTARTS):
        # Odd runs may also die in the narrowest window: the ledger committed, the state not yet.
        env = {"FORESIGHT_FAILPOINTS": f"crash_after_ledger=0.2,seed={run}"} if run % 2 else None
        # From the factory: an engine left running by a failed assertion is stopped at teardown.
        engine = engine_factory(state_dir=state_dir, fast=FASTER, env=env, start=False).start(wait=False)
        seen = _wait_for_new_resolutions(engine)
        if seen is None:
            assert engine.proc is not None and engine.proc.wait() == -signal.SIGKILL, engine.log()[-2000:]
            died_by_failpoint += 1
            continue
        os.kill(engine.pid, signal.SIGKILL)
        engine.proc.wait()  # type: ignore[union-attr]
        # Whatever status.json showed is in the ledger already.
        last = read_model(state_dir / STATUS_FILE, Status).value
        assert last is not None
        rows = ledger_rows(state_dir)
        assert sum(r["outcome"] in ("won", "lost") for r in rows) >= last.stats.resolved
        keys = {(r["slot"], r["window_end"]) for r in rows}
        for slot in last.slots:
            if slot.position is not None:
                assert (slot.id, slot.window_end) in keys, f"run {run}: {slot.id}'s bet is in status, not in the ledger"
    assert died_by_failpoint > 0, "the failpoint never hit: the undo path went untested"

    # A last run, stopped cleanly: the ledger is the engine's resolutions one for one.
    engine = engine_factory(state_dir=state_dir, fast=FASTER, start=False).start(wait=False)
    assert _wait_for_new_resolutions(engine) is not None
    assert engine.stop() == 0
    state = load_state(state_dir / STATE_FILE).value
    assert state is not None
    rows = ledger_rows(state_dir)
    resolved = [r for r in rows if r["outcome"] in ("won", "lost")]
    assert len(resolved) == state.resolved
    assert round(sum(r["pnl"] for r in resolved), 2) == round(state.pnl, 2)
    assert sum(r["outcome"] == "won" for r in resolved) == state.wins
    assert len({(r["book"], r["slot"], r["window_end"]) for r in rows}) == len(rows)
    open_rows = {(r["slot"], r["window_end"]) for r in rows if r["outcome"] is None}
    assert open_rows == {(s.id, s.window_start + s.window_s) for s in state.slots.values() if s.position is not None}
    assert not [r for r in rows if r["outcome"] == "void"], "a bet of this state's book was voided"
    assert all(r["code_version"] and len(r["params_hash"]) == 16 and r["boot_id"] for r in rows)
    assert len({r["boot_id"] for r in rows}) > 1  # rows of several engine lives, one book
    assert len({r["book"] for r in rows}) == 1


def test_an_existing_state_directory_gets_its_ledger_with_events_jsonl_imported_once(tmp_path: Path) -> None:
    import json

    from engine.contract.ledger_schema import LEDGER_FILE

    state_dir = tmp_path / "state"
    engine = EngineProcess(state_dir, fast=FASTER).start()
    engine.wait_for(lambda s: s.stats.resolved >= 8, timeout=30, what="eight resolutions")
    assert engine.stop() == 0
    for suffix in ("", "-wal", "-shm"):  # the directory as an engine without a ledger left it
        (state_dir / f"{LEDGER_FILE}{suffix}").unlink(missing_ok=True)
    logged = [json.loads(line) for line in (state_dir / "events.jsonl").read_text().splitlines()]
    resolutions = [e["detail"] for e in logged if e["kind"] == "resolution"]

    for _ in range(2):  # the second start imports nothing again
        engine = EngineProcess(state_dir, "--max-cycles", "1", fast=FASTER).start(wait=False)
        assert engine.proc is not None and engine.proc.wait(30) == 0, engine.log()[-2000:]
        rows = ledger_rows(state_dir)
        imported = [r for r in rows if r["source"] == "events"]
        assert [(r["slot"], r["outcome"], r["pnl"]) for r in imported] == [(d["slot"], d["result"], d["pnl"]) for d in resolutions]
        state = load_state(state_dir / STATE_FILE).value
        assert state is not None
        open_rows = {(r["slot"], r["window_end"]) for r in rows if r["outcome"] is None}
        assert open_rows == {(s.id, s.window_start + s.window_s) for s in state.slots.values() if s.position is not None}
