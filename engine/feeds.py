"""Price feeds: where the market's prices come from.

A feed answers one question, "what does each asset cost at market time t?", for
t that only moves forward. The simulated feed and the CSV replay are the two
shipped; a live exchange feed implements the same `PriceFeed` protocol.
"""

from __future__ import annotations

import bisect
import csv
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


class SimFeed:
    """Driftless geometric Brownian motion per asset, seeded and reproducible."""

    name = "sim"

    def __init__(self, assets: Iterable[str], seed: int = 0) -> None:
        self.assets = tuple(assets)
        self.seed = seed
        self._rng = random.Random(seed)
        self._prices = {a: profile(a).start_price for a in self.assets}
        self._t: float | None = None

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


class ReplayError(ValueError):
    pass


class ReplayFeed:
    """Recorded prices from a CSV of `timestamp,asset,price` rows (timestamp in epoch seconds)."""

    name = "replay"

    def __init__(self, path: Path, assets: Iterable[str]) -> None:
        self.path = path
        self.assets = tuple(assets)
        self._times: dict[str, list[float]] = {a: [] for a in self.assets}
        self._values: dict[str, list[float]] = {a: [] for a in self.assets}
        self._load()

    def _load(self) -> None:
        try:
            handle = self.path.open(newline="")
        except OSError as exc:
            raise ReplayError(f"cannot open replay file {self.path}: {exc.strerror}") from exc
        rows: dict[str, list[tuple[float, float]]] = {a: [] for a in self.assets}
        with handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or row[0].strip().lower() in ("timestamp", "ts", "time"):
                    continue
                if len(row) < 3:
                    raise ReplayError(f"{self.path}:{number}: expected timestamp,asset,price")
                try:
                    ts, asset, price = float(row[0]), row[1].strip().upper(), float(row[2])
                except ValueError as exc:
                    raise ReplayError(f"{self.path}:{number}: {exc}") from exc
                if asset in rows and price > 0:
                    rows[asset].append((ts, price))
        missing = [a for a, series in rows.items() if not series]
        if missing:
            raise ReplayError(f"{self.path}: no prices for {', '.join(missing)}")
        for asset, series in rows.items():
            series.sort()
            self._times[asset] = [ts for ts, _ in series]
            self._values[asset] = [p for _, p in series]

    def start_time(self) -> float | None:
        return min(times[0] for times in self._times.values())

    def end_time(self) -> float:
        return max(times[-1] for times in self._times.values())

    def prices_at(self, t: float) -> dict[str, float]:
        out = {}
        for asset in self.assets:
            index = bisect.bisect_right(self._times[asset], t) - 1
            out[asset] = self._values[asset][max(index, 0)]
        return out

    def snapshot(self) -> dict[str, object]:
        return {}

    def restore(self, snapshot: dict[str, object], t: float) -> None:
        return None


def make_feed(spec: str, assets: Iterable[str], seed: int) -> PriceFeed:
    if spec == "sim":
        return SimFeed(assets, seed)
    if spec.startswith("replay:"):
        return ReplayFeed(Path(spec.removeprefix("replay:")), assets)
    raise ValueError(f"unknown feed {spec!r}: use sim or replay:FILE.csv")
