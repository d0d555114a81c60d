"""Bets from events.jsonl (and its rotated file), for a ledger created on an existing state directory.

events.jsonl keeps one line per entry and per resolution; its times are wall-clock
instants, not the market clock, and its entries do not name their window, so an
imported row has no window_end, cycle, code version or parameter hash (`source`
'events' marks it). Only resolved bets are imported: the open ones come from the
trading state itself.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

_BOUGHT = re.compile(r"bought (?P<side>up|down) \$(?P<stake>[0-9.]+) at (?P<ask>[0-9.]+)")


def _events(paths: list[Path]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        for line in raw.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn line (a crash mid-append)
            if isinstance(event, dict):
                out.append(event)
    return out


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return None


def imported_bets(paths: list[Path], book: str) -> list[tuple[Any, ...]]:
    """Rows for the ledger's import INSERT, oldest first: each resolution, with its entry's
    stake and ask when the log still holds the entry."""
    rows: list[tuple[Any, ...]] = []
    entries: dict[str, tuple[float | None, dict[str, str]]] = {}
    boot_id = "imported"
    for event in _events(paths):
        kind, detail = event.get("kind"), event.get("detail") or {}
        if not isinstance(detail, dict):
            continue
        if kind == "engine" and isinstance(detail.get("boot_id"), str):
            boot_id = detail["boot_id"]
        elif kind == "entry" and isinstance(detail.get("slot"), str):
            match = _BOUGHT.search(str(event.get("message", "")))
            entries[detail["slot"]] = (_epoch(event.get("at")), match.groupdict() if match else {})
        elif kind == "resolution" and isinstance(detail.get("slot"), str):
            try:
                slot, side, result, pnl = detail["slot"], detail["side"], detail["result"], float(detail["pnl"])
            except (KeyError, TypeError, ValueError):
                continue
            if side not in ("up", "down") or result not in ("won", "lost"):
                continue
            resolved_at = _epoch(event.get("at"))
            entered_at, bought = entries.pop(slot, (None, {}))
            stake = float(bought["stake"]) if "stake" in bought else (-pnl if result == "lost" else None)
            if stake is None or resolved_at is None:
                continue  # a win whose entry the log no longer holds: its stake is unknown
            ask = float(bought["ask"]) if "ask" in bought else None
            shares = round(stake + pnl, 6) if result == "won" else (round(stake / ask, 6) if ask else None)
            asset, _, window = slot.rpartition("-")
            rows.append((
                book, slot, asset, window, side, stake, ask, shares, entered_at or resolved_at, resolved_at,
                result, pnl, _float(detail.get("open")), _float(detail.get("close")), "unknown", "", boot_id,
            ))
    return rows


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
