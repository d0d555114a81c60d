"""Where the live feed connects and which exchange symbol stands for each asset.

Configuration only (the engine's flags read it at every start), kept apart from the feed's
client so that an engine on the simulated market or a replay never loads the websocket stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, urlsplit

DEFAULT_URL = "wss://stream.binance.com:9443/stream"
# Default exchange symbol of each asset: its USDT pair, the deepest market for all eight.
DEFAULT_QUOTE = "usdt"


def default_symbols(assets: Iterable[str]) -> dict[str, str]:
    return {asset: f"{asset.lower()}{DEFAULT_QUOTE}" for asset in assets}


def symbol_map(assets: Iterable[str], symbols: Mapping[str, str]) -> dict[str, str]:
    """Each asset's exchange symbol: `symbols`' or its default. A ValueError when two assets
    would trade as one symbol: one would show the other's trades, the other none."""
    assets = tuple(assets)
    mapping = {**default_symbols(assets), **symbols}
    chosen = {asset: mapping[asset] for asset in assets}
    holder: dict[str, str] = {}
    for asset, symbol in chosen.items():
        if symbol in holder:
            raise ValueError(
                f"--symbols: {holder[symbol]} and {asset} both trade as {symbol}: give each asset its own exchange symbol "
                f"(--symbols {holder[symbol]}=...,{asset}=...)"
            )
        holder[symbol] = asset
    return chosen


def parse_symbol_map(text: str) -> dict[str, str]:
    """`BTC=btcusdt,ETH=ethusdc` as a mapping; a clear ValueError otherwise."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        asset, sep, symbol = part.partition("=")
        if not sep or not asset.strip() or not symbol.strip().isalnum():
            raise ValueError(f"--symbols {part!r}: write ASSET=symbol, e.g. BTC=btcusdt,ETH=ethusdt")
        out[asset.strip().upper()] = symbol.strip().lower()
    return out


def checked_url(base: str) -> SplitResult:
    """`base` split, or a ValueError naming the flag: a websocket URL with a host and a valid port."""
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise ValueError(f"--feed-url {base!r}: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        raise ValueError(f"--feed-url {base!r}: expected a ws:// or wss:// URL")
    if not parts.hostname:
        raise ValueError(f"--feed-url {base!r} names no host, e.g. wss://stream.binance.com:9443/stream")
    return parts


def stream_url(base: str, symbols: Iterable[str]) -> str:
    """The combined-stream URL of the symbols' trade streams on `base` (a URL that already names
    its streams is kept as it is: a recorder or proxy may want its own)."""
    parts = checked_url(base)
    if "streams=" in parts.query:
        return base
    path = parts.path.rstrip("/")
    if not path.endswith("/stream"):
        path += "/stream"
    streams = "/".join(f"{s}@trade" for s in symbols)
    return f"{parts.scheme}://{parts.netloc}{path}?streams={streams}"
