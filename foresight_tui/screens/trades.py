"""The ledger's bets, newest first: a live table to sort and filter (t from the main screen)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from engine.contract.ledger_read import Trade, iso
from foresight_tui.ledger_view import TRADES_SHOWN, TradesView, load_trades

REFRESH_S = 2.0
# (column label, the Trade attribute it sorts by)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("entered (market)", "entered_at"),
    ("slot", "slot"),
    ("side", "side"),
    ("stake", "stake"),
    ("ask", "ask"),
    ("edge", "edge"),
    ("outcome", "outcome"),
    ("P&L", "pnl"),
    ("resolved", "resolved_at"),
    ("version", "code_version"),
)
OUTCOME_STYLE = {"won": "green", "lost": "red", None: "yellow"}


def _number(value: float | None, fmt: str) -> Text:
    return Text("" if value is None else format(value, fmt), justify="right")


def trade_cells(t: Trade) -> tuple[Text, ...]:
    outcome = t.outcome or "open"
    return (
        Text(iso(t.entered_at)),
        Text(t.slot),
        Text(t.side),
        _number(t.stake, ".2f"),
        _number(t.ask, ".2f"),
        _number(t.edge, ".3f"),
        Text(outcome, style=OUTCOME_STYLE.get(t.outcome, "")),
        Text("" if t.pnl is None else f"{t.pnl:+.2f}", style="green" if (t.pnl or 0) > 0 else "red" if (t.pnl or 0) < 0 else "", justify="right"),
        Text(iso(t.resolved_at)),
        Text(t.code_version[:12]),
    )


def matches(t: Trade, needle: str) -> bool:
    """The filter: every word must appear in the bet's slot, side, outcome or version."""
    haystack = f"{t.slot} {t.asset} {t.window} {t.side} {t.outcome or 'open'} {t.code_version}".lower()
    return all(word in haystack for word in needle.lower().split())


def sort_key(attribute: str):  # type: ignore[no-untyped-def]
    def key(t: Trade) -> tuple[bool, object]:
        value = getattr(t, attribute)
        return (value is None, value if value is not None else 0)

    return key


class TradesScreen(Screen[None]):
    CSS_PATH = "books.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "next_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse"),
        Binding("o", "toggle_open", "Open only"),
    ]

    sort_by: reactive[str] = reactive("entered_at", init=False)
    descending: reactive[bool] = reactive(True, init=False)
    open_only: reactive[bool] = reactive(False, init=False)
    needle: reactive[str] = reactive("", init=False)

    def __init__(self, state_dir: Path, *, live: bool = True) -> None:
        super().__init__()
        self.state_dir = state_dir
        self.live = live
        self.view = TradesView()

    def compose(self) -> ComposeResult:
        yield Static(id="trades-title", markup=False)
        yield Input(placeholder="filter: words in slot, side, outcome, version (enter to keep, esc to clear)", id="trades-filter")
        table: DataTable[Text] = DataTable(id="trades-table", cursor_type="row", zebra_stripes=True)
        for label, attribute in COLUMNS:
            table.add_column(label, key=attribute)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#trades-filter", Input).display = False
        self.show(load_trades(self.state_dir))
        if self.live:
            self.set_interval(REFRESH_S, self.refresh_trades)

    @work(thread=True, exclusive=True, group="trades")
    def refresh_trades(self) -> None:
        view = load_trades(self.state_dir)
        self.app.call_from_thread(self.show, view)

    def show(self, view: TradesView) -> None:
        changed = view != self.view
        self.view = view
        if changed or not self.query_one(DataTable).row_count:
            self.render_rows()

    def render_rows(self) -> None:
        table = self.query_one("#trades-table", DataTable)
        shown = [t for t in self.view.trades if (not self.open_only or t.outcome is None) and matches(t, self.needle)]
        shown.sort(key=sort_key(self.sort_by), reverse=self.descending)
        cursor = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for t in shown:
                table.add_row(*trade_cells(t), key=str(t.id))
        if shown:
            table.move_cursor(row=min(cursor, len(shown) - 1))
        label = dict((a, lbl) for lbl, a in COLUMNS)[self.sort_by]
        parts = [f"Trades · {len(shown)} of {len(self.view.trades)} shown (the newest {TRADES_SHOWN} of the ledger)"]
        parts.append(f"sorted by {label} {'↓' if self.descending else '↑'}")
        if self.open_only:
            parts.append("open only")
        if self.needle:
            parts.append(f"filter: {self.needle}")
        pnl = sum(t.pnl or 0.0 for t in shown)
        parts.append(f"P&L {pnl:+.2f}")
        title = " · ".join(parts)
        if self.view.problem:
            title = f"⚠ {self.view.problem}"
        self.query_one("#trades-title", Static).update(Text(title))

    def watch_sort_by(self) -> None:
        self.render_rows()

    def watch_descending(self) -> None:
        self.render_rows()

    def watch_open_only(self) -> None:
        self.render_rows()

    def watch_needle(self) -> None:
        self.render_rows()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        attribute = str(event.column_key.value)
        if attribute == self.sort_by:
            self.descending = not self.descending
        else:
            self.sort_by = attribute

    def on_input_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        box = self.query_one("#trades-filter", Input)
        box.display = True
        box.focus()

    def action_back(self) -> None:
        """esc: clears the filter being typed, then hides it, then leaves the screen."""
        box = self.query_one("#trades-filter", Input)
        if box.has_focus:
            if box.value:
                box.value = ""
            else:
                box.display = False
                self.query_one(DataTable).focus()
            return
        self.app.pop_screen()

    def action_next_sort(self) -> None:
        attributes = [a for _, a in COLUMNS]
        self.sort_by = attributes[(attributes.index(self.sort_by) + 1) % len(attributes)]

    def action_reverse_sort(self) -> None:
        self.descending = not self.descending

    def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
