"""The operator sees a stale or reconnecting feed on the asset's cards and in the header, and which maker quotes."""

from __future__ import annotations

from engine.contract.models import FeedAssetStatus, FeedStatus, Status
from foresight_tui.widgets.slot_grid import SlotGrid

from .conftest import ASSETS, header_text

SIZE = (160, 50)


def eth_stale(status: Status) -> None:
    status.engine.feed = "binance"
    status.engine.maker = "fair (spread 0.02, fee 0.01)"
    status.feed = FeedStatus(
        kind="binance",
        state="stale",
        assets={a: FeedAssetStatus(state="stale" if a == "ETH" else "connected", price_age_s=12.3 if a == "ETH" else 0.2) for a in ASSETS},
    )
    for slot in status.slots:
        if slot.asset == "ETH":
            slot.feed, slot.price_age_s = "stale", 12.3


def price_text(app, slot_id: str) -> str:  # type: ignore[no-untyped-def]
    return app.query_one(SlotGrid).card(slot_id).text_of("price")


async def test_a_stale_asset_shows_on_its_cards_and_in_the_header(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "⚠" not in price_text(app, "ETH-5m") and "feed" not in header_text(app)
        state.update(eth_stale)
        app.load_status()
        await pilot.pause()
        assert "⚠ stale 12s" in price_text(app, "ETH-5m") and "⚠ stale 12s" in price_text(app, "ETH-15m")
        assert "⚠" not in price_text(app, "BTC-5m")
        header = header_text(app)
        assert "maker fair" in header and "⚠ feed binance stale: ETH stale" in header
