"""Market views for the strategy tests: the engine's own MarketView, as the engine builds it.

(The strategies never import the engine; their tests may.)
"""

import math
import random

from engine.strategy_api.market_view import MarketView as View

YEAR_S = 365 * 24 * 3600.0


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
) -> View:
    """A 5-minute BTC-like view `time_left` seconds before the end, the price
    `move` (log) away from the open, history a realistic 120-point GBM path.

    By default the asks lag: the side the move favours costs 0.62, the other
    0.40, as if the market had barely noticed the move.
    """
    history = tuple(gbm_path(random.Random(seed), sigma, 1.0, 120))
    price = history[-1]
    favoured, other = 0.62, 0.40
    default_up, default_down = (favoured, other) if move >= 0 else (other, favoured)
    view = View(
        slot_id=f"{asset}-5m",
        asset=asset,
        window_s=300,
        now=1_000.0 - time_left,
        window_start=700.0,
        window_end=1_000.0,
        open_price=price / math.exp(move),
        price=price,
        history=history,
        history_step_s=1.0,
        up_ask=default_up if up_ask is None else up_ask,
        down_ask=default_down if down_ask is None else down_ask,
    )
    return view._replace(**fields) if fields else view
