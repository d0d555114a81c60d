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
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget


class PlainLines(Widget):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rows_for: tuple[object, ...] | None = None
        self._rows: list[str] = []
        self._row_styles: dict[tuple[object, int, str | None], Style] = {}
        self._strips: dict[int, tuple[str, Style, Strip]] = {}  # y -> the last row drawn there
        self._filtered: dict[int, tuple[tuple[str, Style, tuple[LineFilter, ...], Color], Strip]] = {}
        # What the widget's style means for its rows, kept while Textual keeps its visual style.
        self._box_for: tuple[VisualStyle, bool, Color] | None = None

    def rows_key(self) -> Hashable:
        """What the rows depend on besides the size (reactives: changing one repaints)."""
        raise NotImplementedError

    def rows(self, width: int, height: int) -> list[str]:
        """The text of each row, top first."""
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        return self._strip(y, width, height, self.visual_style)

    def _row(self, y: int, width: int, height: int, visual: VisualStyle) -> tuple[str, Style]:
        """Row `y`'s text, exactly `width` wide, and its style."""
        key = (width, height, self.rows_key())
        if key != self._rows_for:
            self._rows_for, self._rows = key, self.rows(width, height)
        text = self._rows[y] if 0 <= y < len(self._rows) else ""
        # Cut with an ellipsis, never silently mid-number (a card's lines can be wider than it).
        text = (text[: width - 1] + "…" if len(text) > width > 0 else text).ljust(width)
        return text, self._row_style(y, visual)

    def _strip(self, y: int, width: int, height: int, visual: VisualStyle) -> Strip:
        text, style = self._row(y, width, height, visual)
        last = self._strips.get(y)
        if last is not None and last[0] == text and last[1] is style:
            return last[2]  # the same Strip: its own caches (filters, crops) hold
        strip = Strip([Segment(text, style)], width)
        self._strips[y] = (text, style, strip)
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        """Each row as `render_line` draws it, without Textual's styles cache around it.

        With no border, padding, outline, tint or opacity, that cache only re-wraps the row
        in an equal Strip, at a cost per widget and per row that dominates painting a card
        (every frame asks each card for all its rows: the frame's crop spans the grid).
        The app's line filters are applied as that cache applies them.
        """
        visual = self.visual_style
        if self._box_for is None or self._box_for[0] is not visual:
            self._box_for = (visual, self._plain_box(), self.background_colors[1])
        _visual, plain, background = self._box_for
        if not plain:
            return super().render_lines(crop)
        width, height = self.size
        filters = tuple(self.get_line_filters())
        strips = []
        for y in crop.line_range:
            strips.append(self._filtered_strip(y, width, height, visual, filters, background))
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _filtered_strip(
        self, y: int, width: int, height: int, visual: VisualStyle, filters: tuple[LineFilter, ...], background: Color
    ) -> Strip:
        """Row `y` through the app's line filters: one Strip built per changed row, not one per filter."""
        text, style = self._row(y, width, height, visual)
        key = (text, style, filters, background)
        last = self._filtered.get(y)
        if last is not None and last[0] == key:
            return last[1]
        segments = [Segment(text, style)]
        for line_filter in filters:
            segments = line_filter.apply(segments, background)
        strip = Strip(segments, width)
        self._filtered[y] = (key, strip)
        return strip

    def _plain_box(self) -> bool:
        """Nothing of the widget's style would change its rows on the way to the screen."""
        styles = self.styles
        return not (
            styles.border
            or any(styles.padding)
            or styles.outline
            or styles.tint.a
            or styles.text_opacity != 1.0
            or self.opacity != 1.0
            or (styles.has_rule("hatch") and styles.hatch != "none")
        )

    def row_colour(self, y: int) -> str | None:
        """A colour for row `y` over the widget's own style (None: the widget's colour)."""
        return None

    def row_style(self, y: int) -> Style:
        return self._row_style(y, self.visual_style)

    def _row_style(self, y: int, visual: VisualStyle) -> Style:
        # The offset in the style's meta is what Textual's own rendering adds (text selection).
        # Building it (and adding a colour) costs ~10 us a row; the widget's style changes only
        # on a restyle (focus, state), so it is kept per (style, row, colour): a dict lookup.
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
