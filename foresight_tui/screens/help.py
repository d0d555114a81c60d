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
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def __init__(self, sections: list[KeySection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body", classes="dialog") as body:
            body.border_title = "Keys"
            body.border_subtitle = "esc closes"
            yield Static(help_table(self.sections), id="help-table")
