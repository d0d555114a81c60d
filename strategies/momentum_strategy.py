"""The reactive path: momentum since the market window opened.

The move from the window's open price to the current price is measured in
units of the volatility the rest of the window can still add (realised
volatility of ``history`` scaled to the time left). A move that the remaining
time can hardly undo gives a confident call in its direction. When the recent
trend (fast EMA against slow EMA) runs against that move, the call is damped:
the reactive path trusts momentum only while it persists.
"""

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

from strategies import ta_engine

# tanh(0.85 * z) stays within about 0.01 of 2 * Phi(z) - 1, so a reactive
# confidence reads on the same scale as a probability.
_SQUASH_GAIN = 0.85
# A move against the short-term trend counts half.
_COUNTER_TREND_DAMPING = 0.5
# Each trend EMA runs over its last _EMA_SPAN x period points, not the whole
# history: what an EMA of period p carries of older points after 3p steps is
# (1 - 2 / (p + 1)) ** (3 * p), about e ** -6 (0.25 %), and an EMA's cost grows
# with the points it runs over (the engine evaluates every slot every cycle).
_EMA_SPAN = 4


class MomentumSignal(NamedTuple):
    """Immutable. A NamedTuple rather than a dataclass: every reload executes this
    module again, and a NamedTuple class is much cheaper to build."""

    direction: Literal["up", "down"]
    confidence: float  # in [0.5, 1]
    score: float  # move since the open / volatility left in the window (signed)


def momentum_signal(
    *,
    open_price: float,
    price: float,
    history: Sequence[float],
    history_step_s: float,
    time_left_s: float,
    min_volatility: float,
    fast_period: int,
    slow_period: int,
    min_time_left_s: float = 1.0,
    step_vol: float | None = None,
    trend: tuple[float | None, float | None] | None = None,
) -> MomentumSignal | None:
    """The reactive call for one slot, or ``None`` without enough history.

    ``min_volatility`` is an annualised floor on the volatility estimate, so a
    quiet stretch of history cannot turn a tiny move into a certainty.
    ``time_left_s`` is floored at ``min_time_left_s`` for the same reason.
    ``step_vol`` (the per-step volatility) and ``trend`` (:func:`trend_emas`)
    depend on the history alone: a caller with several slots of one asset
    measures them once and passes them in.
    """
    if not (open_price > 0 and price > 0 and history_step_s > 0):
        return None
    if step_vol is None:
        step_vol = ta_engine.realised_volatility(history)
    if step_vol is None:
        return None
    fast, slow = trend_emas(history, fast_period, slow_period) if trend is None else trend
    move = math.log(price / open_price)
    floored_vol = max(step_vol, min_volatility * math.sqrt(history_step_s / ta_engine.SECONDS_PER_YEAR))
    steps_left = max(time_left_s, min_time_left_s) / history_step_s
    score = move / (floored_vol * math.sqrt(steps_left))
    strength = abs(score)
    if fast is not None and slow is not None and (fast - slow) * move < 0:
        strength *= _COUNTER_TREND_DAMPING
    return MomentumSignal(
        direction="up" if move >= 0 else "down",
        confidence=0.5 + 0.5 * math.tanh(_SQUASH_GAIN * strength),
        score=score,
    )


def trend_emas(history: Sequence[float], fast_period: int, slow_period: int) -> tuple[float | None, float | None]:
    """The fast and slow EMAs of the trend check (``None`` each without enough history)."""
    return (
        ta_engine.ema(history[-_EMA_SPAN * fast_period :], fast_period),
        ta_engine.ema(history[-_EMA_SPAN * slow_period :], slow_period),
    )
