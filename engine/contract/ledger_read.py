"""Read-only queries of the ledger, for `foresight ctl trades|performance` and the TUI.

Standard library only and nothing of the engine's internals: the operator side may
import it. It opens ledger.sqlite3 read-only, so it works while the engine writes.
The dataclasses' fields are the reports' stable JSON (docs/ledger.md, "Reports").
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import stat
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from engine.contract.ledger_schema import LEDGER_FILE

GroupBy = Literal["asset", "window", "version", "day"]
GROUPS: tuple[GroupBy, ...] = ("asset", "window", "version", "day")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_DURATIONS = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class LedgerUnavailable(RuntimeError):
    """The ledger cannot be read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Trade:
    id: int
    slot: str
    asset: str
    window: str
    side: str
    stake: float
    ask: float | None
    shares: float | None
    edge: float | None
    entered_at: float
    window_end: float | None
    resolved_at: float | None
    outcome: str | None  # None while open
    pnl: float | None
    open_price: float | None
    close_price: float | None
    code_version: str
    params_hash: str
    boot_id: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Performance:
    key: str
    count: int  # resolved bets (won or lost)
    wins: int
    losses: int
    win_rate: float | None
    pnl: float
    staked: float
    avg_edge: float | None  # mean estimated edge at entry, over the bets that gave one
    max_drawdown: float  # largest fall of cumulative P&L from its peak, bets in resolution order

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_TRADE_COLUMNS = ", ".join(f.name for f in fields(Trade))


def ledger_path(state_dir: Path) -> Path:
    return state_dir / LEDGER_FILE


def open_read_only(state_dir: Path) -> sqlite3.Connection:
    """The ledger, read-only. Only a regular file is opened (lstat, never through a link): SQLite
    opens by name, and a FIFO planted there would block the open for good."""
    path = ledger_path(state_dir)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise LedgerUnavailable(
            f"no ledger at {path}: an engine writes it from its first start (foresight engine --state-dir {state_dir})"
        ) from None
    except OSError as exc:
        raise LedgerUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        what = "is a symbolic link" if stat.S_ISLNK(info.st_mode) else "is not a regular file"
        raise LedgerUnavailable(
            f"{path} {what}; refused (it is never followed or opened): remove it and start the engine, which writes the ledger"
        )
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
        db.execute("SELECT 1 FROM bets LIMIT 1")
    except sqlite3.Error as exc:
        # OperationalError is cannot open, locked, no table yet; any other DatabaseError is the file's damage.
        damaged = isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)
        if damaged:
            raise LedgerUnavailable(
                f"{path} is damaged ({exc}): move it aside (with any -wal and -shm file beside it) and start the engine; "
                "a new ledger imports what events.jsonl still holds"
            ) from exc
        raise LedgerUnavailable(f"cannot read {path}: {exc}; check its permissions, or run the engine once to create it") from exc
    return db


def clock(db: sqlite3.Connection) -> float | None:
    """The latest market time the ledger knows (what a `--since` duration counts back from)."""
    row = db.execute("SELECT max(max(entered_at), coalesce(max(resolved_at), 0)) FROM bets").fetchone()
    return None if row is None or row[0] is None else float(row[0])


