"""The feed and the maker an engine's configuration names (engine/config.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.config import FEEDS_HELP, EngineConfig
from engine.market.feeds import PriceFeed, ReplayFeed, SimFeed, profile
from engine.market.makers import maker
from engine.market.quotes import QuoteModel


def feed_for(
    config: EngineConfig,
    assets: Iterable[str],
    *,
    stopping: Callable[[], bool] = lambda: False,
    announce: Callable[[str], None] = lambda _text: None,
) -> PriceFeed:
    """The configured feed. A live feed's first wait for prices is told through `announce` and
    ends early once `stopping()` is true (a stop asked while the engine starts)."""
    assets = tuple(assets)
    spec = config.feed
    if spec == "sim":
        return SimFeed(assets, config.seed)
    if spec.startswith("replay:"):
        return ReplayFeed(list(config.replay_files), assets)
    if spec == "binance":
        # Only a live engine loads the websocket client and its asyncio loop.
        from engine.market.binance_feed import BinanceFeed
        from engine.market.binance_symbols import DEFAULT_URL

        return BinanceFeed(
            assets,
            url=config.feed_url or DEFAULT_URL,
            symbols=dict(config.symbols),
            stale_after_s=config.stale_after_s,
            first_price_wait_s=config.first_price_wait_s,
            fallback=lambda asset: profile(asset).start_price,
            stopping=stopping,
            announce=announce,
        )
    raise ValueError(f"unknown feed {spec!r}: use {FEEDS_HELP}")


def maker_for(config: EngineConfig) -> QuoteModel:
    return maker(config.maker, spread=config.spread, fee=config.fee, lag_s=config.lag_s, noise=config.noise)


def market_source(config: EngineConfig) -> str:
    """The identity of the market the feed makes, as `--feed` names it: a replay by its files'
    names (the same recording moved elsewhere is the same market), a live feed by its kind."""
    if config.feed.startswith("replay:"):
        return "replay:" + ",".join(sorted(path.name for path in config.replay_files))
    return config.feed
