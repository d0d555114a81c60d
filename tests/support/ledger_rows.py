"""Reading the ledger the way an outside SQLite client does (read-only, the engine may be running)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.contract.ledger_schema import LEDGER_FILE

# A 5-minute window every 5 cycles; the lagged maker, because these tests need the shipped
# strategy to bet and it finds no edge against the fair one (docs/market.md).
FASTER = ("--speed", "3000", "--cycle-interval", "0.02", "--maker", "slow")


def ledger_rows(state_dir: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{state_dir / LEDGER_FILE}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM bets ORDER BY id").fetchall()
    finally:
        db.close()


def trip_rows(state_dir: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(f"file:{state_dir / LEDGER_FILE}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM risk_trips ORDER BY id").fetchall()
    finally:
        db.close()
