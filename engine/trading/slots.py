"""The slot set: which asset x window markets the engine trades."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX")
DEFAULT_WINDOWS = ("5m", "15m")

_UNIT = {"s": 1, "m": 60, "h": 3600}


def parse_window(text: str) -> int:
    match = re.fullmatch(r"([0-9]{1,4})([smh])", text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a window length: {text!r} (examples: 5m, 15m, 1h)")
    return int(match.group(1)) * _UNIT[match.group(2)]


def window_label(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class SlotSpec:
    asset: str
    window_s: int

    @property
    def id(self) -> str:
        return f"{self.asset}-{window_label(self.window_s)}"

    @property
    def window(self) -> str:
        return window_label(self.window_s)


def slot_set(assets: tuple[str, ...] = DEFAULT_ASSETS, windows: tuple[str, ...] = DEFAULT_WINDOWS) -> tuple[SlotSpec, ...]:
    """The slots of these assets and windows; a name given twice is refused, since two slots
    with one id would share one position and one book."""
    if not assets:
        raise ValueError("--assets names no asset (e.g. --assets BTC,ETH)")
    if not windows:
        raise ValueError("--windows names no window length (e.g. --windows 5m,15m)")
    for asset in assets:
        if not re.fullmatch(r"[A-Z0-9]{1,12}", asset):
            raise ValueError(f"not an asset symbol: {asset!r} (1-12 capitals or digits)")
    if len(set(assets)) < len(assets):
        twice = next(a for a in assets if assets.count(a) > 1)
        raise ValueError(f"--assets names {twice} twice")
    lengths: list[int] = []
    for text in windows:
        length = parse_window(text)
        if length in lengths:
            label = window_label(length)
            same = "" if text.strip() == label else f" ({text.strip()} is {label})"
            raise ValueError(f"--windows names {label} twice{same}")
        lengths.append(length)
    return tuple(SlotSpec(asset, length) for asset in assets for length in lengths)


def synthetic_assets(count: int) -> tuple[str, ...]:
    """Extra made-up assets for scale tests: the first eight are the real ones."""
    extra = tuple(f"X{i:04d}" for i in range(max(0, count - len(DEFAULT_ASSETS))))
    return (DEFAULT_ASSETS + extra)[:count]
