"""Price feeds: where the market's prices come from.

A feed answers one question, "what does each asset cost at market time t?", for
t that only moves forward. The simulated feed here, the replay of recorded
files (engine/market/replay_feed.py) and the live exchange feed (engine/market/binance_feed.py)
implement the same `PriceFeed` protocol; engine/market_setup.py picks one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from engine.market.feed_health import FeedHealth, always_connected
from engine.market.replay_feed import ReplayError, ReplayFeed

__all__ = ["PROFILES", "YEAR_S", "AssetProfile", "PriceFeed", "ReplayError", "ReplayFeed", "SimFeed", "profile"]

YEAR_S = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class AssetProfile:
    start_price: float
    annual_vol: float


# Annualised volatilities in the range these assets have shown; start prices of late 2026.
PROFILES: dict[str, AssetProfile] = {
    "BTC": AssetProfile(97_000.0, 0.55),
    "ETH": AssetProfile(3_400.0, 0.70),
    "SOL": AssetProfile(240.0, 0.95),
    "XRP": AssetProfile(1.40, 0.85),
    "DOGE": AssetProfile(0.38, 1.05),
    "BNB": AssetProfile(650.0, 0.55),
    "ADA": AssetProfile(0.95, 0.85),
    "AVAX": AssetProfile(42.0, 0.95),
}
UNKNOWN_ASSET = AssetProfile(100.0, 0.80)


def profile(asset: str) -> AssetProfile:
    return PROFILES.get(asset, UNKNOWN_ASSET)


class PriceFeed(Protocol):
    name: str

    def start_time(self) -> float | None:
        """Market time the feed begins at, or None to start from the wall clock."""

    def prices_at(self, t: float) -> dict[str, float]:
        """Every asset's price at market time `t` (non-decreasing between calls)."""

    def snapshot(self) -> dict[str, object]:
        """What to persist so a restarted engine continues the same path."""

    def restore(self, snapshot: dict[str, object], t: float) -> None: ...

    def health(self, t: float) -> FeedHealth:
        """How each asset's prices are arriving at market time `t` (engine/market/feed_health.py)."""


class SimFeed:
    """Driftless geometric Brownian motion per asset, seeded and reproducible."""

    name = "sim"

    def __init__(self, assets: Iterable[str], seed: int = 0) -> None:
        self.assets = tuple(assets)
        self.seed = seed
        self._rng = random.Random(seed)
        self._prices = {a: profile(a).start_price for a in self.assets}
        self._t: float | None = None
        self._health = always_connected(self.name, self.assets)  # the same every cycle

    def start_time(self) -> float | None:
        return None

    def prices_at(self, t: float) -> dict[str, float]:
        if self._t is None:
            self._t = t
        dt = t - self._t
        if dt > 0:
            years = dt / YEAR_S
            for asset, price in self._prices.items():
                sigma = profile(asset).annual_vol
                shock = self._rng.gauss(0.0, 1.0)
                self._prices[asset] = price * math.exp(-0.5 * sigma * sigma * years + sigma * math.sqrt(years) * shock)
            self._t = t
        return dict(self._prices)

    def snapshot(self) -> dict[str, object]:
        return {"prices": dict(self._prices), "t": self._t}

    def health(self, t: float) -> FeedHealth:
        return self._health

    def restore(self, snapshot: dict[str, object], t: float) -> None:
        prices = snapshot.get("prices")
        if isinstance(prices, dict):
            for asset in self.assets:
                value = prices.get(asset)
                if isinstance(value, int | float) and value > 0:
                    self._prices[asset] = float(value)
        self._t = t
        # A fresh stream per restart point keeps runs reproducible for a given seed.
        self._rng = random.Random(f"{self.seed}:{t:.3f}")
