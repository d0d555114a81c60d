"""One slot at a glance: window time left, price, signal, position, state by colour."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from engine.contract.models import SlotStatus
from foresight_tui import formatting as fmt
from foresight_tui.messages import SlotDetailRequested, SlotPauseRequested
from foresight_tui.widgets.plain_lines import PlainLines
from foresight_tui.widgets.spark import TextSparkline

STATE_CLASSES = ("-watching", "-entered", "-won", "-lost", "-cooldown")


class TimeBar(PlainLines):
    """Time left in the market window, as a bar that fills as the window runs out."""

    fraction = reactive(0.0, layout=False)
    label = reactive("", layout=False)

    def rows_key(self) -> Hashable:
        return (self.fraction, self.label)

    def rows(self, width: int, height: int) -> list[str]:
        suffix = f" {self.label}"
        return [fmt.bar(self.fraction, max(0, width - len(suffix))) + suffix]


def price_line(slot: SlotStatus) -> str:
    change = fmt.percent_change(slot.open_price, slot.price)
    arrow = "▲" if change > 0 else "▼" if change < 0 else "·"
    line = f"{fmt.price(slot.price)}  {arrow} {change:+.2f}%"
    if slot.feed != "connected":
        # The price may be old and the slot takes no new entries: say so where the price is.
        line += f"  ⚠ {slot.feed} {fmt.age(slot.price_age_s)}" if slot.price_age_s is not None else f"  ⚠ {slot.feed}"
    return line


def signal_line(slot: SlotStatus) -> str:
    """The strategy's reading now (it moves every cycle), never the bet held: that is `position_line`."""
    if slot.error:
        return f"error: {slot.error}"
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
        return f"bet {arrow} {pos.side.upper()} ${pos.stake:.2f} @ {pos.odds:.2f}"
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


class Line(Static):
    """One line of a card, repainted only when its text or its direction changes."""

    # Status text carries no links: without this Textual restyles every rendered line
    # looking for them (a sixth of the time a status takes to paint).
    auto_links = reactive(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._text: str | None = None

    def put(self, text: str, *, up: bool = False, down: bool = False) -> None:
        if text != self._text:  # an update repaints, even with the same text
            self._text = text
            self.update(text, layout=False)  # plain str and markup=False: never parsed as markup
        self.update_classes({"-up": up, "-down": down})  # one restyle when the direction flips


class SlotCard(Widget, can_focus=True):
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
        # The card's own widgets, kept: a query per line per status costs more than the update.
        self._time = TimeBar(classes="time")
        self._lines = {
            name: Line(classes=name, markup=False) for name in ("price", "signal", "position")
        }
        self._history = TextSparkline(classes="history")

    def compose(self) -> ComposeResult:
        yield self._time
        yield from self._lines.values()
        yield self._history

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
        subtitle = ("PAUSED · " if slot.paused else "") + slot.state.upper()
        if (title, subtitle) != self._titles:  # setting a border title repaints the card
            self._titles = (title, subtitle)
            self.border_title = Text(title)  # Text: status strings are never markup
            self.border_subtitle = Text(subtitle)
        # Classes only change with the state, and all at once: each restyle walks the whole card.
        self.update_classes(
            {name: name == f"-{slot.state}" for name in STATE_CLASSES}
            | {"-paused": slot.paused, "-error": bool(slot.error)}
        )
        window = max(slot.window_end - slot.window_start, 1e-9)
        self._time.fraction = 1 - left / window
        self._time.label = f"{fmt.clock_left(left)} left"
        change = slot.price - slot.open_price
        self._lines["price"].put(price_line(slot), up=change > 0, down=change < 0)
        direction = slot.signal.direction if slot.signal is not None else None
        self._lines["signal"].put(signal_line(slot), up=direction == "up", down=direction == "down")
        self._lines["position"].put(position_line(slot, now))
        self._history.data = tuple(history)

    def action_toggle_pause(self) -> None:
        self.post_message(SlotPauseRequested(self.slot_id, not self.slot.paused))

    def action_open_detail(self) -> None:
        self.post_message(SlotDetailRequested(self.slot_id))
