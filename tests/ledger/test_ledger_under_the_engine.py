"""The ledger file meddled with while a real engine trades: deleted, or locked by another process."""

from __future__ import annotations

import json
from pathlib import Path

from engine.contract.ledger_schema import LEDGER_FILE
from engine.contract.models import STATE_FILE, Status
from engine.ops.alerts import PERSIST_TROUBLE
from engine.trading.state import load_state
from tests.support.ledger_rows import FASTER, ledger_rows
from tests.support.sqlite_lock import WriteLock
from tests.support.waits import wait_until


def _resolved(state_dir: Path) -> int:
    try:
        return sum(r["outcome"] in ("won", "lost") for r in ledger_rows(state_dir))
    except Exception:  # the file is gone, or not written again yet
        return -1


def _warnings(state_dir: Path) -> list[dict]:
    lines = (state_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == "warning"]


def test_a_ledger_deleted_under_the_engine_is_written_again_with_every_row(tmp_path: Path, engine_factory) -> None:
    state_dir = tmp_path / "state"
    engine = engine_factory(state_dir=state_dir, fast=FASTER)
    wait_until(lambda: _resolved(state_dir) >= 3, "three resolutions in the ledger")
    before = {r["id"]: tuple(r) for r in ledger_rows(state_dir) if r["outcome"] is not None}
    for suffix in ("", "-wal", "-shm"):
        (state_dir / f"{LEDGER_FILE}{suffix}").unlink(missing_ok=True)  # an outside cleanup: rm ledger.sqlite3*

    def said(status: Status) -> bool:
        return any(LEDGER_FILE in w and "deleted" in w for w in status.control.warnings)

    engine.wait_for(said, timeout=10, what="a warning that the ledger was deleted")
    # Written again at its place from what the engine held, then trading goes on into it.
    count = len(before)
    wait_until(lambda: _resolved(state_dir) > count + 2, "new resolutions in the ledger written again")
    rows = {r["id"]: tuple(r) for r in ledger_rows(state_dir)}
    assert all(rows.get(row_id) == row for row_id, row in before.items()), "a row written before the deletion is missing or changed"
    warnings = [e["message"] for e in _warnings(state_dir) if LEDGER_FILE in e["message"]]
    assert warnings and warnings[0].startswith(PERSIST_TROUBLE), warnings  # what an alert reports as a persistence failure
    assert engine.stop() == 0
    state = load_state(state_dir / STATE_FILE).value
    assert state is not None
    resolved = [r for r in ledger_rows(state_dir) if r["outcome"] in ("won", "lost")]
    assert len(resolved) == state.resolved
    assert round(sum(r["pnl"] for r in resolved), 2) == round(state.pnl, 2)
    assert all(r["source"] == "engine" and r["window_end"] is not None for r in resolved), "rows imported, not kept"


def test_a_lock_held_while_the_engine_runs_neither_holds_its_cycles_nor_hides(tmp_path: Path, engine_factory) -> None:
    state_dir = tmp_path / "state"
    engine = engine_factory(state_dir=state_dir, fast=FASTER)
    wait_until(lambda: _resolved(state_dir) >= 1, "a resolution in the ledger")
    with WriteLock(state_dir / LEDGER_FILE) as lock:
        shown = engine.wait_for(
            lambda s: not s.engine.persist_ok and LEDGER_FILE in (s.engine.persist_error or ""), timeout=15,
            what="status saying the ledger cannot be written",
        )  # fmt: skip
        assert "locked" in (shown.engine.persist_error or "")
        cycle = shown.engine.cycle
        slowest = 0.0

        def twenty_more_cycles(status: Status) -> bool:
            nonlocal slowest
            slowest = max(slowest, status.engine.last_cycle_ms)
            assert not status.engine.persist_ok, "the ledger's failure vanished from status while the lock is held"
            return status.engine.cycle >= cycle + 20

        engine.wait_for(twenty_more_cycles, timeout=15, what="20 cycles with the lock held")
        assert slowest < 250, f"a cycle took {slowest:.0f} ms while the ledger was locked"
        lock.release()
    engine.wait_for(lambda s: s.engine.persist_ok, timeout=10, what="persist_ok again once the lock is released")
    assert engine.stop() == 0
    state = load_state(state_dir / STATE_FILE).value
    assert state is not None
    assert sum(r["outcome"] in ("won", "lost") for r in ledger_rows(state_dir)) == state.resolved
