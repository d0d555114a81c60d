"""Every key, generated from the bindings themselves so it never drifts from them."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KeySection = tuple[str, list[tuple[str, str]]]
KEY_NAMES = {"escape": "esc", "question_mark": "?", "slash": "/", "colon": ":", "space": "space"}


def key_rows(bindings: list[Binding]) -> list[tuple[str, str]]:
    rows: dict[str, list[str]] = {}
    for binding in bindings:
        keys = [KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(",")]
        display = binding.key_display or " / ".join(keys)
        rows.setdefault(binding.description or binding.action, []).append(display)
    return [(" / ".join(keys) if len(keys) < 4 else f"{keys[0]} .. {keys[-1]}", description)
            for description, keys in rows.items()]  # fmt: skip


LEGEND: list[tuple[str, str, str]] = [
    # (what, how it looks, what it means); the colours are the theme's (app.tcss)
    ("WATCHING", "grey border", "no bet; the strategy is reading the market"),
    ("ENTERED", "blue border", "a paper bet is open in this window"),
    ("WON / LOST", "green / red border", "the last bet settled; the line says by how much"),
    ("COOLDOWN", "yellow border", "resting after a settlement; the line counts down"),
    ("PAUSED", "dashed border, dim", "no new bets on this slot (open bets still settle)"),
    ("now ▲ up 62% blend", "green ▲ / red ▼", "signal now: the strategy's reading this cycle; it moves"),
    ("bet ▼DOWN $5.00 @0.52", "", "bet held: the position taken, fixed until it settles"),
    ("not entering: …", "", "why the strategy takes no bet now (its own reason)"),
    ("STALE / DOWN", "header badge", "no status for 3 cycles / the engine's pid is gone"),
]


def legend_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2), expand=False)
    table.add_column("what", no_wrap=True, style="bold")
    table.add_column("looks")
    table.add_column("means")
    table.add_row(Text("Cards and header", style="bold underline"), "", "")
    for what, looks, means in LEGEND:
        table.add_row(Text(what), Text(looks, style="dim"), Text(means))
    return table


def help_table(sections: list[KeySection]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2), expand=False)
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("what")
    for index, (title, rows) in enumerate(sections):
        if index:
            table.add_row("", "")
        table.add_row(Text(title, style="bold underline"), "")
        for keys, description in rows:
            table.add_row(Text(keys), Text(description))
    return table


class HelpScreen(ModalScreen[None]):
    AUTO_FOCUS = "*"  # the app focuses nothing by itself: without this, arrows and End do nothing here
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def __init__(self, sections: list[KeySection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body", classes="dialog") as body:
            body.border_title = "Help: what you see, every key"
            body.border_subtitle = "esc closes"
            yield Static(legend_table(), id="help-legend")
            yield Static(help_table(self.sections), id="help-table")
