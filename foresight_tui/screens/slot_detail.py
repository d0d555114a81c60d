"""Everything the status holds for one slot, kept live while open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.contract import SlotStatus, Status
from foresight_tui.widgets.spark import TextSparkline


def flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, inner in value.items():
            rows.extend(flatten(f"{prefix}.{key}" if prefix else str(key), inner))
        return rows or [(prefix, "{}")]
    if value is None:
        return [(prefix, "-")]
    return [(prefix, str(value))]


def slot_table(slot: SlotStatus, history: Sequence[float]) -> Table:
    """Every field of `slot`, and a summary of its asset's `history` (its sparkline)."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column("field", no_wrap=True, style="bold")
    table.add_column("value")
    data = slot.model_dump()
    for key, value in flatten("", data):
        table.add_row(Text(key), Text(value))
    if history:
        table.add_row(
            Text("history"),
            Text(f"{len(history)} prices, min {min(history):g}, max {max(history):g}, last {history[-1]:g}"),
        )
    return table


class SlotDetailScreen(ModalScreen[None]):
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
        table.update(slot_table(slot, history))
        self.query_one("#detail-history", TextSparkline).data = tuple(history)
