"""The ledger at engine start: reconciled to the trading state, events.jsonl imported once."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from engine.contract.ledger_schema import LEDGER_FILE
from engine.contract.models import Position
from engine.events import EventLog
from engine.trading.ledger import Ledger, Provenance
from engine.trading.state import SlotRecord, TradingState
from engine.trading.trader import CycleOutcome
from tests.support.ledger_rows import ledger_rows

PROV = Provenance("v1", "0123456789abcdef")


class Params(BaseModel):
    stake: float = 5.0


def open_ledger(state_dir: Path, boot: str = "boot-1") -> Ledger:
    state_dir.mkdir(exist_ok=True)
    return Ledger(state_dir / LEDGER_FILE, boot, EventLog(state_dir / "events.jsonl"))


def state_with_bet(cycle: int, slot_id: str = "BTC-5m", window_start: float = 600.0) -> TradingState:
    state = TradingState(cycle=cycle, sim_time=window_start + 60)
    slot = SlotRecord(id=slot_id, asset="BTC", window_s=300, window_start=window_start, open_price=100.0)
    slot.position = Position(side="up", stake=5.0, odds=0.5, shares=10.0, entered_at=window_start + 60)
    state.slots[slot_id] = slot
    return state


def record(ledger: Ledger, state: TradingState, entered: list[str] = (), resolutions: list[dict] = ()) -> None:  # type: ignore[assignment]
    ledger.record(state, CycleOutcome(entered=list(entered), resolutions=list(resolutions)), "v1", Params())


def test_a_crash_after_the_ledger_commit_is_undone_to_the_state(tmp_path: Path) -> None:
    state_dir = tmp_path / "s"
    ledger = open_ledger(state_dir)
    persisted = state_with_bet(cycle=10)
    ledger.reconcile(persisted, resumed=False, provenance=PROV, events_paths=[])
    assert [(r["slot"], r["outcome"], r["source"]) for r in ledger_rows(state_dir)] == [("BTC-5m", None, "state")]
    # Cycle 11 resolves the bet and enters another; the ledger commits, the state never persists.
    ahead = state_with_bet(cycle=11, slot_id="ETH-5m")
    ahead.slots["BTC-5m"] = persisted.slots["BTC-5m"]
    record(ledger, ahead, entered=["ETH-5m"], resolutions=[{"slot": "BTC-5m", "result": "won", "pnl": 5.0, "open": 100.0, "close": 101.0}])
    assert sorted((r["slot"], r["outcome"]) for r in ledger_rows(state_dir)) == [("BTC-5m", "won"), ("ETH-5m", None)]
    ledger.close()

    restarted = open_ledger(state_dir, "boot-2")
    done = restarted.reconcile(persisted, resumed=True, provenance=PROV, events_paths=[])
    assert (done.undone_entries, done.undone_resolutions, done.voided) == (1, 1, 0)
    rows = ledger_rows(state_dir)
    assert [(r["slot"], r["outcome"], r["pnl"]) for r in rows] == [("BTC-5m", None, None)]
    restarted.close()


def test_an_empty_state_starts_a_new_book_and_voids_the_old_books_open_bets(tmp_path: Path) -> None:
    state_dir = tmp_path / "s"
    ledger = open_ledger(state_dir)
    first = ledger.reconcile(state_with_bet(cycle=3), resumed=True, provenance=PROV, events_paths=[])
    ledger.close()
    ledger = open_ledger(state_dir, "boot-2")
    second = ledger.reconcile(TradingState(), resumed=False, provenance=PROV, events_paths=[])
    assert second.new_book and second.book != first.book and second.voided == 1
    assert [(r["outcome"], r["pnl"]) for r in ledger_rows(state_dir)] == [("void", 0)]
    ledger.close()


def test_events_jsonl_is_imported_once_on_the_first_start(tmp_path: Path) -> None:
    state_dir = tmp_path / "s"
    state_dir.mkdir()
    lines = [
        {"at": "2026-12-01T10:00:00+00:00", "kind": "engine", "message": "engine started", "detail": {"boot_id": "old-boot"}},
        {"at": "2026-12-01T10:01:00+00:00", "kind": "entry", "message": "BTC-5m bought up $5 at 0.40", "detail": {"slot": "BTC-5m"}},
        {"at": "2026-12-01T10:05:00+00:00", "kind": "resolution", "message": "x",
         "detail": {"slot": "BTC-5m", "side": "up", "result": "won", "pnl": 7.5, "open": 1.0, "close": 2.0}},
        {"at": "2026-12-01T10:06:00+00:00", "kind": "resolution", "message": "x",  # its entry rotated away
         "detail": {"slot": "ETH-15m", "side": "down", "result": "lost", "pnl": -5.0, "open": 2.0, "close": 3.0}},
        {"at": "2026-12-01T10:07:00+00:00", "kind": "entry", "message": "SOL-5m bought down $5 at 0.5", "detail": {"slot": "SOL-5m"}},
    ]
    events = state_dir / "events.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"torn')
    ledger = open_ledger(state_dir)
    done = ledger.reconcile(TradingState(cycle=50, resolved=2), resumed=True, provenance=PROV, events_paths=[events])
    assert done.imported == 2 and done.notes == []
    rows = ledger_rows(state_dir)
    assert [(r["slot"], r["side"], r["stake"], r["ask"], r["outcome"], r["pnl"], r["boot_id"], r["source"]) for r in rows] == [
        ("BTC-5m", "up", 5.0, 0.4, "won", 7.5, "old-boot", "events"),
        ("ETH-15m", "down", 5.0, None, "lost", -5.0, "old-boot", "events"),
    ]
    ledger.close()
    again = open_ledger(state_dir, "boot-2")
    assert again.reconcile(TradingState(cycle=60, resolved=2), resumed=True, provenance=PROV, events_paths=[events]).imported == 0
    assert len(ledger_rows(state_dir)) == 2
    again.close()


def test_a_failed_commit_is_retried_and_loses_no_row(tmp_path: Path) -> None:
    state_dir = tmp_path / "s"
    ledger = open_ledger(state_dir)
    ledger.reconcile(TradingState(), resumed=False, provenance=PROV, events_paths=[])
    blocker = Ledger(state_dir / LEDGER_FILE, "other", EventLog(tmp_path / "e.jsonl"))
    blocker.db.execute("BEGIN EXCLUSIVE")  # another writer holds the database: the commit fails
    ledger.db.execute("PRAGMA busy_timeout=0")
    record(ledger, state_with_bet(cycle=1), entered=["BTC-5m"])
    assert ledger.write_error is not None and "retried" in ledger.write_error
    blocker.db.execute("ROLLBACK")
    blocker.close()
    record(ledger, state_with_bet(cycle=2))  # nothing new this cycle: the waiting row goes in
    assert ledger.write_error is None
    assert [(r["slot"], r["entered_cycle"]) for r in ledger_rows(state_dir)] == [("BTC-5m", 1)]
    ledger.close()


def test_a_ledger_file_that_is_not_a_database_stops_the_start_with_what_to_do(tmp_path: Path) -> None:

    from tests.support.engine_proc import run_engine

    state_dir = tmp_path / "s"
    state_dir.mkdir()
    (state_dir / LEDGER_FILE).write_bytes(b"these are not the bets you are looking for" * 100)
    done = run_engine(state_dir, "--max-cycles", "1", "--quiet")
    assert done.returncode == 2, done.stderr
    assert "cannot be used as the ledger" in done.stderr and "move the file aside" in done.stderr
    assert (state_dir / LEDGER_FILE).read_bytes().startswith(b"these are not")  # nothing overwritten
