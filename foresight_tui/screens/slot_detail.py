"""Everything the status holds for one slot, kept live while open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.contract.models import SlotStatus, Status
from foresight_tui import formatting as fmt
from foresight_tui.widgets.spark import TextSparkline


def market_clock(seconds: float) -> str:
    """A market-clock instant as HH:MM:SS (UTC on the engine's market clock)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%S")


def slot_rows(slot: SlotStatus, history: Sequence[float], now: float) -> list[tuple[str, str]]:
    """The slot as a person reads it: sections, clock times and countdowns, rounded numbers,
    the decision and its inputs."""
    rows: list[tuple[str, str]] = [("# this window", "")]
    left = max(0.0, slot.window_end - now)
    rows += [
        ("market", f"{slot.asset} {slot.window} up/down{' · PAUSED' if slot.paused else ''} · {slot.state}"),
        ("window", f"{market_clock(slot.window_start)} → {market_clock(slot.window_end)} "
                   f"(market clock), {fmt.clock_left(left)} left"),
        ("price", f"{fmt.price(slot.price)} (opened {fmt.price(slot.open_price)}, "
                  f"{fmt.percent_change(slot.open_price, slot.price):+.2f}%)"),
        ("asks", f"up {_maybe(slot.up_ask)} · down {_maybe(slot.down_ask)}"),
    ]  # fmt: skip
    rows.append(("# signal now (this cycle)", ""))
    signal = slot.signal
    if signal is None:
        rows.append(("signal", "none this cycle"))
    else:
        rows += [
            ("direction", f"{signal.direction} at {signal.confidence:.1%} confidence"),
            ("decided by", f"{signal.path} path"),
            ("inputs", f"P(up) {_pct(signal.prob_up)} · edge {_signed(signal.edge)} over the ask"),
            ("decision", ("enter" if signal.enter else "do not enter") + (f": {signal.reason}" if signal.reason else "")),
        ]
    rows.append(("# bet held", ""))
    pos = slot.position
    if pos is None:
        rows.append(("bet", "none"))
    else:
        rows += [
            ("side", f"{pos.side.upper()} ${pos.stake:.2f} at {pos.odds:.2f} ({pos.shares:.2f} shares)"),
            ("entered", f"{market_clock(pos.entered_at)} (market clock), {fmt.duration(now - pos.entered_at)} ago"),
        ]
    if slot.cooldown_until is not None and slot.cooldown_until > now:
        rows.append(("cooldown", f"until {market_clock(slot.cooldown_until)}, {fmt.clock_left(slot.cooldown_until - now)} left"))
    if slot.last_result is not None:
        pnl = f" {fmt.money(slot.last_pnl)}" if slot.last_pnl is not None else ""
        rows.append(("last bet", f"{slot.last_result}{pnl}"))
    if slot.error:
        rows.append(("error", slot.error))
    if history:
        rows.append(("history", f"{len(history)} prices, low {fmt.price(min(history))}, high {fmt.price(max(history))}"))
    return rows


def _maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def slot_table(slot: SlotStatus, history: Sequence[float], now: float) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column("field", no_wrap=True, style="bold")
    table.add_column("value")
    for key, value in slot_rows(slot, history, now):
        if key.startswith("# "):
            table.add_row(Text(key[2:], style="bold underline"), Text(""))
        else:
            table.add_row(Text(key), Text(value))
    return table


class SlotDetailScreen(ModalScreen[None]):
    AUTO_FOCUS = "*"  # the app focuses nothing by itself: without this, arrows and End do nothing here
    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close detail")]

    def __init__(self, slot_id: str) -> None:
        super().__init__()
        self.slot_id = slot_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body", classes="dialog") as body:
            body.border_title = Text(f"Slot {self.slot_id}")
            body.border_subtitle = "esc closes"
            yield Static(id="detail-table")
            yield TextSparkline(id="detail-history")

    def on_mount(self) -> None:
        self.watch(self.app, "status", self.show_status)

    def show_status(self, status: Status | None) -> None:
        slot = next((s for s in status.slots if s.id == self.slot_id), None) if status else None
        table = self.query_one("#detail-table", Static)
        if status is None or slot is None:
            table.update(Text(f"{self.slot_id} is not in the current status"))
            return
        history = status.price_history.get(slot.asset, ())
        table.update(slot_table(slot, history, status.engine.sim_time or slot.window_start))
        self.query_one("#detail-history", TextSparkline).data = tuple(history)
