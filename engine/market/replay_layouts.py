"""Reading recorded prices in the layouts people have them, detected from the first line.

- `timestamp,asset,price` (the project's own; header optional): any number of assets.
- `timestamp,open,high,low,close,volume` with a header (other columns allowed):
  one asset per file.
- Binance's kline CSV exports: no header, `open_time,open,high,low,close,volume,
  close_time,...`: one asset per file.

Timestamps are ISO 8601 (UTC unless they say otherwise) or epoch seconds,
milliseconds or microseconds (told apart by magnitude). A bar's close is the
price at the bar's end: stamped at its open time plus the bar length (the
file's usual spacing), so a replay never shows a price before it happened.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import Literal

Layout = Literal["asset-price", "ohlcv", "binance-kline"]
_LAYOUT_NAMES: dict[Layout, str] = {
    "asset-price": "a timestamp,asset,price file", "ohlcv": "an OHLCV file", "binance-kline": "a Binance kline file",
}
TIME_COLUMNS = ("timestamp", "time", "ts", "date", "datetime", "open_time", "opentime")
QUOTE_SUFFIXES = ("USDT", "USDC", "BUSD", "FDUSD", "USD", "EUR")
# Assets a file name is taken to name even when not configured (the engine's eight).
KNOWN_ASSETS = frozenset({"BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX"})


class ReplayError(ValueError):
    pass


@dataclass
class Recording:
    """One file's prices: per asset, (market time, price) in file order (bars: in time order),
    and the rows that came earlier than a row before them (count, first line)."""

    path: Path
    layout: Layout
    series: dict[str, list[tuple[float, float]]]
    out_of_order: dict[str, tuple[int, int]]


# The instants a recording may hold: a timestamp outside them is a wrong unit or a broken
# cell, never market history (docs/market.md). Epoch numbers are read in the unit that lands
# inside; the three units' ranges do not overlap.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp()
EPOCH_UNITS = ((1.0, "seconds"), (1e3, "milliseconds"), (1e6, "microseconds"))
OUT_OF_RANGE = "is out of range: a recording's times lie between 2000 and 2100 (ISO 8601, or epoch seconds, milliseconds or microseconds)"


def parse_time(text: str) -> float:
    """Epoch seconds of an ISO 8601 instant or an epoch number in s, ms or us, between 2000
    and 2100; ValueError otherwise."""
    text = text.strip()
    number = _epoch_number(text)
    if number is None:
        instant = _iso(text)
        if instant is None:
            raise ValueError(f"timestamp {text!r} is neither ISO 8601 nor epoch seconds, milliseconds or microseconds")
        if not EARLIEST <= instant < LATEST:
            raise ValueError(f"timestamp {text!r} {OUT_OF_RANGE}")
        return instant
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"timestamp {text!r} is not a time")
    for scale, _unit in EPOCH_UNITS:
        if EARLIEST <= number / scale < LATEST:
            return number / scale
    raise ValueError(f"timestamp {text!r} {OUT_OF_RANGE}")


def _epoch_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _iso(text: str) -> float | None:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.timestamp()


def _is_time(text: str) -> bool:
    """Whether a cell is written as a time (a row, not a header), in range or not: the row's
    own reading then says what is wrong with it, with its line."""
    text = text.strip()
    return _epoch_number(text) is not None or _iso(text) is not None


def _price(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column} {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{column} {text.strip()!r} is not a positive price")
    return value


def asset_of_file(path: Path, assets: tuple[str, ...]) -> str | None:
    """The asset a one-asset file holds, read from its name (BTC.csv, btcusdt-1m-2026-01.csv),
    or the only configured asset when the name tells nothing; None when neither tells. A name
    that names a known asset not configured is refused: its prices would pass for another's."""
    stem = path.name.split(".")[0]
    head = stem.replace("_", "-").replace(" ", "-").split("-")[0].upper()
    candidates = [head] + [head.removesuffix(suffix) for suffix in QUOTE_SUFFIXES if head.endswith(suffix)]
    for candidate in candidates:
        if candidate in assets:
            return candidate
    named = next((c for c in candidates if c in KNOWN_ASSETS), None)
    if named is not None:
        raise ReplayError(
            f"{path}: its name says it holds {named}, not among --assets ({','.join(assets)}): "
            f"replay it with --assets {named}, or rename the file if it holds another asset's prices"
        )
    return assets[0] if len(assets) == 1 else None


