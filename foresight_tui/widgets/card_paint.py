"""A slot card's lines, as Textual would draw a bordered, padded widget with these styles.

The grid draws every card itself (one widget, one render a frame). The styles come from
the grid's component classes (app.tcss), merged in the cascade's order; the top and
bottom lines (border, title, subtitle) go through Textual's own line renderer, the rows
between them are put together here from the same pieces (border edges, padding, the
row's text in the card's style): those change on every status, the borders rarely.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual._border import get_box
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.content import Content
from textual.css.styles import RenderStyles
from textual.filter import LineFilter
from textual.geometry import Size, Spacing
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget

from foresight_tui.widgets.slot_card import CardLook, Row, SlotCard

CARD = "slot-grid--card"
SHADOW = "slot-grid--shadow"
SHORT = "slot-grid--short"  # a short terminal's cards: no padding
# One line of a card: its segments, put into the grid's line as they are (a Strip each would
# cost its own caches for nothing).
CardLine = tuple[Segment, ...]

COMPONENTS = {
    CARD,
    SHADOW,
    SHORT,
    *(f"slot-grid-{name}" for name in ("-watching", "-entered", "-won", "-lost", "-cooldown", "-paused", "-focus", "-error")),
}


@dataclass
class _Box:
    """What one look means for a card's lines: its styles and the pieces of its rows."""

    styles: RenderStyles
    padding: Spacing
    base_background: Color
    background: Color
    left: Segment
    right: Segment
    pad: Style  # the padding's style (the card's background)
    text: Style  # the body's text, before the line filters (rows add their colour to it)
    shadow: Style  # the shadow's line, filtered
    shadow_text: Style  # the same, before the filters
    title: tuple[Color, Color, VisualStyle]
    subtitle: tuple[Color, Color, VisualStyle]


