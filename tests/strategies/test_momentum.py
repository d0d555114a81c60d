"""The reactive path on its own (strategies.momentum_strategy.momentum_signal); strategy.py
calls it for each slot with what it measured once per asset (the volatility, the trend EMAs)."""

from __future__ import annotations

import math

from strategies.momentum_strategy import MomentumSignal, momentum_signal


def wiggly(start: float, drift: float, n: int = 120) -> list[float]:
    """`n` prices drifting by `drift` a step, with a wiggle so the volatility is not zero."""
    return [start * (1.0 + drift * i + 0.0004 * math.sin(1.3 * i)) for i in range(n)]


def signal(
    history: list[float], price: float, open_price: float = 100.0, time_left_s: float = 60.0, step_vol: float | None = None
) -> MomentumSignal | None:
    return momentum_signal(
        open_price=open_price,
        price=price,
        history=history,
        history_step_s=1.0,
        time_left_s=time_left_s,
        min_volatility=0.2,
        fast_period=5,
        slow_period=20,
        step_vol=step_vol,
    )


def test_a_move_up_calls_up_and_a_move_down_calls_down() -> None:
    up = signal(wiggly(100.0, 0.00002), price=100.3)
    down = signal(wiggly(100.0, -0.00002), price=99.7)
    assert up is not None and up.direction == "up" and 0.5 < up.confidence <= 1.0 and up.score > 0
    assert down is not None and down.direction == "down" and 0.5 < down.confidence <= 1.0 and down.score < 0


def test_a_move_against_the_recent_trend_counts_less() -> None:
    # The same move and volatility: only the trend of the history differs.
    with_trend = signal(wiggly(99.5, 0.0001), price=100.3, step_vol=0.0005)
    against = signal(wiggly(101.5, -0.0001), price=100.3, step_vol=0.0005)
    assert with_trend is not None and against is not None
    assert with_trend.direction == against.direction == "up" and with_trend.score == against.score
    assert against.confidence < with_trend.confidence


def test_less_time_left_makes_the_same_move_surer() -> None:
    history = wiggly(100.0, 0.00002)
    early, late = signal(history, 100.3, time_left_s=600.0), signal(history, 100.3, time_left_s=30.0)
    assert early is not None and late is not None and late.confidence > early.confidence


def test_no_call_without_enough_history_or_with_prices_no_market_has() -> None:
    assert signal([100.0, 100.1], price=100.3) is None
    assert signal(wiggly(100.0, 0.0), price=0.0) is None
    assert signal(wiggly(100.0, 0.0), price=100.3, open_price=-1.0) is None
