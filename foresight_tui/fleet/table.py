"""The fleet's table: one line per engine, and a new status repaints only its own line.

Textual's DataTable renders every visible cell again after any update; at 50
engines each changing its cycle every second that was most of the view's CPU.
Here each line is a cached Strip, rebuilt only when its text changes.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from foresight_tui.fleet.rows import COLUMNS, FleetRow, Link

GAP = 2
LINK_STYLES = {Link.ONLINE: Style(color="green"), Link.STALE: Style(color="yellow", bold=True), Link.OFFLINE: Style(color="red", bold=True)}
CURSOR = Style(reverse=True)


class FleetTable(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("home,g", "cursor_first", "First", show=False),
        Binding("end,G", "cursor_last", "Last", show=False),
        Binding("enter", "open", "Open"),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    class Opened(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.names: list[str] = []
        self._cells: list[tuple[str, ...]] = []
        self._links: list[Link] = []
        self._widths: list[int] = [len(c) for c in COLUMNS]
        self._strips: dict[int, Strip] = {}
        self._style = Style()  # rich_style as of this paint

    # -------------------------------------------------------------- data

    def header_text(self) -> str:
        return self._line(COLUMNS)

    def _line(self, cells: tuple[str, ...]) -> str:
        return " " + (" " * GAP).join(c.ljust(w) for c, w in zip(cells, self._widths, strict=False))

    def set_rows(self, rows: list[FleetRow]) -> bool:
        """Show `rows`; True when the columns' widths changed (the header follows)."""
        cells = [row.cells() for row in rows]
        names = [row.name for row in rows]
        widths = [max([len(COLUMNS[i]), *(len(c[i]) for c in cells)]) for i in range(len(COLUMNS))]
        reshaped = names != self.names or widths != self._widths
        old = self._cells
        self.names, self._cells, self._links, self._widths = names, cells, [r.link for r in rows], widths
        if reshaped:
            self._strips.clear()
            self.virtual_size = Size(len(self._line(COLUMNS)) + 1, len(rows))
            self.cursor = min(self.cursor, max(0, len(rows) - 1))
            self.refresh()
            return True
        for i, (before, now) in enumerate(zip(old, cells, strict=False)):
            if before != now:
                self._strips.pop(i, None)
                self.refresh_line(i)
        return False

    @property
    def selected(self) -> str | None:
        return self.names[self.cursor] if 0 <= self.cursor < len(self.names) else None

    # -------------------------------------------------------------- rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        # rich_style walks the styles of every ancestor: once a paint, not twice a line.
        style = self.rich_style
        if style != self._style:
            self._style = style
            self._strips.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.size.width
        if index >= len(self._cells):
            return Strip.blank(width, self._style)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._render_row(index)
        return strip.crop_extend(scroll_x, scroll_x + width, self._style)

    def _render_row(self, index: int) -> Strip:
        base = self._style + (CURSOR if index == self.cursor and self.has_focus else Style())
        cells = self._cells[index]
        segments = [Segment(" ", base)]
        for i, (text, w) in enumerate(zip(cells, self._widths, strict=False)):
            style = base + LINK_STYLES[self._links[index]] if i == 2 else base
            segments.append(Segment(text.ljust(w), style))
            if i < len(cells) - 1:
                segments.append(Segment(" " * GAP, base))
        segments.append(Segment(" ", base))
        return Strip(segments)

    def watch_cursor(self, before: int, now: int) -> None:
        for index in (before, now):
            self._strips.pop(index, None)
            self.refresh_line(index)
        self.scroll_to_region(self._row_region(now), animate=False)

    def _row_region(self, index: int) -> Region:
        return Region(0, index, 1, 1)

    def _repaint_cursor(self) -> None:
        self._strips.pop(self.cursor, None)
        self.refresh_line(self.cursor)

    def on_focus(self) -> None:
        self._repaint_cursor()

    def on_blur(self) -> None:
        self._repaint_cursor()

    # -------------------------------------------------------------- keys

    def action_cursor_up(self) -> None:
        self.cursor = max(0, self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.cursor = min(max(0, len(self.names) - 1), self.cursor + 1)

    def action_cursor_first(self) -> None:
        self.cursor = 0

    def action_cursor_last(self) -> None:
        self.cursor = max(0, len(self.names) - 1)

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self.selected))

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self.names):
            self.cursor = index
