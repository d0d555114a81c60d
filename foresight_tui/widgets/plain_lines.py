"""Rows of plain text in a widget's own colour, drawn through Textual's line API.

A card repaints its time bar and its sparkline on every status. Through `render()`
each repaint builds a Rich `Text`, converts it to Textual `Content`, wraps, formats
and link-styles it: most of what painting a status costs. These widgets know their
rows are exactly as wide as they are, so each row is one segment.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget


class PlainLines(Widget):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rows_for: tuple[object, ...] | None = None
        self._rows: list[str] = []
        self._row_styles: dict[tuple[object, int, str | None], Style] = {}

    def rows_key(self) -> Hashable:
        """What the rows depend on besides the size (reactives: changing one repaints)."""
        raise NotImplementedError

    def rows(self, width: int, height: int) -> list[str]:
        """The text of each row, top first."""
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (width, height, self.rows_key())
        if key != self._rows_for:
            self._rows_for, self._rows = key, self.rows(width, height)
        text = self._rows[y] if 0 <= y < len(self._rows) else ""
        # Cut with an ellipsis, never silently mid-number (a card's lines can be wider than it).
        text = (text[: width - 1] + "…" if len(text) > width > 0 else text).ljust(width)
        return Strip([Segment(text, self.row_style(y))], width)

    def row_colour(self, y: int) -> str | None:
        """A colour for row `y` over the widget's own style (None: the widget's colour)."""
        return None

    def row_style(self, y: int) -> Style:
        # The offset in the style's meta is what Textual's own rendering adds (text selection).
        # Building it (and adding a colour) costs ~10 us a row; the widget's style changes only
        # on a restyle (focus, state), so it is kept per (style, row, colour): a dict lookup.
        visual = self.visual_style
        colour = self.row_colour(y)
        key = (visual, y, colour)
        style = self._row_styles.get(key)
        if style is None:
            if len(self._row_styles) > 512:
                self._row_styles.clear()
            style = visual.rich_style_with_offset(0, y)
            if colour:
                style = style + Style(color=colour)
            self._row_styles[key] = style
        return style
