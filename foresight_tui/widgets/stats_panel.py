"""Open positions, resolved bets, trailing win rate, P&L and its trend."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from engine.contract.models import Stats
from foresight_tui import formatting as fmt
from foresight_tui.widgets.spark import TextSparkline


def stats_text(stats: Stats) -> str:
    rate = "-" if stats.win_rate is None else f"{stats.win_rate:.1%}"
    return "\n".join(
        [
            f"open positions  {stats.open_positions}",
            f"resolved        {stats.resolved} ({stats.wins} won)",
            f"win rate        {rate} (last {stats.win_rate_window})",
            f"staked          ${stats.staked:,.2f}",
        ]
    )


class StatsPanel(Widget):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: Stats | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="stats-text", markup=False)
        yield Static(id="pnl", markup=False)
        yield TextSparkline(id="pnl-trend")

    def on_mount(self) -> None:
        self.border_title = "Stats"

    def show(self, stats: Stats) -> None:
        if stats == self._shown:
            return
        self._shown = stats
        self.query_one("#stats-text", Static).update(Text(stats_text(stats)), layout=False)
        pnl = self.query_one("#pnl", Static)
        pnl.update(Text(f"P&L             {fmt.money(stats.pnl)}"), layout=False)
        pnl.set_class(stats.pnl > 0, "-up")
        pnl.set_class(stats.pnl < 0, "-down")
        self.query_one("#pnl-trend", TextSparkline).data = tuple(stats.pnl_history)
