"""status.json's `feed`: the market's last reading of its feed's health, as the contract's model."""

from __future__ import annotations

from engine.contract.models import FeedAssetStatus, FeedStatus
from engine.market.feed_health import FeedHealth
from engine.market.market import Market

_last: tuple[object, FeedStatus] | None = None


def feed_status(market: Market) -> FeedStatus:
    global _last
    health = market.health
    if health is None:
        return FeedStatus(kind=getattr(market.feed, "name", "sim"))
    # A feed whose health never changes (the simulation) hands the same object every cycle:
    # one model for it, not one per asset per cycle (512 of them at 1,024 slots).
    if _last is not None and _last[0] is health:
        return _last[1]
    status = _build(health)
    _last = (health, status)
    return status


def _build(health: FeedHealth) -> FeedStatus:
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
