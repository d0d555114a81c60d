"""The prices a lagged maker quotes from: each asset's prices of the last `lag_s` market
seconds, with the times they were the market's (not a count of cycles: a live feed's cycles
are not evenly spaced, and the strategies' 120-point history is far shorter than an hour)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

# The most steps a lag may span (the buffer keeps about as many points per asset): 3600 s at a
# 0.1 s step. Beyond it the engine refuses the lag at start (lag_refusal) rather than quote
# from a younger price than the one it names.
MAX_LAG_STEPS = 36_000


def lag_refusal(lag_s: float, step_s: float) -> str | None:
    """Why a lag cannot be kept at this step (None: it can)."""
    if step_s <= 0 or lag_s / step_s <= MAX_LAG_STEPS:
        return None
    return (
        f"--lag {lag_s:g}s at a {step_s:g}s step spans {lag_s / step_s:,.0f} steps, more than the maker keeps "
        f"({MAX_LAG_STEPS:,}): the largest lag at this step is {MAX_LAG_STEPS * step_s:g}s; lower --lag, "
        "or lengthen the step (a longer --cycle-interval, or a higher --speed on a replay or the simulated market)"
    )


class LagBuffer:
    def __init__(self, assets: Iterable[str], lag_s: float) -> None:
        self.lag_s = lag_s
        self.times: deque[float] = deque()
        self.prices: dict[str, deque[float]] = {asset: deque() for asset in assets}

    def append(self, t: float, prices: Mapping[str, float]) -> None:
        if self.lag_s <= 0:
            return
        self.times.append(t)
        for asset, points in self.prices.items():
            points.append(prices[asset])
        # Keep the newest point at or before t - lag and everything after it.
        horizon = t - self.lag_s
        while len(self.times) > 1 and self.times[1] <= horizon:
            self.times.popleft()
            for points in self.prices.values():
                points.popleft()

    def seed(self, history: Mapping[str, Iterable[float]], now: float, step_s: float) -> None:
        """A restart's persisted history (no times: one point per step, the last one now)."""
        points = {asset: list(history.get(asset, ())) for asset in self.prices}
        count = min((len(p) for p in points.values()), default=0)
        for i in range(count):
            self.append(round(now - (count - 1 - i) * step_s, 6), {a: p[len(p) - count + i] for a, p in points.items()})

    def price(self, asset: str, now: float) -> float | None:
        """The price nearest `lag_s` before `now` (the older of two as near); the oldest kept
        while the market has run less than the lag; None before any point."""
        points = self.prices[asset]
        if not points:
            return None
        horizon = now - self.lag_s
        if len(points) > 1 and abs(self.times[1] - horizon) < abs(horizon - self.times[0]):
            return points[1]
        return points[0]
