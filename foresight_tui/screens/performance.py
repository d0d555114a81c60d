"""Resolved bets' figures by asset, window, code version or day, and the P&L over time with its
drawdown (g from the main screen)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual_plotext import PlotextPlot

from engine.contract.ledger_read import CurvePoint, GroupBy, Performance
from foresight_tui.ledger_view import PerformanceView, load_performance

REFRESH_S = 5.0
HEADERS = ("bets", "wins", "win%", "P&L", "staked", "avg edge", "max DD")
DATE_FORM = "d/m H:M"  # plotext's form: day/month hour:minute of the market clock, UTC


def performance_cells(g: Performance) -> tuple[Text, ...]:
    rate = f"{g.win_rate:.0%}" if g.win_rate is not None else ""
    edge = f"{g.avg_edge:.3f}" if g.avg_edge is not None else ""
    pnl_style = "green" if g.pnl > 0 else "red" if g.pnl < 0 else ""
    return (
        Text(g.key, style="bold" if g.key == "total" else ""),
        Text(str(g.count), justify="right"),
        Text(str(g.wins), justify="right"),
        Text(rate, justify="right"),
        Text(f"{g.pnl:+.2f}", style=pnl_style, justify="right"),
        Text(f"{g.staked:.2f}", justify="right"),
        Text(edge, justify="right"),
        Text(f"{g.max_drawdown:.2f}", justify="right"),
    )


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d/%m %H:%M")


class PnlChart(PlotextPlot):
    """Cumulative P&L over market time, and the drawdown below zero."""

    def plot(self, curve: tuple[CurvePoint, ...]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form(DATE_FORM)
        if len(curve) < 2:
            plt.title("P&L over time: not enough resolved bets yet")
        else:
            x = [_stamp(p.at) for p in curve]
            plt.plot(x, [p.pnl for p in curve], label="cumulative P&L", color="green", marker="braille")
            plt.plot(x, [-p.drawdown for p in curve], label="drawdown", color="red", marker="braille", fillx=True)
            deepest = max(p.drawdown for p in curve)
            plt.title(f"P&L {curve[-1].pnl:+.2f} · deepest drawdown {deepest:.2f} · market time (UTC)")
        self.refresh()


class PerformanceScreen(Screen[None]):
    CSS_PATH = "books.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("a", "group('asset')", "By asset"),
        Binding("w", "group('window')", "By window"),
        Binding("v", "group('version')", "By version"),
        Binding("d", "group('day')", "By day"),
    ]

    by: reactive[GroupBy] = reactive("asset", init=False)

    def __init__(self, state_dir: Path, *, live: bool = True) -> None:
        super().__init__()
        self.state_dir = state_dir
        self.live = live
        self.view = PerformanceView()

    def compose(self) -> ComposeResult:
        yield Static(id="performance-title", markup=False)
        yield DataTable(id="performance-table", cursor_type="row", zebra_stripes=True)
        yield PnlChart(id="pnl-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.show(load_performance(self.state_dir, self.by))
        if self.live:
            self.set_interval(REFRESH_S, self.refresh_performance)

    @work(thread=True, exclusive=True, group="performance")
    def refresh_performance(self) -> None:
        view = load_performance(self.state_dir, self.by)
        self.app.call_from_thread(self.show, view)

    def show(self, view: PerformanceView) -> None:
        if view == self.view and self.query_one(DataTable).row_count:
            return
        self.view = view
        table = self.query_one("#performance-table", DataTable)
        with self.app.batch_update():
            table.clear(columns=True)
            table.add_column(view.by, key="key")
            for header in HEADERS:
                table.add_column(header, key=header)
            for group in view.groups:
                table.add_row(*performance_cells(group), key=group.key)
            if view.total is not None and view.groups:
                table.add_row(*performance_cells(view.total), key="total")
        title = f"Performance by {view.by} · resolved bets of the ledger · a/w/v/d to group"
        self.query_one("#performance-title", Static).update(Text(f"⚠ {view.problem}" if view.problem else title))
        self.query_one(PnlChart).plot(view.curve)

    def watch_by(self) -> None:
        self.show(load_performance(self.state_dir, self.by))

    def action_group(self, by: GroupBy) -> None:
        self.by = by

    def action_back(self) -> None:
        self.app.pop_screen()
