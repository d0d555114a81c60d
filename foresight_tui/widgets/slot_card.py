"""One slot at a glance: window time left, price, signal, position, state by colour."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region
from textual.reactive import reactive
from textual.widgets import Static

from engine.contract.models import SlotStatus
from foresight_tui import formatting as fmt
from foresight_tui.messages import SlotDetailRequested, SlotPauseRequested
from foresight_tui.widgets.kept_lines import KeptLines
from foresight_tui.widgets.plain_lines import PlainLines
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


class CardBody(PlainLines):
    """A card's whole body as one widget drawn through the line API.

    One widget, not five: at 4 statuses a second every line of every card changes, and each
    widget repainted costs Textual its own pass (styles, crop, compositing). Colours ride in
    each row's segment style, so a price flipping direction is a repaint, never a restyle.
    """

    DEFAULT_CSS = "CardBody { height: 1fr; }"

    # repaint=False: watch_lines repaints only the rows that changed (the sparkline rarely does).
    lines: reactive[CardLines] = reactive(CardLines, layout=False, repaint=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._styles_of_rows: list[str] = []

    def watch_lines(self, old: CardLines, new: CardLines) -> None:
        width, height = self.size
        if not width or not height or self._rows_for is None or self._rows_for[:2] != (width, height):
            self.refresh()
            return
        before = list(zip(self._rows, self._styles_of_rows, strict=False))
        rows = self.rows(width, height)
        self._rows_for, self._rows = (width, height, new), rows
        after = list(zip(rows, self._styles_of_rows, strict=False))
        changed = [y for y in range(height) if (before[y] if y < len(before) else None) != (after[y] if y < len(after) else None)]
        if changed:
            self.refresh(*_runs(changed, width))

    def rows_key(self) -> Hashable:
        return self.lines

    def rows(self, width: int, height: int) -> list[str]:
        data = self.lines
        rows: list[str] = []
        kinds: list[str] = []
        if not data.compact:
            suffix = f" {data.left} left"
            rows.append(fmt.bar(data.fraction, max(0, width - len(suffix))) + suffix)
            kinds.append("accent")
        rows += [data.price, data.signal, data.position]
        kinds += [_direction_kind(data.price_direction), "error" if data.error else _direction_kind(data.signal_direction), ""]
        spark = height - len(rows)
        if spark > 0 and not data.compact:
            rows += cached_spark_rows(data.history, width, spark)
            kinds += ["primary"] * spark
        self._styles_of_rows = kinds
        return rows

    def row_colour(self, y: int) -> str | None:
        kind = self._styles_of_rows[y] if y < len(self._styles_of_rows) else ""
        return self.app.theme_variables.get(kind) if kind else None

    def text_of(self, name: str) -> str:
        """One named line as shown (tests, and anything reading a card)."""
        return str(getattr(self.lines, name))


def _runs(rows: list[int], width: int) -> list[Region]:
    """Ascending row numbers as one region per run of adjacent rows: each region repainted
    costs the compositor a span of its own."""
    regions: list[Region] = []
    start = previous = rows[0]
    for y in rows[1:]:
        if y != previous + 1:
            regions.append(Region(0, start, width, previous - start + 1))
            start = y
        previous = y
    regions.append(Region(0, start, width, previous - start + 1))
    return regions


def _direction_kind(direction: int) -> str:
    return "success" if direction > 0 else "error" if direction < 0 else ""


class ShadowLine(Static):
    """The shadow's decision on a card, repainted only when its text changes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._text: str | None = None

    def put(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update(text, layout=False)  # plain str and markup=False: never parsed as markup


class SlotCard(KeptLines, can_focus=True):
    BINDINGS = [
        Binding("space,s", "toggle_pause", "Pause/resume slot"),
        Binding("enter", "open_detail", "Slot detail"),
    ]

    def __init__(self, slot: SlotStatus, history: Sequence[float], now: float) -> None:
        super().__init__(id=f"slot-{slot.id}", classes="slot-card")
        self.slot_id = slot.id
        self.slot = slot
        self.history = history  # the asset's sparkline: status.price_history[slot.asset]
        self._now = now
        self._shown: tuple[SlotStatus, Sequence[float], int] | None = None
        self._titles: tuple[str, str] | None = None
        self._classes_for: tuple[str, bool, bool] | None = None
        self.body = CardBody(classes="body")  # kept: a query per status costs more than the update
        # The shadow's decision where it differs from the live one (dimmed; hidden otherwise).
        self._shadow = ShadowLine(classes="shadow", markup=False)

    def compose(self) -> ComposeResult:
        yield self.body
        yield self._shadow

    def show_shadow(self, text: str | None) -> None:
        """The shadow's differing decision under the live one, or None to hide the line."""
        if text is not None:
            self._shadow.put(text)
        self.set_class(text is not None, "-shadow")

    def on_mount(self) -> None:
        self.show(self.slot, self.history, self._now, force=True)

    def show(
        self, slot: SlotStatus, history: Sequence[float], now: float, *, force: bool = False, paint: bool = True
    ) -> None:
        """Refresh from a new status (`history`: its asset's prices); cheap and silent when
        nothing this card shows changed.

        With `paint=False` (scrolled out of view) the card only keeps the data: updating a
        widget off screen makes Textual rebuild its whole map of the screen.
        """
        self.slot, self.history, self._now = slot, history, now
        if not (force or paint):
            return
        key = (slot, history, int(now))
        if not force and key == self._shown:  # a deep comparison: not for cards out of view
            return
        self._shown = key
        left = max(0.0, slot.window_end - now)
        # A short terminal hides the time bar (app.tcss): the time left goes into the title.
        compact = self.is_attached and self.screen.has_class("-short")
        title = f"{slot.asset} {slot.window}" + (f" · {fmt.clock_left(left)}" if compact else "")
        subtitle = ("PAUSED · " if slot.paused else "") + ("FAILING" if slot.error else slot.state.upper())
        if (title, subtitle) != self._titles:  # setting a border title repaints the card
            self._titles = (title, subtitle)
            self.border_title = Text(title)  # Text: status strings are never markup
            self.border_subtitle = Text(subtitle)
        # Classes only change with the state, and all at once: each restyle walks the whole card.
        classes_for = (slot.state, slot.paused, bool(slot.error))
        if classes_for != self._classes_for:
            self._classes_for = classes_for
            self.update_classes(
                {name: name == f"-{slot.state}" for name in STATE_CLASSES}
                | {"-paused": slot.paused, "-error": bool(slot.error)}
            )
        window = max(slot.window_end - slot.window_start, 1e-9)
        change = slot.price - slot.open_price
        direction = slot.signal.direction if slot.signal is not None else None
        self.body.lines = CardLines(
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
        )  # a dataclass equal to the last one repaints nothing

    def action_toggle_pause(self) -> None:
        self.post_message(SlotPauseRequested(self.slot_id, not self.slot.paused))

    def action_open_detail(self) -> None:
        self.post_message(SlotDetailRequested(self.slot_id))
