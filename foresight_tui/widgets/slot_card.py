"""One slot at a glance: window time left, price, signal, position, state by colour.

A card is what the grid draws for a slot, not a widget of its own: the grid paints every
card through one line-API widget (see card_paint.py and slot_grid.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.contract.models import SlotStatus
from foresight_tui import formatting as fmt
from foresight_tui.widgets.spark import cached_spark_rows

STATE_CLASSES = ("-watching", "-entered", "-won", "-lost", "-cooldown")


def price_line(slot: SlotStatus) -> str:
    change = fmt.percent_change(slot.open_price, slot.price)
    arrow = "▲" if change > 0 else "▼" if change < 0 else "·"
    line = f"{fmt.price(slot.price)}  {arrow} {change:+.2f}%"
    if slot.feed != "connected":
        # The price may be old and the slot takes no new entries: say so where the price is.
        line += f"  ⚠ {slot.feed} {fmt.age(slot.price_age_s)}" if slot.price_age_s is not None else f"  ⚠ {slot.feed}"
    return line


def short_error(error: str) -> str:
    """The engine's `/long/path/strategy.py:12: Type: message`, as `strategy.py:12: Type: message`:
    the card has one line for it (the slot detail shows it whole)."""
    head, sep, rest = error.partition(": ")
    if sep and "/" in head:
        return f"{head.rsplit('/', 1)[-1]}: {rest}"
    return error


def signal_line(slot: SlotStatus) -> str:
    """The strategy's reading now (it moves every cycle), never the bet held: that is `position_line`."""
    if slot.error:
        return f"error: {short_error(slot.error)}"
    signal = slot.signal
    if signal is None:
        return "now: no signal"
    arrow = "▲" if signal.direction == "up" else "▼"
    edge = f" edge {signal.edge:+.2f}" if signal.edge is not None else ""
    return f"now {arrow} {signal.direction} {signal.confidence:.0%} {signal.path}{edge}"


def position_line(slot: SlotStatus, now: float) -> str:
    """The bet held, else why there is none: cooldown, paused, or the strategy's reason."""
    pos = slot.position
    if pos is not None:
        arrow = "▲" if pos.side == "up" else "▼"
        return f"bet {arrow}{pos.side.upper()} ${pos.stake:.2f} @{pos.odds:.2f}"  # 21 wide: a narrow card's
    parts = []
    if slot.cooldown_until is not None and slot.cooldown_until > now:
        parts.append(f"cooldown {fmt.clock_left(slot.cooldown_until - now)}")
    if slot.last_result is not None:
        pnl = f" {fmt.money(slot.last_pnl)}" if slot.last_pnl is not None else ""
        parts.append(f"last {slot.last_result}{pnl}")
    if parts:
        return "  ".join(parts)
    if slot.paused:
        return "paused: no new entries"
    signal = slot.signal
    if signal is not None and not signal.enter and signal.reason:
        return f"not entering: {signal.reason}"
    return "no bet"


@dataclass(frozen=True)
class CardLines:
    """What a card's body shows; the body turns it into rows for its size."""

    fraction: float = 0.0  # of the window gone
    left: str = ""
    price: str = ""
    price_direction: int = 0  # 1 up, -1 down, 0 neither
    signal: str = ""
    signal_direction: int = 0
    position: str = ""
    error: bool = False
    history: tuple[float, ...] = ()
    compact: bool = False  # a short terminal: no time bar, no sparkline




@dataclass(frozen=True)
class CardLook:
    """What picks a card's styles (border, colours): its state, pause, error and focus."""

    state: str = ""
    paused: bool = False
    error: bool = False
    focused: bool = False

    def classes(self) -> tuple[str, ...]:
        """Its classes, in the cascade's order: a later one's rules win (app.tcss)."""
        names = [f"-{self.state}"] if f"-{self.state}" in STATE_CLASSES else []
        names += ["-paused"] * self.paused + ["-focus"] * self.focused + ["-error"] * self.error
        return tuple(names)


