"""Every event in events.jsonl, not only the last 30 the status carries: scroll, filter, search."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, RichLog, Static

from engine.contract.models import Event
from foresight_tui import formatting as fmt
from foresight_tui.events_file import EventQuery, EventsFile, display_kind
from foresight_tui.widgets.event_log import KIND_WIDTH, FollowingLog, kind_style

SHOWN_LIMIT = 20_000


class EventsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close events"),
        Binding("slash", "focus_filter", "Filter / search", key_display="/"),
        Binding("G", "end", "Newest", key_display="G"),
    ]

    def __init__(self, state_dir: Path) -> None:
        super().__init__()
        self.file = EventsFile(state_dir)
        self.events: list[Event] = []
        self.query_ = EventQuery()

    def compose(self) -> ComposeResult:
        with Vertical(id="events-body", classes="dialog") as body:
            body.border_title = "Events (events.jsonl)"
            body.border_subtitle = "/ filter: kind:reload slot:BTC-5m words · G newest · esc closes"
            yield Input(placeholder="kind:KIND slot:SLOT words (enter applies, esc leaves)", id="events-filter", compact=True)
            yield Static("", id="events-count")
            yield FollowingLog(id="events-list", markup=False, highlight=False, wrap=True, max_lines=SHOWN_LIMIT)

    def on_mount(self) -> None:
        self.follow()
        self.query_one("#events-list").focus()
        self.watch(self.app, "status", lambda _status: self.follow(), init=False)

    def line(self, event: Event) -> Text:
        kind = display_kind(event)
        return Text.assemble((fmt.utc_time(event.at), "dim"), " ", (f"{kind:<{KIND_WIDTH}} ", kind_style(self.app, kind)),
                             event.message)  # fmt: skip

    def follow(self) -> None:
        """Append what the engine logged since; the view stays where the operator scrolled it."""
        new = self.file.read_new()
        if not new and self.events:
            return
        first = not self.events
        self.events.extend(new)
        log = self.query_one("#events-list", FollowingLog)
        at_end = first or log.following
        for event in new:
            if self.query_.matches(event):
                log.write(self.line(event), scroll_end=at_end)
        self.show_count()

    def show_count(self) -> None:
        shown = sum(1 for e in self.events if self.query_.matches(e))
        where = f"in {self.file.path}" if self.events else f"none yet in {self.file.path}"
        self.query_one("#events-count", Static).update(Text(f"{shown} of {len(self.events)} events {where}"))

    def refill(self) -> None:
        log = self.query_one("#events-list", RichLog)
        log.clear()
        for event in self.events:
            if self.query_.matches(event):
                log.write(self.line(event), scroll_end=False)
        log.scroll_end(animate=False)
        self.show_count()

    @on(Input.Submitted, "#events-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        self.query_ = EventQuery.parse(event.value)
        self.refill()
        self.query_one("#events-list").focus()

    def action_focus_filter(self) -> None:
        self.query_one("#events-filter").focus()

    def action_end(self) -> None:
        self.query_one("#events-list", RichLog).scroll_end(animate=False)

    def action_close(self) -> None:
        if self.focused is self.query_one("#events-filter"):
            self.query_one("#events-list").focus()
            return
        self.dismiss(None)
