"""Plain-text formatting of numbers, durations and times (no Textual here)."""

from __future__ import annotations

from datetime import UTC, datetime


def duration(seconds: float | None) -> str:
    """Compact: 45s, 3m05s, 2h07m, 3d04h."""
    if seconds is None:
        return "-"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 10 else duration(seconds)


def clock_left(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 60}:{s % 60:02d}"


def price(value: float) -> str:
    if value >= 1000:
        return f"{value:,.2f}"
    if value >= 1:
        return f"{value:.4f}"
    return f"{value:.5f}"


def percent_change(open_price: float, now: float) -> float:
    return 0.0 if open_price == 0 else (now - open_price) / open_price * 100


def money(value: float) -> str:
    sign = "-" if value < 0 else "+" if value > 0 else " "
    return f"{sign}${abs(value):,.2f}"


def utc_time(iso: str) -> str:
    """HH:MM:SS in UTC from an ISO instant; the raw text when it does not parse."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:19]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%H:%M:%S")


def bar(fraction: float, width: int) -> str:
    """A one-colour bar whose filled and empty parts differ by glyph."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)