# A row's kind: its colour over the card's (a theme variable), or the shadow's own style.
Row = tuple[str, str]


class SlotCard:
    """One slot's card: what it shows, kept between statuses so that an unchanged card costs
    a comparison, and its rows for the size the grid gives it."""

    def __init__(self, slot: SlotStatus, history: Sequence[float], now: float) -> None:
        self.slot_id = slot.id
        self.slot = slot
        self.history = history  # the asset's sparkline: status.price_history[slot.asset]
        self.now = now
        self.display = True  # False: filtered out
        self.lines = CardLines()
        self.title = ""
        self.subtitle = ""
        self.shadow: str | None = None  # the shadow's decision where it differs from the live one
        self._shown: tuple[SlotStatus, Sequence[float], int, bool] | None = None

    @property
    def look(self) -> CardLook:
        slot = self.slot
        return CardLook(slot.state, slot.paused, bool(slot.error))

    def show(
        self, slot: SlotStatus, history: Sequence[float], now: float, *, compact: bool, force: bool = False,
        paint: bool = True,
    ) -> bool:  # fmt: skip
        """Take a new status (`history`: its asset's prices); True when what the card shows
        changed. With `paint=False` (scrolled out of view) the card only keeps the data:
        the comparison is deep, not worth it for cards nobody sees."""
        self.slot, self.history, self.now = slot, history, now
        if not (force or paint):
            return False
        key = (slot, history, int(now), compact)
        if not force and key == self._shown:
            return False
        self._shown = key
        left = max(0.0, slot.window_end - now)
        # A short terminal hides the time bar: the time left goes into the title.
        title = f"{slot.asset} {slot.window}" + (f" · {fmt.clock_left(left)}" if compact else "")
        subtitle = ("PAUSED · " if slot.paused else "") + ("FAILING" if slot.error else slot.state.upper())
        window = max(slot.window_end - slot.window_start, 1e-9)
        change = slot.price - slot.open_price
        direction = slot.signal.direction if slot.signal is not None else None
        lines = CardLines(
            fraction=1 - left / window,
            left=fmt.clock_left(left),
            price=price_line(slot),
            price_direction=(change > 0) - (change < 0),
            signal=signal_line(slot),
            signal_direction=1 if direction == "up" else -1 if direction == "down" else 0,
            position=position_line(slot, now),
            error=bool(slot.error),
            history=tuple(history),
            compact=compact,
        )
        changed = (lines, title, subtitle) != (self.lines, self.title, self.subtitle)
        self.lines, self.title, self.subtitle = lines, title, subtitle
        return changed

    def show_shadow(self, text: str | None) -> bool:
        """The shadow's differing decision under the live one, or None for no line; True if changed."""
        changed = text != self.shadow
        self.shadow = text
        return changed

    def rows(self, width: int, height: int) -> list[Row]:
        """The body's rows for a body `width` x `height`: (text, kind), top first; the
        shadow's line, when there is one, last."""
        data = self.lines
        body = height - (self.shadow is not None)
        rows: list[Row] = []
        if not data.compact:
            suffix = f" {data.left} left"
            rows.append((fmt.bar(data.fraction, max(0, width - len(suffix))) + suffix, "accent"))
        rows.append((data.price, _direction_kind(data.price_direction)))
        rows.append((data.signal, "error" if data.error else _direction_kind(data.signal_direction)))
        rows.append((data.position, ""))
        spark = body - len(rows)
        if spark > 0 and not data.compact:
            rows += [(row, "primary") for row in cached_spark_rows(data.history, width, spark)]
        rows = rows[: max(0, body)]
        rows += [("", "")] * (body - len(rows))
        if self.shadow is not None and height > 0:
            rows.append((self.shadow, "shadow"))
        return rows

    def text_of(self, name: str) -> str:
        """One named line as shown (tests, and anything reading a card)."""
        return str(getattr(self.lines, name))


def _direction_kind(direction: int) -> str:
    return "success" if direction > 0 else "error" if direction < 0 else ""
