"""The TUI's read of the ledger: one read-only query per refresh, never in the way of the engine.

Through engine/contract/ledger_read.py only (standard library, no engine internals).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from engine.contract.ledger_read import (
    CurvePoint,
    GroupBy,
    LedgerUnavailable,
    Performance,
    Trade,
    open_read_only,
    performance,
    pnl_curve,
    trades,
)

TRADES_SHOWN = 500  # the newest; `foresight ctl trades` has them all


@dataclass(frozen=True)
class TradesView:
    trades: tuple[Trade, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class PerformanceView:
    by: GroupBy = "asset"
    groups: tuple[Performance, ...] = ()
    total: Performance | None = None
    curve: tuple[CurvePoint, ...] = field(default_factory=tuple)
    problem: str | None = None


def load_trades(state_dir: Path, limit: int = TRADES_SHOWN) -> TradesView:
    try:
        db = open_read_only(state_dir)
    except LedgerUnavailable as exc:
        return TradesView(problem=str(exc))
    try:
        return TradesView(tuple(trades(db, limit=limit)))
    except sqlite3.Error as exc:
        return TradesView(problem=f"cannot read the ledger: {exc}")
    finally:
        db.close()


def load_performance(state_dir: Path, by: GroupBy) -> PerformanceView:
    try:
        db = open_read_only(state_dir)
    except LedgerUnavailable as exc:
        return PerformanceView(by=by, problem=str(exc))
    try:
        groups, total = performance(db, by=by)
        return PerformanceView(by, tuple(groups), total, tuple(pnl_curve(db)))
    except sqlite3.Error as exc:
        return PerformanceView(by=by, problem=f"cannot read the ledger: {exc}")
    finally:
        db.close()
