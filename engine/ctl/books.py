"""`foresight ctl trades` and `foresight ctl performance`: the ledger's reports, read-only
(and `foresight ctl risk`, engine/ctl/risk.py, hooked up here with them).

They read ledger.sqlite3 directly (never control.json or the engine), so they work
while the engine runs and after it stopped. Exit 0 with the report, 2 on bad
input, 1 when there is no readable ledger (the message says why).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Literal

from engine.contract import ledger_read
from engine.contract.ledger_read import GROUPS, LedgerUnavailable, Performance, Trade, iso
from engine.ctl import risk as ctl_risk

VERBS = ("trades", "performance", "risk")
EXIT_OK, EXIT_NO_LEDGER, EXIT_USAGE = 0, 1, 2

MAX_LIMIT = 10**9  # past SQLite's integers a --limit is a typo, not a wish


def add_verbs(verbs: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:  # type: ignore[type-arg]
    """trades, performance and risk; returns their parsers, which take ctl's common options too."""
    since_help = "only since a DURATION back from the ledger's latest time (90s, 15m, 2h, 1d, 1w) or a DATE (2026-12-01, UTC)"
    trades = p = verbs.add_parser("trades", help="the ledger's bets, newest first")
    p.add_argument("--since", metavar="DURATION|DATE", help=since_help)
    p.add_argument("--asset", help="one asset, e.g. BTC")
    p.add_argument("--window", help="one window length, e.g. 5m")
    p.add_argument("--open", action="store_true", help="only bets not resolved yet")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N bets (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON (docs/ledger.md, Reports)")
    performance = p = verbs.add_parser("performance", help="resolved bets' figures by asset, window, code version or day")
    p.add_argument("--by", choices=GROUPS, default="asset", help="how to group (default: asset)")
    p.add_argument("--since", metavar="DURATION|DATE", help=since_help)
    p.add_argument("--json", action="store_true", help="print JSON (docs/ledger.md, Reports)")
    return [trades, performance, *ctl_risk.add_verb(verbs)]


def run(state_dir: Path, args: argparse.Namespace) -> int:
    if args.verb == "risk":
        return ctl_risk.run(state_dir, args)
    try:
        if getattr(args, "limit", None) is not None and not 1 <= args.limit <= MAX_LIMIT:
            raise ValueError(f"--limit {args.limit}: expected a number of bets from 1 to {MAX_LIMIT:,} (leave it out for all)")
        for option in ("since", "asset", "window"):
            if getattr(args, option, None) is not None and not getattr(args, option).strip():
                raise ValueError(f"--{option} is empty (a script's unset variable?): give a value or leave the option out")
        db = ledger_read.open_read_only(state_dir)
    except LedgerUnavailable as exc:
        print(f"foresight ctl: {exc}", file=sys.stderr)
        return EXIT_NO_LEDGER
    except ValueError as exc:
        print(f"foresight ctl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        clock = ledger_read.clock(db)
        since = ledger_read.parse_since(args.since, clock) if args.since else None
        path = str(ledger_read.ledger_path(state_dir))
        if args.verb == "trades":
            rows = ledger_read.trades(db, since=since, asset=args.asset, window=args.window, open_only=args.open, limit=args.limit)
            if args.json:
                print(json.dumps({"ledger": path, "clock": clock, "since": since, "count": len(rows),
                                  "trades": [t.to_json() for t in rows]}, indent=2))  # fmt: skip
            else:
                print(trades_table(rows))
                if not rows:
                    for note in _unheld_filters(db, args):
                        print(note)
        else:
            groups, total = ledger_read.performance(db, by=args.by, since=since)
            if args.json:
                print(json.dumps({"ledger": path, "by": args.by, "since": since,
                                  "groups": [g.to_json() for g in groups], "total": total.to_json()}, indent=2))  # fmt: skip
            else:
                print(performance_table(args.by, groups, total))
    except ValueError as exc:
        print(f"foresight ctl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.close()
    return EXIT_OK


def _unheld_filters(db: sqlite3.Connection, args: argparse.Namespace) -> list[str]:
    """For an empty table: each filter naming an asset or window the ledger has no trade of
    (a typo reads as "no trades there" otherwise), with what it does hold."""
    notes = []
    filters: tuple[tuple[Literal["asset", "window"], str | None], ...] = (("asset", args.asset), ("window", args.window))
    for column, asked in filters:
        if not asked:
            continue
        values = ledger_read.held(db, column)
        if asked.lower() not in (v.lower() for v in values):
            holds = f"it holds {', '.join(values)}" if values else "it holds no trade yet"
            notes.append(f"no bet of {column} {asked} in the ledger; {holds}")
    return notes


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"


def trades_table(rows: list[Trade]) -> str:
    head = f"{'id':>6}  {'entered (market, UTC)':<19}  {'slot':<10} {'side':<4} {'stake':>6} {'ask':>5}  {'outcome':<7} {'P&L':>7}  version"
    lines = [head]
    for t in rows:
        ask = f"{t.ask:.2f}" if t.ask is not None else ""
        lines.append(
            f"{t.id:>6}  {iso(t.entered_at):<19}  {t.slot:<10} {t.side:<4} {t.stake:>6.2f} {ask:>5}  "
            f"{t.outcome or 'open':<7} {_money(t.pnl):>7}  {t.code_version}"
        )
    still_open = sum(1 for t in rows if t.outcome is None)
    lines.append(f"{len(rows)} bets ({still_open} open), P&L {sum(t.pnl or 0 for t in rows):+.2f}")
    return "\n".join(lines)


def performance_table(by: str, groups: list[Performance], total: Performance) -> str:
    width = max([len(by), 5, *(len(g.key) for g in groups)])
    lines = [f"{by:<{width}}  {'bets':>5} {'wins':>5} {'win%':>5} {'P&L':>9} {'staked':>9} {'avg edge':>8} {'max DD':>8}"]
    for g in [*groups, total]:
        rate = f"{g.win_rate:.0%}" if g.win_rate is not None else ""
        edge = f"{g.avg_edge:.3f}" if g.avg_edge is not None else ""
        lines.append(f"{g.key:<{width}}  {g.count:>5} {g.wins:>5} {rate:>5} {g.pnl:>+9.2f} {g.staked:>9.2f} {edge:>8} {g.max_drawdown:>8.2f}")
    return "\n".join(lines)
