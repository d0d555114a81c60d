"""Pure technical-analysis indicators over sequences of floats.

Conventions shared by every function here:

- Input is oldest first; the result describes the last point of the sequence.
- Input too short to compute the indicator returns ``None``; it never raises.
- Nonsensical arguments raise ``ValueError``: a period or window <= 0, a
  sample spacing <= 0, a non-positive or non-finite price where a logarithm is
  taken.
- Nothing is cached or stored between calls.
"""

import math
import operator
from collections.abc import Sequence

SECONDS_PER_YEAR: float = 365 * 24 * 3600.0


def _check_period(period: int, name: str = "period") -> None:
    # bool is an int subclass; True as a period is a bug, not a period of 1.
    if isinstance(period, bool) or not isinstance(period, int) or period <= 0:
        raise ValueError(f"{name} must be a positive int, got {period!r}")


def sma(values: Sequence[float], period: int) -> float | None:
    """Simple moving average of the last ``period`` values."""
    _check_period(period)
    if len(values) < period:
        return None
    return math.fsum(values[-period:]) / period


def ema(values: Sequence[float], period: int) -> float | None:
    """Exponential moving average at the last value, alpha = 2 / (period + 1).

    Seeded with the SMA of the first ``period`` values (not with the first
    value), so the result does not depend on one arbitrary starting point;
    it needs at least ``period`` values. With exactly ``period`` values the
    EMA equals their SMA.
    """
    _check_period(period)
    if len(values) < period:
        return None
    alpha = 2.0 / (period + 1)
    result = math.fsum(values[:period]) / period
    for value in values[period:]:
        result += alpha * (value - result)
    return result


def rsi(values: Sequence[float], period: int = 14) -> float | None:
    """Wilder's relative strength index in [0, 100]; needs ``period + 1`` values.

    The first average gain and loss are plain means of the first ``period``
    changes; later ones use Wilder's smoothing,
    ``avg = (avg * (period - 1) + change) / period``. A series with gains and
    no losses is 100, losses and no gains 0, and a flat series 50 (neither
    side has strength).
    """
    _check_period(period)
    if len(values) < period + 1:
        return None
    changes = [b - a for a, b in zip(values, values[1:], strict=False)]
    avg_gain = math.fsum(max(c, 0.0) for c in changes[:period]) / period
    avg_loss = math.fsum(max(-c, 0.0) for c in changes[:period]) / period
    for change in changes[period:]:
        avg_gain = (avg_gain * (period - 1) + max(change, 0.0)) / period
        avg_loss = (avg_loss * (period - 1) + max(-change, 0.0)) / period
    if avg_loss == 0.0:
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def rate_of_change(values: Sequence[float], period: int = 1) -> float | None:
    """Fractional change over ``period`` steps: ``v[-1] / v[-1 - period] - 1``.

    ``None`` when there are not ``period + 1`` values or the base value is 0.
    """
    _check_period(period)
    if len(values) < period + 1:
        return None
    base = values[-1 - period]
    if base == 0:
        return None
    return values[-1] / base - 1.0


def all_positive_finite(values: Sequence[float]) -> bool:
    """True when every value is > 0 and finite (True for no values).

    The engine asks this of every slot's history each cycle: ``min`` and ``sum``
    run in C, and a finite sum proves no value is NaN or infinite. Only when
    that quick test fails (a bad value, or a sum that overflows) are the
    values looked at one by one. Values that carry their log returns (see
    :func:`log_returns`) need only those to be finite and the first value good.
    """
    if values and _carried_log_returns(values) is not None:
        return values[0] > 0 and math.isfinite(values[0])
    if values and min(values) > 0 and math.isfinite(sum(values)):
        return True
    return all(x > 0 and math.isfinite(x) for x in values)


def _carried_log_returns(prices: Sequence[float]) -> tuple[float, ...] | None:
    """The log returns `prices` carries (see :func:`log_returns`) when they fit it and are
    finite: finite ratios of consecutive prices, so from a positive finite first price on,
    every price is positive and finite too."""
    known = getattr(prices, "log_returns", None)
    if known is not None and len(known) == len(prices) - 1 and math.isfinite(sum(known)):
        return tuple(known)
    return None


def log_returns(prices: Sequence[float]) -> tuple[float, ...]:
    """``ln(p[i] / p[i-1])`` for consecutive prices; empty for fewer than 2 prices.

    A sequence that carries its own log returns as a ``log_returns`` attribute
    (the engine's ``MarketView.history`` does: it measures them once per asset
    per cycle, for all the asset's windows) is not measured again; a finite sum
    of those proves the prices positive and finite as the check below would.
    """
    known = _carried_log_returns(prices)
    if known is not None and prices[0] > 0 and math.isfinite(prices[0]):
        return known
    if not all_positive_finite(prices):
        bad = next(p for p in prices if not (p > 0 and math.isfinite(p)))
        raise ValueError(f"prices must be positive and finite, got {bad!r}")
    # The same divisions and logarithms as a loop over the pairs, run by `map` in C.
    return tuple(map(math.log, map(operator.truediv, prices[1:], prices)))


def realised_volatility(prices: Sequence[float], window: int | None = None) -> float | None:
    """Sample standard deviation (n - 1) of the log returns, per sample step.

    ``window`` limits it to the last ``window`` returns (all of them when
    ``None``). Needs at least 2 returns, i.e. 3 prices. The result is in
    units of the sample spacing; see :func:`annualise_volatility`.
    """
    if window is not None:
        _check_period(window, "window")
    returns = log_returns(prices)
    return sample_volatility(returns[-window:] if window is not None else returns)


def sample_volatility(returns: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1) of ``returns`` as they are (log returns, see
    :func:`log_returns`); ``None`` for fewer than 2. :func:`realised_volatility` of prices
    is this of their log returns."""
    n = len(returns)
    if n < 2:
        return None
    mean = math.fsum(returns) / n
    # sum((r - mean) ** 2) as sum(r ** 2) - n * mean ** 2: one pass (in C) instead of two.
    # Both sums are exact-rounded (fsum), so the difference loses nothing that matters
    # at the sizes of returns; it is floored at 0 against a last-bit negative.
    variance = (math.fsum(map(operator.mul, returns, returns)) - n * mean * mean) / (n - 1)
    return math.sqrt(max(variance, 0.0))


def annualise_volatility(
    vol_per_step: float, step_s: float, *, year_s: float = SECONDS_PER_YEAR
) -> float:
    """Scale a per-step volatility to one year: ``vol * sqrt(year_s / step_s)``.

    Random-walk scaling (variance grows linearly with time); a year is
    365 days of 24 hours, as markets that never close count it.
    """
    if not (step_s > 0 and math.isfinite(step_s)):
        raise ValueError(f"step_s must be positive and finite, got {step_s!r}")
    if not (year_s > 0 and math.isfinite(year_s)):
        raise ValueError(f"year_s must be positive and finite, got {year_s!r}")
    if not (vol_per_step >= 0 and math.isfinite(vol_per_step)):
        raise ValueError(f"vol_per_step must be >= 0 and finite, got {vol_per_step!r}")
    return vol_per_step * math.sqrt(year_s / step_s)
