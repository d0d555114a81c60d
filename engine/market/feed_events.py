"""What the event log says about the feed: each asset's change of state, and the connection's drops.

Only changes are told (a stale asset is one event, not one a cycle), with what they mean for
trading, so an operator reading events.jsonl afterwards sees when and why entries stopped.
"""

from __future__ import annotations

from engine.market.feed_health import AssetFeedState, FeedHealth

MEANING: dict[AssetFeedState, str] = {
    "connected": "prices arriving again; entries allowed",
    "reconnecting": "the feed's connection dropped, reconnecting; no new entries",
    "stale": "no price for longer than the stale limit; no new entries, open bets resolve on the last good price",
    "waiting": "no price yet; no entries",
}


class FeedWatch:
    def __init__(self) -> None:
        self._states: dict[str, AssetFeedState] = {}
        self._drops = 0
        self._last: FeedHealth | None = None

    def changes(self, health: FeedHealth | None) -> list[str]:
        """The messages for what changed since the last call (nothing the first time an asset
        is connected: that is the normal start)."""
        if health is None or health is self._last:
            return []  # the same report as last cycle (the simulation's never changes)
        self._last = health
        messages = []
        if health.drops > self._drops:
            messages.append(f"feed {health.kind}: connection lost ({health.last_error or 'no reason given'}); reconnecting")
        self._drops = health.drops
        moved: dict[AssetFeedState, list[str]] = {}
        for asset, h in health.assets.items():
            before = self._states.get(asset)
            self._states[asset] = h.state
            if h.state != before and not (before is None and h.state == "connected"):
                moved.setdefault(h.state, []).append(asset)
        for state, assets in moved.items():
            messages.append(f"feed {health.kind}: {', '.join(assets)} {state}: {MEANING[state]}")
        return messages
