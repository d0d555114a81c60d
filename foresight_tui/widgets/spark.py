"""A sparkline drawn as block characters in one colour: cheap enough for 16 cards at 4 Hz.

(Textual's `Sparkline` blends a colour per bar; with sixteen of them refreshed every
cycle that was most of the TUI's CPU time.)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import lru_cache

from textual.reactive import reactive

from foresight_tui.widgets.plain_lines import PlainLines

BLOCKS = " ▁▂▃▄▅▆▇█"


def resample(values: Sequence[float], width: int) -> list[float]:
    """Exactly `width` points: the mean of each bucket, or each value repeated when they are few."""
    if width <= 0 or not values:
        return []
    if len(values) <= width:
        return [values[index] for index in _picks(len(values), width)]
    return [sum(values[start:end]) / (end - start) for start, end in _buckets(len(values), width)]


@lru_cache(maxsize=256)
def _picks(count: int, width: int) -> tuple[int, ...]:
    """Which value each of `width` columns repeats, for `count` values (count <= width)."""
    return tuple(column * count // width for column in range(width))


@lru_cache(maxsize=256)
def _buckets(count: int, width: int) -> tuple[tuple[int, int], ...]:
    """The slice of values each of `width` columns averages, for `count` values (count > width)."""
    step = count / width
    return tuple(
        (int(column * step), max(int((column + 1) * step), int(column * step) + 1)) for column in range(width)
    )


@lru_cache(maxsize=2048)
def cached_spark_rows(values: tuple[float, ...], width: int, height: int) -> tuple[str, ...]:
    """`spark_rows` for a card: both windows of an asset, and a status that did not move its
    prices, draw the same rows without computing them again."""
    return tuple(spark_rows(values, width, height))


def spark_rows(values: Sequence[float], width: int, height: int) -> list[str]:
    """`height` lines of block characters, top line first; a flat series sits on the floor."""
    points = resample(values, width)
    if not points or height <= 0:
        return [""] * max(height, 0)
    low, high = min(points), max(points)
    span = high - low
    levels = [(1 + round((p - low) / span * (height * 8 - 1))) if span > 0 else 1 for p in points]
    columns = [_column(level, height) for level in levels]
    return ["".join(row) for row in zip(*columns, strict=True)]


@lru_cache(maxsize=1024)
def _column(level: int, height: int) -> tuple[str, ...]:
    """One bar of `level` eighths as `height` characters, top first."""
    return tuple(BLOCKS[min(8, max(0, level - row * 8))] for row in range(height - 1, -1, -1))


class TextSparkline(PlainLines):
    DEFAULT_CSS = """
    TextSparkline { height: 1; color: $primary; }
    """

    data: reactive[tuple[float, ...]] = reactive((), layout=False)

    def rows_key(self) -> Hashable:
        return self.data

    def rows(self, width: int, height: int) -> list[str]:
        return spark_rows(self.data, width, height)
