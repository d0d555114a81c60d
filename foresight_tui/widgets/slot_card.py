"""One slot at a glance: window time left, price, signal, position, state by colour."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from engine.contract import SlotStatus
from foresight_tui import formatting as fmt
from foresight_tui.messages import SlotDetailRequested, SlotPauseRequested

STATE_CLASSES = ("-watching", "-entered", "-won", "-lost", "-cooldown")


class TimeBar(Widget):
    """Time left in the market window, as a bar that fills as the window runs out."""

    fraction = reactive(0.0, layout=False)
    label = reactive("", layout=False)

    def render(self) -> Text:
        suffix = f" {self.label}"
        return Text(fmt.bar(self.fraction, max(0, self.size.width - len(suffix))) + suffix)


def price_line(slot: SlotStatus) -> str:
    change = fmt.percent_change(slot.open_price, slot.price)
    arrow = "▲" if change > 0 else "▼" if change < 0 else "·"
    return f"{fmt.price(slot.price)}  {arrow} {change:+.2f}%"


def signal_line(slot: SlotStatus) -> str:
    if slot.error:
        return f"error: {slot.error}"
    signal = slot.signal
    if signal is None:
        return "no signal"
    arrow = "▲" if signal.direction == "up" else "▼"
    edge = f" edge {signal.edge:+.2f}" if signal.edge is not None else ""
    return f"{arrow} {signal.direction} {signal.confidence:.0%} {signal.path}{edge}"


def position_line(slot: SlotStatus, now: float) -> str:
    pos = slot.position
    if pos is not None:
        return f"bet {pos.side.upper()} ${pos.stake:.2f} @ {pos.odds:.2f}"
    parts = []
    if slot.cooldown_until is not None and slot.cooldown_until > now:
        parts.append(f"cooldown {fmt.clock_left(slot.cooldown_until - now)}")
    if slot.last_result is not None:
        pnl = f" {fmt.money(slot.last_pnl)}" if slot.last_pnl is not None else ""
        parts.append(f"last {slot.last_result}{pnl}")
    return "  ".join(parts) or "no position"


class SlotCard(Widget, can_focus=True):
    BINDINGS = [
        Binding("space,s", "toggle_pause", "Pause/resume slot"),
        Binding("enter", "open_detail", "Slot detail"),
    ]

    def __init__(self, slot: SlotStatus, now: float) -> None:
        super().__init__(id=f"slot-{slot.id}", classes="slot-card")
        self.slot_id = slot.id
        self.slot = slot
        self._now = now
        self._shown: tuple[SlotStatus, int] | None = None

    def compose(self) -> ComposeResult:
        yield TimeBar(classes="time")
        yield Static(classes="price", markup=False)
        yield Static(classes="signal", markup=False)
        yield Static(classes="position", markup=False)
        yield Sparkline([], summary_function=max, classes="history")

    def on_mount(self) -> None:
        self.show(self.slot, self._now, force=True)

    def show(self, slot: SlotStatus, now: float, *, force: bool = False) -> None:
        """Refresh from a new status; cheap and silent when nothing this card shows changed."""
        key = (slot, int(now))
        if not force and key == self._shown:
            return
        self._shown = key
        self.slot, self._now = slot, now
        self.border_title = f"{slot.asset} {slot.window}"
        self.border_subtitle = ("PAUSED · " if slot.paused else "") + slot.state.upper()
        self.remove_class(*STATE_CLASSES)
        self.add_class(f"-{slot.state}")
        self.set_class(slot.paused, "-paused")
        self.set_class(bool(slot.error), "-error")
        window = max(slot.window_end - slot.window_start, 1e-9)
        left = max(0.0, slot.window_end - now)
        time_bar = self.query_one(TimeBar)
        time_bar.fraction = 1 - left / window
        time_bar.label = f"{fmt.clock_left(left)} left"
        change = slot.price - slot.open_price
        price = self.query_one(".price", Static)
        price.update(Text(price_line(slot)), layout=False)
        price.set_class(change > 0, "-up")
        price.set_class(change < 0, "-down")
        signal = self.query_one(".signal", Static)
        signal.update(Text(signal_line(slot)), layout=False)
        signal.set_class(slot.signal is not None and slot.signal.direction == "up", "-up")
        signal.set_class(slot.signal is not None and slot.signal.direction == "down", "-down")
        self.query_one(".position", Static).update(Text(position_line(slot, now)), layout=False)
        self.query_one(Sparkline).data = list(slot.history)

    def action_toggle_pause(self) -> None:
        self.post_message(SlotPauseRequested(self.slot_id, not self.slot.paused))

    def action_open_detail(self) -> None:
        self.post_message(SlotDetailRequested(self.slot_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_pause" and getattr(self.app, "read_only", False):
            return None
        return True