def open_regular(path: Path) -> io.BufferedReader:
    """`path` opened for reading if it is a regular file. Opened without blocking: a FIFO's
    open waits for a writer, deaf to the signals that would stop the engine."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ReplayError(f"cannot open replay file {path}: {exc.strerror}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ReplayError(f"cannot read replay file {path}: {not_regular(mode)}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def not_regular(mode: int) -> str:
    """Why a file of this mode cannot be replayed."""
    if stat.S_ISDIR(mode):
        return "it is a directory"
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"
    return f"not a regular file ({kind}): replay a recording saved to a file"


def read_recording(path: Path, assets: tuple[str, ...]) -> Recording:
    # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark, which is no part of the
    # first cell. Undecodable bytes are kept as surrogates so the row holding them can be named.
    with open_regular(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = csv.reader(handle)
        first: list[str] | None = None
        first_number = 0
        for number, row in enumerate(rows, start=1):
            if row and any(cell.strip() for cell in row):
                _check_text(path, number, row)
                first, first_number = row, number
                break
        if first is None:
            raise ReplayError(f"{path}: the file is empty")
        try:
            layout, time_col, price_col, asset_col, has_header = _detect(first)
        except ValueError as exc:
            raise ReplayError(f"{path}:{first_number}: {exc}") from None
        file_asset = None
        if asset_col is None:
            file_asset = asset_of_file(path, assets)
            if file_asset is None:
                raise ReplayError(
                    f"{path}: {_LAYOUT_NAMES[layout]} holds one asset, and neither its name nor --assets says which: "
                    f"name it after the asset (BTC.csv, BTCUSDT-1m.csv) or pass --assets with one asset"
                )
        series: dict[str, list[tuple[float, float]]] = {}
        latest: dict[str, float] = {}
        seen: dict[str, set[float]] = {}
        out_of_order: dict[str, tuple[int, int]] = {}
        body = rows if has_header else _chain(first_number, first, rows)
        start = first_number + 1 if has_header else first_number
        for number, row in enumerate(body, start=start):
            if not row or not any(cell.strip() for cell in row):
                continue
            _check_text(path, number, row)
            try:
                width = max(time_col, price_col, asset_col if asset_col is not None else 0) + 1
                if len(row) < width:
                    raise ValueError(f"expected at least {width} columns, got {len(row)}")
                t = parse_time(row[time_col])
                price = _price(row[price_col], "price" if layout == "asset-price" else "close")
            except ValueError as exc:
                raise ReplayError(f"{path}:{number}: {exc}") from None
            asset = row[asset_col].strip().upper() if asset_col is not None else file_asset
            assert asset is not None
            if asset in assets:
                series.setdefault(asset, []).append((t, price))
                times = seen.setdefault(asset, set())
                if t < latest.get(asset, t) and t not in times:  # a time seen before is a repeat, not disorder
                    count, line = out_of_order.get(asset, (0, number))
                    out_of_order[asset] = (count + 1, line)
                times.add(t)
                latest[asset] = max(latest.get(asset, t), t)
    if layout != "asset-price":
        series = {a: _stamped_at_bar_end(points) for a, points in series.items()}
    return Recording(path, layout, series, out_of_order)


def _check_text(path: Path, number: int, row: list[str]) -> None:
    try:
        "".join(row).encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = ord(exc.object[exc.start]) - 0xDC00
        raise ReplayError(f"{path}:{number}: not UTF-8 text (byte 0x{byte:02x}): is this a CSV file?") from None


def _chain(number: int, first: list[str], rest):  # type: ignore[no-untyped-def]
    yield first
    yield from rest


def _detect(first: list[str]) -> tuple[Layout, int, int, int | None, bool]:
    """(layout, time column, price column, asset column or None, whether the first line is a header)."""
    cells = [cell.strip().lower() for cell in first]
    if _is_time(cells[0]):
        # No header: the project's rows (time, asset, price) or a kline export (all numbers).
        if len(cells) >= 3 and not _is_number(cells[1]):
            return "asset-price", 0, 2, 1, False
        if len(cells) >= 5 and all(_is_number(c) for c in cells[1:5]):
            return "binance-kline", 0, 4, None, False
        raise ValueError(
            "rows without a header must be timestamp,asset,price or a Binance kline export "
            "(open_time,open,high,low,close,volume,...)"
        )
    time_col = next((i for i, c in enumerate(cells) if c in TIME_COLUMNS), None)
    if time_col is None:
        raise ValueError(f"header {','.join(first)!r} names no time column ({', '.join(TIME_COLUMNS)})")
    if "asset" in cells and "price" in cells:
        return "asset-price", time_col, cells.index("price"), cells.index("asset"), True
    if "close" in cells:
        return "ohlcv", time_col, cells.index("close"), None, True
    raise ValueError(
        f"header {','.join(first)!r} is no layout replay reads: timestamp,asset,price or "
        "timestamp,open,high,low,close,volume"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _stamped_at_bar_end(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    points.sort(key=lambda point: point[0])  # stable: a time recorded twice keeps its rows' order
    bar = usual_spacing([t for t, _ in points])
    return [(t + bar, price) for t, price in points]


def usual_spacing(times: list[float]) -> float:
    """The median step between consecutive distinct times (1 s for a single point)."""
    steps = [b - a for a, b in pairwise(times) if b > a]
    return statistics.median(steps) if steps else 1.0
