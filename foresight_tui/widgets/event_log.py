"""Engine events and the TUI's own notes, newest at the bottom, always plain text."""

from __future__ import annotations

from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog

from engine.contract.models import Event
from foresight_tui import formatting as fmt
from foresight_tui.events_file import display_kind

KIND_COLOURS = {
    "warning": "warning",
    "error": "error",
    "failed": "error",
    "rolled": "error",
    "passed": "success",
    "stale": "warning",
    "down": "error",
    "refused": "error",
    "rejected": "error",
    "command": "accent",
    "applied": "success",
    "reload": "primary",
    "rollback": "warning",
    "resolution": "secondary",
    "restart": "warning",
}
SEEN_LIMIT = 5000
KIND_WIDTH = 12  # the longest kind shown ("check-failed", "rolled-back", "resolution") and a space


def kind_style(app: object, kind: str) -> str:
    variables = getattr(app, "theme_variables", {})
    for word, variable in KIND_COLOURS.items():
        if word in kind:
            return variables.get(variable, "")
    return ""


class FollowingLog(RichLog):
    """A log that follows new lines while the operator is at its end.

    Where the view is at a resize is no word from the operator: a taller log moves
    the end up to the view, a shorter one moves it away below, and `is_vertical_scroll_end`
    would then stay False for good. So following is decided by where the view last
    moved to, and a resize keeps the view at the end while it follows.
    """

    following = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        if self.following:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def write_line(self, line: Text) -> None:
        self.write(line, scroll_end=self.following or self.max_scroll_y == 0)


class EventLog(FollowingLog):
    # Each new line grows the log's scrollable size, which Textual follows with a layout
    # of the whole screen (every card: ~40 ms at 16 slots, ~90 ms at 256). The log's own
    # size never depends on its lines, so that layout is only needed when a scrollbar
    # appears or the widest line changes; otherwise the new size only moves the thumb.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        if self.show_vertical_scrollbar and new.width == old.width and new.height >= old.height:
            self.vertical_scrollbar.window_virtual_size = new.height
        else:
            self.refresh(layout=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, highlight=False, wrap=True, min_width=20, max_lines=2000, **kwargs)  # type: ignore[arg-type]
        self._seen: dict[tuple[str, str, str], None] = {}

    def on_mount(self) -> None:
        self.border_title = "Events"

    def add_line(self, at: str, kind: str, message: str) -> None:
        line = Text.assemble(
            (fmt.utc_time(at), "dim"),
            " ",
            (f"{kind:<{KIND_WIDTH}} ", kind_style(self.app, kind)),
            message,  # a plain str inside Text.assemble is never parsed as markup
        )
        self.write_line(line)  # followed while the operator is at the end: scrolled back, it stays put

    def add_events(self, events: list[Event]) -> None:
        """Append the status events not shown yet (the status repeats the last few)."""
        for event in events:
            key = (event.at, event.kind, event.message)
            if key in self._seen:
                continue
            self._seen[key] = None
            if len(self._seen) > SEEN_LIMIT:
                del self._seen[next(iter(self._seen))]
            self.add_line(event.at, display_kind(event), event.message)
