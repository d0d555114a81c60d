"""Recorded prices replayed in market time, from one or more files (engine/market/replay_layouts.py).

Nothing is interpolated: between two recorded prices the last one holds, and a
gap longer than GAP_FACTOR times the asset's usual spacing is reported when the
files load and shows the asset as stale while the replay crosses it (a stale
asset takes no new entries).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path

from engine.market.feed_health import AssetHealth, FeedHealth, overall
from engine.market.replay_layouts import ReplayError, read_recording, usual_spacing

GAP_FACTOR = 3.0
GAPS_NAMED = 3  # the longest gaps each note names

__all__ = ["GAP_FACTOR", "ReplayError", "ReplayFeed"]


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.1f}m"
    return f"{seconds:g}s"


class ReplayFeed:
    """Every asset's recorded price at market time t (the last one at or before t)."""

    name = "replay"

    def __init__(self, paths: Path | Iterable[Path], assets: Iterable[str]) -> None:
        self.paths = (paths,) if isinstance(paths, Path) else tuple(paths)
        self.path = self.paths[0]
        self.assets = tuple(assets)
        self._times: dict[str, list[float]] = {}
        self._values: dict[str, list[float]] = {}
        self.stale_after: dict[str, float] = {}
        self.gaps: dict[str, list[tuple[float, float]]] = {}
        self.layouts: dict[Path, str] = {}
        # What the files held that a replay cannot take as it is, said rather than fixed silently.
        self.disorder_notes: list[str] = []
        self._load()
        self._health_notes = self.disorder_notes + self.gap_notes()

    def _load(self) -> None:
        merged: dict[str, dict[float, float]] = {a: {} for a in self.assets}
        conflicts: dict[str, list[tuple[float, float, float]]] = {}
        for path in self.paths:
            recording = read_recording(path, self.assets)
            self.layouts[path] = recording.layout
            for asset, (count, line) in recording.out_of_order.items():
                self.disorder_notes.append(
                    f"replay {asset}: {count} row{'s' if count != 1 else ''} out of time order (first at {path}:{line}); "
                    "replayed in time order"
                )
            for asset, points in recording.series.items():
                prices = merged[asset]
                for t, price in points:
                    before = prices.get(t)
                    if before is not None and before != price:
                        conflicts.setdefault(asset, []).append((t, before, price))
                    prices[t] = price  # a time recorded twice keeps the later file's or row's price
        for asset, clashes in conflicts.items():
            t, before, after = clashes[0]
            self.disorder_notes.append(
                f"replay {asset}: {len(clashes)} time{'s' if len(clashes) != 1 else ''} recorded twice with different "
                f"prices (first {_when(t)}: {before:g} then {after:g}); the later one is used"
            )
        missing = [a for a, points in merged.items() if not points]
        if missing:
            files = ", ".join(str(p) for p in self.paths)
            raise ReplayError(
                f"{files}: no prices for {', '.join(missing)}: add a file for each, or name the assets it has with --assets"
            )
        for asset, prices in merged.items():
            times = sorted(prices)
            self._times[asset] = times
            self._values[asset] = [prices[t] for t in times]
            spacing = usual_spacing(times)
            self.stale_after[asset] = GAP_FACTOR * spacing
            self.gaps[asset] = [(a, b) for a, b in pairwise(times) if b - a > GAP_FACTOR * spacing]

    def gap_notes(self) -> list[str]:
        notes = []
        for asset, gaps in self.gaps.items():
            if not gaps:
                continue
            longest = sorted(gaps, key=lambda g: g[0] - g[1])[:GAPS_NAMED]
            named = ", ".join(f"{_span(b - a)} from {_when(a)}" for a, b in longest)
            notes.append(
                f"replay {asset}: {len(gaps)} gap{'s' if len(gaps) != 1 else ''} in the recording (longest: {named}); "
                f"not interpolated: the asset is stale across each and takes no entries"
            )
        return notes

    def summary(self) -> str:
        """What was read, per asset: how many prices, from when to when."""
        return "; ".join(
            f"{len(times):,} prices of {asset} ({_when(times[0])} to {_when(times[-1])})" for asset, times in self._times.items()
        )

    def start_time(self) -> float | None:
        return min(times[0] for times in self._times.values())

    def prices_at(self, t: float) -> dict[str, float]:
        out = {}
        for asset in self.assets:
            index = bisect.bisect_right(self._times[asset], t) - 1
            out[asset] = self._values[asset][max(index, 0)]
        return out

    def health(self, t: float) -> FeedHealth:
        assets = {}
        for asset in self.assets:
            times = self._times[asset]
            index = bisect.bisect_right(times, t) - 1
            if index < 0:
                assets[asset] = AssetHealth("waiting", None, None)
                continue
            age = t - times[index]
            assets[asset] = AssetHealth("stale" if age > self.stale_after[asset] else "connected", round(age, 3), times[0])
        health = FeedHealth("replay", overall([h.state for h in assets.values()]), assets, url=",".join(str(p) for p in self.paths))
        health.notes = self._health_notes
        return health

    def snapshot(self) -> dict[str, object]:
        return {}

    def restore(self, snapshot: dict[str, object], t: float) -> None:
        return None
