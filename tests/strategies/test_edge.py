"""The strategy has a real edge on the market it trades; a coin flip does not.

A self-contained copy of the simulated market (the engine is not imported):
prices follow a driftless GBM; the market's P(up) uses the price from 20 s
ago, shrinks its z-score by 0.7 and adds N(0, 0.15) noise, and each ask is
that probability plus a 0.01 fee, clipped to [0.01, 0.99].
"""

import math
import random

from strategies.strategy import Params, evaluate
from tests.support.market_views import gbm_path, market_view

VOLS = {"BTC": 0.55, "ETH": 0.70, "SOL": 0.95, "XRP": 0.85, "DOGE": 1.05, "BNB": 0.55, "ADA": 0.85, "AVAX": 0.95}
YEAR_S = 365 * 24 * 3600.0
STEP_S = 5.0  # history spacing and decision interval
WINDOW_S = 300
LAG_S = 20.0
HISTORY = 120
WINDOWS_PER_ASSET = 375  # 8 assets x 375 = 3,000 windows


def phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def market_asks(rng: random.Random, lagged: float, open_price: float, sigma: float, tau_s: float) -> tuple[float, float]:
    z = 0.7 * math.log(lagged / open_price) / (sigma * math.sqrt(tau_s / YEAR_S)) + rng.gauss(0.0, 0.15)
    p = phi(z)
    return min(0.99, max(0.01, p + 0.01)), min(0.99, max(0.01, 1.0 - p + 0.01))


def pnl_per_dollar(ask: float, won: bool) -> float:
    return 1.0 / ask - 1.0 if won else -1.0


def simulate(seed: int, params: Params) -> tuple[list[float], list[float]]:
    """P&L per $1 of the strategy (at most one bet a window, as the engine
    allows) and of a coin flip at the ask at a random moment of the same
    snipe window."""
    rng = random.Random(seed)
    steps = int(WINDOW_S / STEP_S)
    lag = int(LAG_S / STEP_S)
    snipe = int(params.snipe_window_s / STEP_S)
    strategy_pnl: list[float] = []
    coin_pnl: list[float] = []
    for asset, sigma in VOLS.items():
        # one continuous path per asset; windows back to back after a warm-up
        prices = gbm_path(rng, sigma, STEP_S, HISTORY + WINDOWS_PER_ASSET * steps + 1)
        for w in range(WINDOWS_PER_ASSET):
            i_open = HISTORY + w * steps
            i_end = i_open + steps
            open_price = prices[i_open]
            closed_up = prices[i_end] >= open_price
            coin_step, coin_up = rng.randrange(i_end - snipe, i_end), rng.random() < 0.5
            entered = False
            for k in range(i_end - snipe, i_end):
                up_ask, down_ask = market_asks(rng, prices[k - lag], open_price, sigma, (i_end - k) * STEP_S)
                if k == coin_step:
                    coin_pnl.append(pnl_per_dollar(up_ask if coin_up else down_ask, coin_up == closed_up))
                if entered:
                    continue
                view = market_view(
                    slot_id=f"{asset}-5m", asset=asset, window_s=WINDOW_S,
                    now=k * STEP_S, window_start=i_open * STEP_S, window_end=i_end * STEP_S,
                    open_price=open_price, history=prices[k - HISTORY + 1 : k + 1],
                    history_step_s=STEP_S, up_ask=up_ask, down_ask=down_ask,
                )
                d = evaluate(view, params)
                if d is not None and d.enter:
                    entered = True
                    up = d.direction == "up"
                    strategy_pnl.append(pnl_per_dollar(up_ask if up else down_ask, up == closed_up))
    return strategy_pnl, coin_pnl


def mean_and_stderr(xs: list[float]) -> tuple[float, float]:
    n = len(xs)
    mean = math.fsum(xs) / n
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return mean, math.sqrt(var / n)


def test_strategy_beats_the_market_and_a_coin_flip_loses() -> None:
    strategy_pnl, coin_pnl = simulate(seed=0, params=Params())
    s_mean, s_err = mean_and_stderr(strategy_pnl)
    c_mean, c_err = mean_and_stderr(coin_pnl)
    win_rate = sum(p > 0 for p in strategy_pnl) / len(strategy_pnl)
    print(
        f"\nstrategy: {len(strategy_pnl)} bets, {s_mean:+.4f} +/- {s_err:.4f} per $1, win rate {win_rate:.3f}"
        f"\ncoin flip: {len(coin_pnl)} bets, {c_mean:+.4f} +/- {c_err:.4f} per $1"
    )
    assert len(strategy_pnl) > 1_000
    assert s_mean - 3 * s_err > 0
    assert c_mean < 0
    assert s_mean > c_mean + 3 * math.hypot(s_err, c_err)
