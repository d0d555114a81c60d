"""The engine's command-line flags for the market: the live feed's options and the paper maker."""

from __future__ import annotations

import argparse
from typing import Any

from engine.market.binance_symbols import DEFAULT_URL, parse_symbol_map
from engine.market.makers import MAKERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("market (docs/market.md)")
    group.add_argument("--feed-url", default=None, help=f"websocket of --feed binance (default {DEFAULT_URL}; a testnet, a recorder)")
    group.add_argument(
        "--symbols",
        type=parse_symbol_map,
        default={},
        help="exchange symbol of an asset, e.g. BTC=btcusdt,ETH=ethusdc (default: each asset's USDT pair)",
    )
    group.add_argument("--stale-after", type=float, default=10.0, help="seconds without a price after which an asset is stale and takes no entries (default 10)")
    group.add_argument("--first-price-wait", type=float, default=10.0, help="seconds the live feed waits for every asset's first price at start (default 10)")
    group.add_argument("--maker", choices=tuple(MAKERS), default="fair", help="the paper market maker: fair (default) or slow (a lagged maker, a scenario)")
    group.add_argument("--spread", type=float, default=None, help="the maker's bid-ask spread on a $1 share (fair: 0.02, slow: 0)")
    group.add_argument("--fee", type=float, default=None, help="fee added to each ask (default 0.01)")
    group.add_argument("--lag", type=float, default=None, help="market seconds old the price the maker quotes from is (fair: 0, slow: 20)")
    group.add_argument("--noise", type=float, default=None, help="the maker's error, standard deviation in z-score units (fair: 0, slow: 0.15)")


def config_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The EngineConfig fields these flags set."""
    return {
        "feed_url": args.feed_url,
        "symbols": tuple(sorted(args.symbols.items())),
        "stale_after_s": args.stale_after,
        "first_price_wait_s": args.first_price_wait,
        "maker": args.maker,
        "spread": args.spread,
        "fee": args.fee,
        "lag_s": args.lag,
        "noise": args.noise,
    }
