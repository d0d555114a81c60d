"""Market views for tests: the engine's own MarketView, built in one place.

`market_view` is the one constructor; the scenarios build on it: `make_view` (a
BTC-like GBM history before the close, for the strategy tests) and `view` (a
steady move with an optional zigzag, for the reload tests). The strategies
never import the engine; their tests may.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from engine.strategy_api.market_view import HISTORY_POINTS, MarketView

View = MarketView
YEAR_S = 365 * 24 * 3600.0


def market_view(
    *,
    asset: str,
    window_s: int,
    window_start: float,
    now: float,
    open_price: float,
    history: Sequence[float],
    up_ask: float,
    down_ask: float,
    history_step_s: float = 1.0,
    window_end: float | None = None,
    slot_id: str | None = None,
    **rest: Any,
) -> MarketView:
    """A view whose price is the last of its history; the window ends `window_s` after its start
    unless `window_end` says otherwise; `rest` are MarketView's optional fields."""
    history = tuple(history)
    return MarketView(
        slot_id=slot_id if slot_id is not None else f"{asset}-{window_s // 60}m",
        asset=asset,
        window_s=window_s,
        now=now,
        window_start=window_start,
        window_end=window_start + window_s if window_end is None else window_end,
        open_price=open_price,
        price=history[-1],
        history=history,
        history_step_s=history_step_s,
        up_ask=up_ask,
        down_ask=down_ask,
        **rest,
    )


def gbm_path(rng: random.Random, sigma: float, step_s: float, n: int, start: float = 100.0) -> list[float]:
    """n prices of a driftless GBM (martingale) sampled every step_s seconds."""
    sd = sigma * math.sqrt(step_s / YEAR_S)
    prices = [start]
    for _ in range(n - 1):
        prices.append(prices[-1] * math.exp(sd * rng.gauss(0.0, 1.0) - 0.5 * sd * sd))
    return prices


def make_view(
    *,
    move: float = 0.003,
    time_left: float = 30.0,
    asset: str = "BTC",
    sigma: float = 0.55,
    up_ask: float | None = None,
    down_ask: float | None = None,
    seed: int = 7,
    **fields: object,
) -> MarketView:
    """A 5-minute BTC-like view `time_left` seconds before the end, the price
    `move` (log) away from the open, history a realistic 120-point GBM path.

    By default the asks lag: the side the move favours costs 0.62, the other
    0.40, as if the market had barely noticed the move.
    """
    history = gbm_path(random.Random(seed), sigma, 1.0, HISTORY_POINTS)
    favoured, other = 0.62, 0.40
    default_up, default_down = (favoured, other) if move >= 0 else (other, favoured)
    view = market_view(
        asset=asset,
        window_s=300,
        window_start=700.0,
        now=1_000.0 - time_left,
        open_price=history[-1] / math.exp(move),
        history=history,
        up_ask=default_up if up_ask is None else up_ask,
        down_ask=default_down if down_ask is None else down_ask,
    )
    return view._replace(**fields) if fields else view


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
    """The price moved by `move` (relative) since the open, `left_s` before the end, with a
    zigzag of relative size `noise` on the way (so volatility estimates are not zero)."""
    start = 1_800_000_000.0
    open_price = 100.0
    history = [
        open_price * (1 + move * min(1.0, (i + 1) / points) + noise * (-1) ** (points - 1 - i)) for i in range(points)
    ]
    return market_view(
        asset=asset,
        window_s=window_s,
        window_start=start,
        now=start + window_s - left_s,
        open_price=open_price,
        history=history,
        up_ask=up_ask,
        down_ask=down_ask,
    )