class CardPainter:
    """Draws cards for one widget (the grid), keeping each look's pieces and each row's segments."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self._filters: tuple[LineFilter, ...] = ()
        self._filter_background = Color(0, 0, 0, 0)
        self._mapped: dict[Style, Style] = {}
        self._boxes: dict[tuple[CardLook, bool], _Box] = {}
        self._edges: dict[tuple[str, int, int, CardLook, bool, str, str], tuple[CardLine, CardLine]] = {}
        self._rows: dict[tuple[str, int], tuple[tuple[Row, int, _Box], CardLine]] = {}  # (slot, y) -> last row
        self._blanks: dict[tuple[int, int], CardLine] = {}
        self._row_styles: dict[tuple[int, str], Style] = {}

    def use_filters(self, filters: tuple[LineFilter, ...], background: Color) -> None:
        """The app's line filters (truecolor mapping, NO_COLOR), applied as the lines are made."""
        if (filters, background) != (self._filters, self._filter_background):
            self._filters, self._filter_background = filters, background
            self.reset()

    def _filtered(self, style: Style) -> Style:
        """A style as the line filters leave it. Textual's filters map each segment's style
        alone (never its text), so a row made of filtered styles equals the row filtered,
        without a pass over its segments each time it changes."""
        mapped = self._mapped.get(style)
        if mapped is None:
            segment = Segment(" ", style)
            for line_filter in self._filters:
                segment = line_filter.apply([segment], self._filter_background)[0]
            mapped = self._mapped[style] = segment.style or style
        return mapped

    def _filtered_strip(self, strip: Strip) -> Strip:
        for line_filter in self._filters:
            strip = strip.apply_filter(line_filter, self._filter_background)
        return strip

    def reset(self) -> None:
        """Styles changed (a restyle, the theme): everything drawn so far may be stale."""
        self._mapped.clear()
        self._blanks.clear()
        self._boxes.clear()
        self._edges.clear()
        self._rows.clear()
        self._row_styles.clear()

    def box(self, look: CardLook, short: bool) -> _Box:
        key = (look, short)
        box = self._boxes.get(key)
        if box is None:
            box = self._boxes[key] = self._make_box(look, short)
        return box

    def _make_box(self, look: CardLook, short: bool) -> _Box:
        widget = self.widget
        names = [CARD, *(f"slot-grid-{name}" for name in look.classes())] + [SHORT] * short
        styles = widget.get_component_styles(*names)
        base_background = widget.background_colors[1]
        background = base_background + styles.background
        inner, outer = VisualStyle(background=background), VisualStyle(background=base_background)
        (_, _), (right_type, right_color), (_, _), (left_type, left_color) = styles.border
        left = get_box(left_type, inner, outer, VisualStyle(foreground=base_background + left_color))[1][0]
        right = get_box(right_type, inner, outer, VisualStyle(foreground=base_background + right_color))[1][2]
        text = _visual(widget.visual_style, styles, background)
        shadow = _visual(text, widget.get_component_styles(*names, SHADOW), background)
        return _Box(
            styles=styles,
            padding=styles.padding,
            base_background=base_background,
            background=background,
            left=Segment(left.text, self._filtered(left.style or Style())),
            right=Segment(right.text, self._filtered(right.style or Style())),
            pad=self._filtered(inner.rich_style),
            text=text.rich_style,
            shadow=self._filtered(shadow.rich_style),
            shadow_text=shadow.rich_style,
            title=_label_style(styles.auto_border_title_color, styles.border_title_color,
                               styles.border_title_background, styles.border_title_style, base_background),  # fmt: skip
            subtitle=_label_style(styles.auto_border_subtitle_color, styles.border_subtitle_color,
                                  styles.border_subtitle_background, styles.border_subtitle_style, base_background),  # fmt: skip
        )

    def lines(self, card: SlotCard, focused: bool, short: bool, size: Size) -> list[CardLine]:
        """The card's `size.height` lines, each `size.width` wide; a line unchanged since the
        last call is the same object."""
        look = card.look
        if focused:
            look = CardLook(look.state, look.paused, look.error, True)
        box = self.box(look, short)
        width, height = size
        if width < 2 or height < 2:
            return [(Segment(" " * width, box.pad),)] * height
        top, bottom = self._edge_lines(card, look, short, size, box)
        pad_top, pad_right, pad_bottom, pad_left = box.padding
        content_width = max(0, width - 2 - pad_left - pad_right)
        content_height = max(0, height - 2 - pad_top - pad_bottom)
        rows = card.rows(content_width, content_height)
        blank = self._blanks.get((id(box), width))
        if blank is None:
            blank = self._blanks[(id(box), width)] = (box.left, Segment(" " * (width - 2), box.pad), box.right)
        strips = [top] + [blank] * pad_top
        for y in range(content_height):
            strips.append(self._row(card.slot_id, y, rows[y] if y < len(rows) else ("", ""), content_width, box))
        strips += [blank] * pad_bottom + [bottom]
        return strips

    def _edge_lines(self, card: SlotCard, look: CardLook, short: bool, size: Size, box: _Box) -> tuple[CardLine, CardLine]:
        key = (card.slot_id, size.width, size.height, look, short, card.title, card.subtitle)
        edges = self._edges.get(key)
        if edges is None:
            if len(self._edges) > 1024:
                self._edges.clear()
            cache = StylesCache()
            app = self.widget.app
            title = (Content(card.title), *box.title)
            subtitle = (Content(card.subtitle), *box.subtitle)

            def edge(y: int) -> Strip:
                return cache.render_line(
                    box.styles, y, size, size, box.padding, box.base_background, box.background,
                    lambda _y: Strip.blank(size.width), title, subtitle, 1.0, app.ansi_theme, app.native_ansi_color,
                )  # fmt: skip

            top, bottom = (self._filtered_strip(edge(y)) for y in (0, size.height - 1))
            edges = self._edges[key] = (tuple(top), tuple(bottom))
        return edges

    def _row(self, slot_id: str, y: int, row: Row, width: int, box: _Box) -> CardLine:
        """One body row between the card's side borders; the same object while it is unchanged."""
        key = (row, width, box)
        last = self._rows.get((slot_id, y))
        if last is not None and last[0][0] == row and last[0][1] == width and last[0][2] is box:
            return last[1]
        text, kind = row
        # Cut with an ellipsis, never silently mid-number (a card's lines can be wider than it).
        text = (text[: width - 1] + "…" if len(text) > width > 0 else text).ljust(width)
        pad_left, pad_right = box.padding.left, box.padding.right
        segments = [box.left]
        if pad_left:
            segments.append(Segment(" " * pad_left, box.pad))
        segments.append(Segment(text, self._row_style(box, kind)))
        if pad_right:
            segments.append(Segment(" " * pad_right, box.pad))
        segments.append(box.right)
        line = tuple(segments)
        self._rows[(slot_id, y)] = (key, line)
        return line

    def _row_style(self, box: _Box, kind: str) -> Style:
        if kind == "shadow":
            return box.shadow
        key = (id(box), kind)
        style = self._row_styles.get(key)
        if style is None:
            colour = self.widget.app.theme_variables.get(kind) if kind else None
            style = self._row_styles[key] = self._filtered(box.text + Style(color=colour) if colour else box.text)
        return style


def _visual(parent: VisualStyle, styles: RenderStyles, background: Color) -> VisualStyle:
    """A child's style over its parent's, as Textual's `visual_style` builds it."""
    color = styles.color if styles.has_rule("color") else parent.foreground
    style = styles.text_style
    return VisualStyle(
        background,
        color,
        bold=style.bold or parent.bold,
        dim=style.dim or parent.dim,
        italic=style.italic or parent.italic,
        reverse=style.reverse or parent.reverse,
        underline=style.underline or parent.underline,
        strike=style.strike or parent.strike,
    )


def _label_style(
    auto: bool, color: Color, background: Color, style: Style, base_background: Color
) -> tuple[Color, Color, VisualStyle]:
    if auto:
        color = base_background.get_contrast_text(color.a)
    return color, background, VisualStyle.from_rich_style(style)
