"""How each asset's prices are arriving: the feed's report, read once a cycle.

An asset's price is *connected* (fresh and its source up), *reconnecting* (its
source dropped, the last price still young), *stale* (no price for longer than
the feed's stale limit: a silent symbol, a gap in a recording) or *waiting* (no
price yet). Only a connected asset takes new entries (Market.may_enter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AssetFeedState = Literal["connected", "reconnecting", "stale", "waiting"]
NEVER = float("-inf")


@dataclass(slots=True)
class AssetHealth:
    state: AssetFeedState
    age_s: float | None  # seconds since the asset's last price (None before the first)
    # When this process first had a real price of the asset (market time): a window that
    # opened before it has no real open price, so it takes no entries.
    live_since: float | None
    symbol: str = ""


@dataclass(slots=True)
class FeedHealth:
    kind: str
    state: AssetFeedState  # the worst of the assets', or reconnecting while the source is down
    assets: dict[str, AssetHealth]
    url: str = ""
    connects: int = 0
    drops: int = 0
    messages: int = 0
    malformed: int = 0
    unknown: int = 0
    last_error: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. a recording's gaps, reported once at start


_WORST_FIRST: tuple[AssetFeedState, ...] = ("reconnecting", "waiting", "stale", "connected")


def overall(states: list[AssetFeedState]) -> AssetFeedState:
    for state in _WORST_FIRST:
        if state in states:
            return state
    return "connected"


def always_connected(kind: str, assets: tuple[str, ...]) -> FeedHealth:
    """A feed that computes its prices (the simulation) never goes stale."""
    return FeedHealth(kind, "connected", {a: AssetHealth("connected", 0.0, NEVER) for a in assets})
