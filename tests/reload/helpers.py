"""Small helpers shared by the reload tests (editing strategy files, snapshots)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

from engine.strategy_api.market_view import MarketView

STRATEGY_FILES = ("ta_engine.py", "momentum_strategy.py", "strategy.py")


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact occurrence of `old` in a strategy file."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new))


def append(path: Path, text: str) -> int:
    """Append lines to a strategy file; returns the line number of the first appended line."""
    before = path.read_text()
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text)
    return before.count("\n") + 1


def line_of(path: Path, marker: str) -> int:
    """1-based line number of the only line holding `marker`."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"{marker!r} is on lines {hits} of {path.name}"
    return hits[0]


def strategy_modules() -> dict[str, ModuleType]:
    """The strategies entries of sys.modules, by name: compared by identity around a refused reload."""
    return {k: v for k, v in sys.modules.items() if k == "strategies" or k.startswith("strategies.")}


def view(
    *,
    move: float = 0.004,
    left_s: float = 20.0,
    asset: str = "BTC",
    window_s: int = 300,
    points: int = 60,
    up_ask: float = 0.5,
    down_ask: float = 0.5,
    noise: float = 0.0,
) -> MarketView:
    """One market view: the price moved by `move` (relative) since the open, `left_s` before the end,
    with a zigzag of relative size `noise` on the way (so volatility estimates are not zero)."""
    start = 1_800_000_000.0
    end = start + window_s
    now = end - left_s
    open_price = 100.0
    step = 1.0
    history = tuple(
        open_price * (1 + move * min(1.0, (i + 1) / points) + noise * (-1) ** (points - 1 - i)) for i in range(points)
    )
    return MarketView(
        slot_id=f"{asset}-{window_s // 60}m",
        asset=asset,
        window_s=window_s,
        now=now,
        window_start=start,
        window_end=end,
        open_price=open_price,
        price=history[-1],
        history=history,
        history_step_s=step,
        up_ask=up_ask,
        down_ask=down_ask,
    )


# Appended to a strategy.py: every reason it gives starts with "v2: " (a visible, harmless change).
V2_REASON = """

import dataclasses as _dc

_evaluate_before = evaluate


def evaluate(view, params):
    decision = _evaluate_before(view, params)
    return None if decision is None else _dc.replace(decision, reason="v2: " + decision.reason)
"""
