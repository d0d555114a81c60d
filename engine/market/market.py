"""The market the slots trade: prices from a feed, window boundaries, recent history, quotes."""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Iterable
from contextlib import AbstractContextManager
from itertools import pairwise

from engine.market.feed_health import NEVER, FeedHealth
from engine.market.feeds import YEAR_S, PriceFeed, profile
from engine.market.lag_buffer import LagBuffer
from engine.market.makers import FAIR
from engine.market.quotes import Quote, QuoteModel, quote
from engine.market.record import MarketRecord
from engine.strategy_api.market_view import HISTORY_POINTS

MAX_BOUNDARIES_PER_STEP = 64
SPARK_POINTS = 40  # recent prices status.json shows per asset (price_history: the TUI's sparklines)
SPARK_DIGITS = 6  # significant digits of those: what a sparkline or `:g` can show
# Returns a measured volatility needs; below, the asset's profile volatility stands in.
MIN_VOL_RETURNS = 30
RESUM_EVERY = 1000  # cycles between exact sums of squares, so rounding never drifts
MIN_ANNUAL_VOL = 0.05  # a floor: a flat stretch (a stale feed repeating its price) must not quote certainty


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
    def __init__(
        self,
        feed: PriceFeed,
        assets: Iterable[str],
        window_lengths: Iterable[int],
        step_s: float,
        seed: int,
        maker: QuoteModel = FAIR,
    ) -> None:
        self.feed = feed
        self.maker = maker
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
        self._lagged = LagBuffer(self.assets, maker.lag_s)
        self.now = 0.0
        # The window boundaries' prices the last `advance` recorded (state a restart needs).
        self.new_boundaries: dict[float, dict[str, float]] = {}
        # Per asset, for the prices of now: (lagged price, annual volatility), which every
        # window of the asset quotes from (filled on demand, emptied when the prices move).
        self._quote_inputs: dict[str, tuple[float, float]] = {}
        # How each asset's prices arrive (feed_health.py), read once a cycle, and from when
        # each asset that may take entries now had real prices (absent: it may not).
        self.health: FeedHealth | None = None
        self.live_since: dict[str, float] = {a: NEVER for a in self.assets}
        # The assets with no real price yet in this process: their bets whose window ended are
        # held until one comes (Trader.resolve), and settle at it.
        self.waiting: frozenset[str] = frozenset()
        self.source = ""  # the feed's identity, kept in the record (market_setup.market_source)
        self._live_clock = bool(getattr(feed, "live", False))
        # Per asset, (finite returns, their sum of squares) over `returns`, kept as returns
        # come and go (the fair maker's measured volatility), summed afresh now and then.
        self._squares: dict[str, tuple[int, float]] = {}
        self._appends = 0

    # ------------------------------------------------------------ persistence

    def restore(self, record: MarketRecord, now: float) -> None:
        self.now = now
        self.feed.restore(dict(record.feed), now)
        for asset, points in record.history.items():
            if asset in self.history:
                self.history[asset].extend(points[-HISTORY_POINTS:])
                self.spark[asset].extend(display_round(p) for p in points[-SPARK_POINTS:])
                history = self.history[asset]
                self.returns[asset].extend(_log_return(a, b) for a, b in pairwise(history))
                self._sum_squares(asset)
        self._lagged.seed(self.history, now, self.step_s)
        self.boundaries = {float(t): dict(p) for t, p in record.boundary_prices.items()}
        self.prices = self.feed.prices_at(now)
        self._quote_inputs.clear()
        self._read_health()

    def record(self) -> MarketRecord:
        # Built without validation: these are the market's own floats, and validating every
        # history point of every asset each cycle cost milliseconds at a thousand slots.
        return MarketRecord.model_construct(
            source=self.source,
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
        self._read_health()

    def next_time(self, now: float, step_s: float) -> float:
        """The market time of the next cycle: one step on, or the wall clock for a live feed."""
        if self._live_clock:
            return max(now, round(time.time(), 3))
        return round(now + step_s, 6)

    def journal_entry(self) -> tuple[dict[str, float], dict[str, object], dict[str, dict[str, float]]]:
        """What a cycle added to `record()`: each asset's new history point (the prices now),
        the feed's snapshot and the prices of the window boundaries it crossed, keyed as
        `record()` keys them (see StateManager.journal)."""
        return self.prices, self.feed.snapshot(), {repr(t): p for t, p in self.new_boundaries.items()}

    def advance(self, to: float) -> None:
        edges = self._edges_between(self.now, to)
        self.new_boundaries = {}
        for edge in edges:
            self.boundaries[edge] = self.new_boundaries[edge] = self.feed.prices_at(edge)
        self.now = to
        self.prices = self.feed.prices_at(to)
        self._record_boundaries_at(to)
        self._append_history()
        self._prune()
        self._quote_rng.seed(f"{self.seed}:{to:.3f}")
        self._read_health()
        if self.waiting:
            # An asset with no price yet in this process (a restart, the exchange out of reach)
            # shows its persisted one: no edge it crossed meanwhile may keep that as its price.
            for prices in self.new_boundaries.values():
                for asset in self.waiting:
                    prices.pop(asset, None)

    def _read_health(self) -> None:
        read = getattr(self.feed, "health", None)
        if read is None:  # a feed that says nothing of its health is taken as always connected
            return
        self.health = health = read(self.now)
        self.live_since = {
            asset: h.live_since if h.live_since is not None else NEVER
            for asset, h in health.assets.items()
            if h.state == "connected"
        }
        self.waiting = frozenset(asset for asset, h in health.assets.items() if h.state == "waiting")

    def feed_held(self) -> AbstractContextManager[None]:
        """Around a cycle: a feed with a thread of its own holds it back meanwhile (BinanceFeed.held)."""
        held = getattr(self.feed, "held", None)
        return held() if held is not None else contextlib.nullcontext()

    def close(self) -> None:
        """The engine stopping: a feed with a connection of its own closes it (BinanceFeed.close)."""
        close = getattr(self.feed, "close", None)
        if close is not None:
            close()

    def may_enter(self, asset: str, window_start: float) -> bool:
        """Whether a window of `asset` that opened at `window_start` may take a new entry: only
        while its prices are connected, and only if its open price was a real one."""
        since = self.live_since.get(asset)
        return since is not None and window_start >= since

    def _edges_between(self, start: float, end: float) -> list[float]:
        edges: set[float] = set()
        for length in self.window_lengths:
            first = math.floor(start / length) * length + length
            count = min(int((end - first) // length) + 1, MAX_BOUNDARIES_PER_STEP) if end >= first else 0
            edges.update(first + i * length for i in range(max(count, 0)))
        return sorted(e for e in edges if start < e <= end)

    def _record_boundaries_at(self, t: float) -> None:
        if any(t % length == 0 for length in self.window_lengths):
            self.boundaries[t] = dict(self.prices)
            self.new_boundaries[t] = self.boundaries[t]

    def _append_history(self) -> None:
        self._quote_inputs.clear()
        self._appends += 1
        afresh = self._appends % RESUM_EVERY == 0
        squares = self._squares
        for asset, price in self.prices.items():
            history = self.history[asset]
            if history:
                returns = self.returns[asset]
                r = _log_return(history[-1], price)
                count, total = squares.get(asset, (0, 0.0))
                if len(returns) == returns.maxlen:
                    old = returns[0]
                    if old == old:
                        count, total = count - 1, total - old * old
                returns.append(r)
                if r == r:
                    count, total = count + 1, total + r * r
                squares[asset] = (count, total)
                if afresh:
                    self._sum_squares(asset)
            history.append(price)
            self.spark[asset].append(display_round(price))
        self._lagged.append(self.now, self.prices)

    def _prune(self) -> None:
        horizon = self.now - 2 * max(self.window_lengths, default=0)
        for t in [t for t in self.boundaries if t < horizon]:
            del self.boundaries[t]

    # ---------------------------------------------------------------- reading

    def price_at_boundary(self, t: float, asset: str) -> float:
        return self.boundaries.get(t, self.prices).get(asset, self.prices[asset])

    def lagged_price(self, asset: str) -> float:
        """The price the maker quotes from: the newest, or the one nearest `maker.lag_s` ago."""
        newest = self.history[asset][-1]
        if self.maker.lag_s <= 0:
            return newest
        lagged = self._lagged.price(asset, self.now)
        return newest if lagged is None else lagged

    def measured_vol(self, asset: str) -> float:
        """The asset's annualised volatility over its recent returns (the profile's until there
        are enough of them)."""
        count, squares = self._squares.get(asset, (0, 0.0))
        if count < MIN_VOL_RETURNS or self.step_s <= 0:
            return profile(asset).annual_vol
        return max(math.sqrt(max(squares, 0.0) / count * YEAR_S / self.step_s), MIN_ANNUAL_VOL)

    def _sum_squares(self, asset: str) -> None:
        finite = [r for r in self.returns[asset] if r == r]  # NaN != NaN: returns no logarithm took
        self._squares[asset] = (len(finite), math.fsum(r * r for r in finite))

    def quote(self, asset: str, open_price: float, window_end: float) -> Quote:
        inputs = self._quote_inputs.get(asset)
        if inputs is None:
            vol = self.measured_vol(asset) if self.maker.measured_vol else profile(asset).annual_vol
            inputs = self._quote_inputs[asset] = (self.lagged_price(asset), vol)
        return quote(open_price, inputs[0], window_end - self.now, inputs[1], self._quote_rng, self.maker)
