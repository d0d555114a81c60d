"""Everything in force, in full: where the engine runs, on what market, which overrides, which pauses."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.contract.models import Status
from foresight_tui import formatting as fmt
from foresight_tui.header_lines import market_mode


def info_table(state_dir: Path, status: Status | None) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column("what", no_wrap=True, style="bold")
    table.add_column("value")

    def row(name: str, value: str) -> None:
        table.add_row(Text(name), Text(value))

    row("state directory", str(state_dir))
    if status is None:
        row("engine", "no status yet")
        return table
    e = status.engine
    row("market", market_mode(status, files_shown=None) + ("  (bets are paper: no order leaves this machine)"))
    row("feed", e.feed)
    row("engine", f"pid {e.pid} on {e.host} as {e.user or '?'}, started {fmt.utc_time(e.started_at)} UTC")
    row("loop", f"every {e.cycle_interval_s:g}s, last {e.last_cycle_ms:.1f}ms, worst {e.worst_cycle_ms:.1f}ms, "
                f"{e.overruns} overruns")  # fmt: skip
    row("strategies", e.strategies_path or "-")
    assets = sorted({s.asset for s in status.slots})
    windows = sorted({s.window for s in status.slots}, key=lambda w: (len(w), w))
    row("slots", f"{len(status.slots)}: {', '.join(assets)} x {', '.join(windows)}")
    applied = status.control.applied
    row("engine paused", "yes: no new bets anywhere" if applied.paused else "no")
    paused = [s.id for s in status.slots if s.paused]
    row("paused slots", ", ".join(paused) if paused else "none")
    if applied.overrides:
        for name, value in sorted(applied.overrides.items()):
            default = status.params.schema_.get("properties", {}).get(name, {}).get("default", "?")
            row(f"override {name}", f"{value}  (strategy default {default})")
    else:
        row("overrides", "none: every parameter at the strategy's default")
    for warning in status.control.warnings:
        row("warning", warning)
    return table


class InfoScreen(ModalScreen[None]):
    AUTO_FOCUS = "*"  # the app focuses nothing by itself: without this, arrows and End do nothing here
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close")]

    def __init__(self, state_dir: Path) -> None:
        super().__init__()
        self.state_dir = state_dir

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="info-body", classes="dialog") as body:
            body.border_title = "In force"
            body.border_subtitle = "esc closes"
            yield Static(id="info-table")

    def on_mount(self) -> None:
        self.watch(self.app, "status", self.show_status)

    def show_status(self, status: Status | None) -> None:
        self.query_one("#info-table", Static).update(info_table(self.state_dir, status))
