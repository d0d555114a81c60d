"""status.json's `feed`: the market's last reading of its feed's health, as the contract's model."""

from __future__ import annotations

from engine.contract import FeedAssetStatus, FeedStatus
from engine.market import Market


def feed_status(market: Market) -> FeedStatus:
    health = market.health
    if health is None:
        return FeedStatus(kind=getattr(market.feed, "name", "sim"))
    return FeedStatus.model_construct(
        kind=health.kind,
        state=health.state,
        url=health.url,
        connects=health.connects,
        drops=health.drops,
        messages=health.messages,
        malformed=health.malformed,
        unknown=health.unknown,
        last_error=health.last_error,
        assets={
            asset: FeedAssetStatus.model_construct(state=h.state, price_age_s=h.age_s, symbol=h.symbol)
            for asset, h in health.assets.items()
        },
    )
