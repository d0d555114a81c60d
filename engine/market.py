"""The market the slots trade: prices from a feed, window boundaries, recent history, quotes."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable

from engine.feeds import PriceFeed, profile
from engine.quotes import LAG_S, Quote, quote
from engine.state import HISTORY_POINTS, MarketRecord

MAX_BOUNDARIES_PER_STEP = 64
SPARK_POINTS = 40  # recent prices status.json shows per asset (price_history: the TUI's sparklines)
SPARK_DIGITS = 6  # significant digits of those: what a sparkline or `:g` can show


def display_round(price: float) -> float:
    """`price` to SPARK_DIGITS significant digits (status.json's sparkline points)."""
    if price == 0 or not math.isfinite(price):
        return price
    return round(price, SPARK_DIGITS - 1 - math.floor(math.log10(abs(price))))



def _log_return(before: float, after: float) -> float:
    """ln(after / before), NaN for prices no logarithm takes (a strategy refuses those anyway)."""
    try:
        return math.log(after / before)
    except (ValueError, ZeroDivisionError):
        return math.nan


class Market:
    def __init__(self, feed: PriceFeed, assets: Iterable[str], window_lengths: Iterable[int], step_s: float, seed: int) -> None:
        self.feed = feed
        self.assets = tuple(assets)
        self.window_lengths = tuple(sorted(set(window_lengths)))
        self.step_s = step_s
        self.seed = seed
        self.prices: dict[str, float] = {}
        self.history: dict[str, deque[float]] = {a: deque(maxlen=HISTORY_POINTS) for a in self.assets}
        # ln(p[i] / p[i-1]) of consecutive history points, one more each step (MarketView.log_returns).
        self.returns: dict[str, deque[float]] = {a: deque(maxlen=HISTORY_POINTS - 1) for a in self.assets}
        # The last SPARK_POINTS of history, rounded for display once per point rather than once per status write.
        self.spark: dict[str, deque[float]] = {a: deque(maxlen=SPARK_POINTS) for a in self.assets}
        # Prices at window boundaries, so a window resolves (and the next opens) at its exact edge.
        self.boundaries: dict[float, dict[str, float]] = {}
        self._quote_rng = random.Random(seed)
        self.now = 0.0
        # Whether the last `advance` recorded a window boundary's prices (state a restart needs).
        self.boundaries_moved = False
        # Per asset, for the prices of now: (lagged price, annual volatility), which every
        # window of the asset quotes from (filled on demand, emptied when the prices move).
        self._quote_inputs: dict[str, tuple[float, float]] = {}

    # ------------------------------------------------------------ persistence

    def restore(self, record: MarketRecord, now: float) -> None:
        self.now = now
        self.feed.restore(dict(record.feed), now)
        for asset, points in record.history.items():
            if asset in self.history:
                self.history[asset].extend(points[-HISTORY_POINTS:])
                self.spark[asset].extend(display_round(p) for p in points[-SPARK_POINTS:])
                history = self.history[asset]
                self.returns[asset].extend(_log_return(a, b) for a, b in zip(history, list(history)[1:]))
        self.boundaries = {float(t): dict(p) for t, p in record.boundary_prices.items()}
        self.prices = self.feed.prices_at(now)
        self._quote_inputs.clear()

    def record(self) -> MarketRecord:
        # Built without validation: these are the market's own floats, and validating every
        # history point of every asset each cycle cost milliseconds at a thousand slots.
        return MarketRecord.model_construct(
            feed=self.feed.snapshot(),
            history={a: list(h) for a, h in self.history.items()},
            boundary_prices={repr(t): dict(p) for t, p in self.boundaries.items()},
        )

    # --------------------------------------------------------------- stepping

    def start(self, now: float) -> None:
        self.now = now
        self.prices = self.feed.prices_at(now)
        self._record_boundaries_at(now)
        self._append_history()

    def journal_entry(self) -> tuple[dict[str, float], dict[str, object]]:
        """What a cycle without a boundary added to `record()`: each asset's new history
        point (the prices now) and the feed's snapshot (see StateManager.journal)."""
        return self.prices, self.feed.snapshot()

    def advance(self, to: float) -> None:
        edges = self._edges_between(self.now, to)
        for edge in edges:
            self.boundaries[edge] = self.feed.prices_at(edge)
        self.now = to
        self.prices = self.feed.prices_at(to)
        self.boundaries_moved = bool(edges) | self._record_boundaries_at(to)
        self._append_history()
        self._prune()
        self._quote_rng.seed(f"{self.seed}:{to:.3f}")

    def _edges_between(self, start: float, end: float) -> list[float]:
        edges: set[float] = set()
        for length in self.window_lengths:
            first = math.floor(start / length) * length + length
            count = min(int((end - first) // length) + 1, MAX_BOUNDARIES_PER_STEP) if end >= first else 0
            edges.update(first + i * length for i in range(max(count, 0)))
        return sorted(e for e in edges if start < e <= end)

    def _record_boundaries_at(self, t: float) -> bool:
        if any(t % length == 0 for length in self.window_lengths):
            self.boundaries[t] = dict(self.prices)
            return True
        return False

    def _append_history(self) -> None:
        self._quote_inputs.clear()
        for asset, price in self.prices.items():
            history = self.history[asset]
            if history:
                self.returns[asset].append(_log_return(history[-1], price))
            history.append(price)
            self.spark[asset].append(display_round(price))

    def _prune(self) -> None:
        horizon = self.now - 2 * max(self.window_lengths, default=0)
        for t in [t for t in self.boundaries if t < horizon]:
            del self.boundaries[t]

    # ---------------------------------------------------------------- reading

    def price(self, asset: str) -> float:
        return self.prices[asset]

    def price_at_boundary(self, t: float, asset: str) -> float:
        return self.boundaries.get(t, self.prices).get(asset, self.prices[asset])

    def lagged_price(self, asset: str) -> float:
        history = self.history[asset]
        back = max(1, round(LAG_S / self.step_s)) if self.step_s > 0 else 1
        return history[-1 - back] if len(history) > back else history[0]

    def quote(self, asset: str, open_price: float, window_end: float) -> Quote:
        inputs = self._quote_inputs.get(asset)
        if inputs is None:
            inputs = self._quote_inputs[asset] = (self.lagged_price(asset), profile(asset).annual_vol)
        return quote(open_price, inputs[0], window_end - self.now, inputs[1], self._quote_rng)