def parse_since(text: str, now: float | None) -> float:
    """A DURATION (`90s`, `15m`, `2h`, `1d`, `1w`, `1h30m`) back from `now`, or a DATE
    (`2026-12-01`, `2026-12-01T08:00`, UTC unless it names its zone), as market seconds."""
    raw = text.strip().lower()
    if _DURATIONS.fullmatch(raw):
        seconds = sum(float(n) * _UNIT_S[u] for n, u in _DURATION.findall(raw))
        if not math.isfinite(seconds):  # past float's range: the bound would print as -Infinity, not JSON
            raise ValueError(f"--since {text[:40]!r}...: too long a duration to count back; give a date, or leave --since out for all")
        return (now if now is not None else datetime.now(UTC).timestamp()) - seconds
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected a duration (90s, 15m, 2h, 1d, 1w, 1h30m) or a date (2026-12-01, 2026-12-01T08:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def trades(
    db: sqlite3.Connection,
    *,
    since: float | None = None,
    asset: str | None = None,
    window: str | None = None,
    open_only: bool = False,
    limit: int | None = None,
) -> list[Trade]:
    """Bets newest first (by entry), void ones left out."""
    where: list[str] = ["(outcome IS NULL OR outcome != 'void')"]
    args: list[float | str] = []
    if since is not None:
        where.append("entered_at >= ?")
        args.append(since)
    if asset:
        where.append("asset = ?")
        args.append(asset.upper())
    if window:
        where.append("window = ?")
        args.append(window.lower())
    if open_only:
        where.append("outcome IS NULL")
    sql = f"SELECT {_TRADE_COLUMNS} FROM bets WHERE {' AND '.join(where)} ORDER BY entered_at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [Trade(*row) for row in db.execute(sql, args)]


def held(db: sqlite3.Connection, column: Literal["asset", "window"]) -> list[str]:
    """The distinct assets or windows of the ledger's trades (void bets left out), sorted."""
    sql = f"SELECT DISTINCT {column} FROM bets WHERE outcome IS NULL OR outcome != 'void' ORDER BY {column}"
    return [str(value) for (value,) in db.execute(sql)]


def performance(db: sqlite3.Connection, *, by: GroupBy = "asset", since: float | None = None) -> tuple[list[Performance], Performance]:
    """Resolved bets (resolved at or after `since`) grouped by `by`, and the total over all of them."""
    if by not in GROUPS:
        raise ValueError(f"--by {by!r}: one of {', '.join(GROUPS)}")
    key_sql = {"asset": "asset", "window": "window", "version": "code_version", "day": "date(resolved_at, 'unixepoch')"}[by]
    sql = (
        f"SELECT {key_sql}, outcome, pnl, stake, edge FROM bets WHERE outcome IN ('won', 'lost')"
        + (" AND resolved_at >= ?" if since is not None else "")
        + " ORDER BY resolved_at, id"
    )
    rows = db.execute(sql, [since] if since is not None else []).fetchall()
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(str(row[0]), []).append(row)
    table = [_figures(key, members) for key, members in sorted(groups.items())]
    return table, _figures("total", rows)


def _figures(key: str, rows: Iterable[tuple[Any, ...]]) -> Performance:
    count = wins = 0
    pnl = staked = peak = drawdown = 0.0
    edges: list[float] = []
    for _, outcome, row_pnl, stake, edge in rows:
        count += 1
        wins += outcome == "won"
        pnl += row_pnl
        staked += stake
        if edge is not None:
            edges.append(edge)
        peak = max(peak, pnl)
        drawdown = max(drawdown, peak - pnl)
    return Performance(
        key=key,
        count=count,
        wins=wins,
        losses=count - wins,
        win_rate=round(wins / count, 6) if count else None,
        pnl=round(pnl, 6),
        staked=round(staked, 6),
        avg_edge=round(sum(edges) / len(edges), 6) if edges else None,
        max_drawdown=round(drawdown, 6),
    )


def iso(seconds: float | None) -> str:
    return "" if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class CurvePoint:
    at: float  # market time of the resolution
    pnl: float  # cumulative P&L after it
    drawdown: float  # how far below its running peak (>= 0)


def pnl_curve(db: sqlite3.Connection, *, since: float | None = None, points: int = 400) -> list[CurvePoint]:
    """Cumulative P&L over resolution time, with its drawdown, thinned to about `points`
    (the deepest drawdown point of each stretch is kept, so thinning never hides one)."""
    sql = "SELECT resolved_at, pnl FROM bets WHERE outcome IN ('won', 'lost')"
    sql += " AND resolved_at >= ? ORDER BY resolved_at, id" if since is not None else " ORDER BY resolved_at, id"
    curve: list[CurvePoint] = []
    total = peak = 0.0
    for at, pnl in db.execute(sql, [since] if since is not None else []):
        total += pnl
        peak = max(peak, total)
        curve.append(CurvePoint(at, round(total, 6), round(peak - total, 6)))
    if len(curve) <= points:
        return curve
    step = len(curve) / points
    thinned = []
    for index in range(points):
        chunk = curve[int(index * step) : int((index + 1) * step)] or [curve[-1]]
        thinned.append(max(chunk, key=lambda p: p.drawdown) if any(p.drawdown for p in chunk) else chunk[-1])
    if thinned[-1] is not curve[-1]:
        thinned[-1] = curve[-1]
    return thinned
