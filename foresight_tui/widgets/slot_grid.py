"""All slots as cards: reflows with the terminal, filters, moves a focus ring with arrows and hjkl.

One line-API widget draws every card. As widgets of their own (a bordered card, its body,
its shadow line), 16 cards cost Textual a render each per frame, a message round each per
status, and the compositor cut every screen line at each of their edges; drawn here, a
status costs one render of the lines that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual._resolve import resolve
from textual.binding import Binding
from textual.color import Color
from textual.css.scalar import Scalar
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.contract.models import SlotStatus
from foresight_tui.messages import SlotDetailRequested, SlotPauseRequested
from foresight_tui.widgets.card_paint import COMPONENTS, CardLine, CardPainter
from foresight_tui.widgets.slot_card import SlotCard

CARD_MIN_WIDTH = 36
CARD_MIN_HEIGHT = 8
# A short terminal (the screen's `-short` class) shows cards of three lines, time left in the title.
COMPACT_MIN_WIDTH = 25
COMPACT_HEIGHT = 5
GUTTER = 1  # columns between cards


def grid_columns(count: int, fit: int) -> int:
    """As many columns as fit, then as few as keep that row count (16 slots: 4x4, not 5+5+5+1)."""
    count, fit = max(1, count), max(1, fit)
    rows = -(-count // fit)
    return -(-count // rows)


def column_spans(columns: int, width: int) -> list[tuple[int, int]]:
    """(offset, width) of each column sharing `width`, as Textual's grid layout divides it."""
    size = Size(width, 1)
    return resolve([Scalar.parse("1fr")] * columns, width, GUTTER, size, size)


def matches(slot: SlotStatus, text: str) -> bool:
    """A filter matches the slot id, asset, window or state (`paused` too), case-insensitively."""
    needle = text.strip().lower()
    if not needle:
        return True
    words = [slot.id, slot.asset, slot.window, slot.state] + (["paused"] if slot.paused else [])
    return any(needle in word.lower() for word in words)


@dataclass(frozen=True)
class _Frame:
    key: tuple[object, ...]
    ring: bool  # the focus ring drawn
    filters: tuple[LineFilter, ...]
    background: Color
    blank: Style  # the grid's own background, between and beside the cards
    pad_left: int
    pad_right: int


class SlotGrid(ScrollView, can_focus=True):
    COMPONENT_CLASSES = COMPONENTS
    BINDINGS = [
        Binding("space,s", "toggle_pause", "Pause/resume slot"),
        Binding("enter", "open_detail", "Slot detail"),
        Binding("left,h", "move(-1, 0)", "Move left", show=False),
        Binding("right,l", "move(1, 0)", "Move right", show=False),
        Binding("up,k", "move(0, -1)", "Move up", show=False),
        Binding("down,j", "move(0, 1)", "Move down", show=False),
        *(Binding(str(n), f"jump({n})", "Jump to the nth card shown", show=False) for n in range(1, 10)),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.filter_text = ""
        self.columns = 4
        self.row_height = CARD_MIN_HEIGHT
        self._compact = False
        self._cards: list[SlotCard] = []
        self._visible: list[SlotCard] = []
        self._cursor: str | None = None  # the selected card's slot id: the focus ring when focused
        self._spans: list[tuple[int, int]] = []
        self._painter = CardPainter(self)
        self._card_lines: dict[str, tuple[tuple[object, ...], list[CardLine]]] = {}
        self._versions: dict[str, int] = {}  # slot id -> changes shown, for the lines kept above
        # virtual line -> its cards' lines (held, compared by identity), width and frame, Strip
        self._drawn: dict[int, tuple[list[CardLine], tuple[object, ...], Strip]] = {}
        self._row_memo: dict[int, tuple[int, tuple[object, ...], list[list[CardLine]]]] = {}
        self._generation = 0  # counts changes of any card, the cursor or the layout
        self._below_for: tuple[tuple[object, ...], Strip] | None = None
        self._blanks: dict[tuple[object, ...], CardLine] = {}
        self._frame_for: _Frame | None = None

    # ------------------------------------------------------------ the cards

    @property
    def cards(self) -> list[SlotCard]:
        return list(self._cards)

    @property
    def visible_cards(self) -> list[SlotCard]:
        return list(self._visible)

    def card(self, slot_id: str) -> SlotCard:
        return next(card for card in self._cards if card.slot_id == slot_id)

    @property
    def ring_shown(self) -> bool:
        """The focus ring is drawn while the grid is its screen's focus, a dialog over it or not."""
        return self.is_attached and self.screen.focused is self

    @property
    def cursor_card(self) -> SlotCard | None:
        """The selected card (shown with the focus ring while the grid has focus)."""
        return next((card for card in self._visible if card.slot_id == self._cursor), None)

    def show(self, slots: list[SlotStatus], price_history: Mapping[str, list[float]], now: float) -> None:
        """Update cards in place; rebuild only when the set of slots changed. Each card gets
        its asset's sparkline from `price_history` (none when the status has none for it)."""
        cards = self._cards
        if self.is_attached and self.screen.has_class("-short") != self._compact:
            self.reflow()  # the terminal crossed the short breakpoint after the grid's own resize
        if [c.slot_id for c in cards] == [s.id for s in slots]:
            if self.filter_text:  # without a filter every card is shown already
                for card, slot in zip(cards, slots, strict=True):
                    card.display = matches(slot, self.filter_text)
                if [c for c in cards if c.display] != self._visible:
                    self.reflow()
            rows = self.rows_in_view()
            index = 0
            for card, slot in zip(cards, slots, strict=True):
                in_view = card.display and index // self.columns in rows
                index += card.display
                if card.show(slot, price_history.get(slot.asset, ()), now, compact=self._compact, paint=in_view):
                    self._changed(card)
            self.refresh_changed()
            return
        cursor = self._cursor
        self._cards = [SlotCard(slot, price_history.get(slot.asset, ()), now) for slot in slots]
        self._card_lines.clear()
        self._versions.clear()
        for card in self._cards:
            card.display = matches(card.slot, self.filter_text)
            card.show(card.slot, card.history, card.now, compact=self._compact, force=True)
        self._cursor = cursor if any(card.slot_id == cursor for card in self._cards) else None
        self.reflow(force=True)

    def show_shadow(self, lines: Mapping[str, str]) -> None:
        """The shadow's differing decisions (slot id -> line); the other cards have no such line."""
        changed = False
        for card in self._cards:
            if card.show_shadow(lines.get(card.slot_id)):
                self._changed(card)
                changed = True
        if changed:
            self.refresh_changed()

    def _changed(self, card: SlotCard) -> None:
        self._versions[card.slot_id] = self._versions.get(card.slot_id, 0) + 1
        self._generation += 1

    def rows_in_view(self) -> range:
        """Grid rows inside the scrolled window, by arithmetic (cards elsewhere keep their
        data and are drawn from it when scrolled to)."""
        top = int(self.scroll_y) // self.row_height
        bottom = -(-(int(self.scroll_y) + self.scrollable_content_region.height) // self.row_height)
        return range(top, max(top + 1, bottom))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.paint_in_view()

    def paint_in_view(self) -> None:
        """Bring cards scrolled into view up to date with the data they kept."""
        rows = self.rows_in_view()
        for index, card in enumerate(self._visible):
            if index // self.columns in rows and card.show(card.slot, card.history, card.now, compact=self._compact):
                self._changed(card)
        self.refresh_changed()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        for card in self._cards:
            card.display = matches(card.slot, text)
        self.reflow()
        if self.cursor_card is None:
            self._cursor = self._visible[0].slot_id if self._visible else None
            self._generation += 1

    def focus_first(self) -> None:
        if self._visible:
            self.select(0)
            self.focus()

    # ------------------------------------------------------------ layout

    def on_resize(self) -> None:
        self.reflow(force=True)

    def reflow(self, *, force: bool = False) -> None:
        """Columns for the width, rows sharing the height (never shorter than a card needs)."""
        compact = self.is_attached and self.screen.has_class("-short")
        min_width, min_height = (COMPACT_MIN_WIDTH, COMPACT_HEIGHT) if compact else (CARD_MIN_WIDTH, CARD_MIN_HEIGHT)
        visible = [card for card in self._cards if card.display]
        count = len(visible)
        region = self.scrollable_content_region
        columns = grid_columns(count, region.width // min_width)
        rows = -(-max(1, count) // columns)
        viewport = region.height
        # Rows share the height; when they scroll, whole rows fill the window.
        height = max(min_height, viewport // max(1, min(rows, viewport // min_height)))
        if compact:
            height = min_height
        spans = column_spans(columns, region.width)
        layout = (columns, height, compact, spans, [card.slot_id for card in visible])
        shown = (self.columns, self.row_height, self._compact, self._spans, [c.slot_id for c in self._visible])
        if not force and layout == shown and self.virtual_size.width == region.width:
            return
        self.columns, self.row_height, self._spans, self._visible = columns, height, spans, visible
        if compact != self._compact:
            self._compact = compact
            for card in self._cards:
                card.show(card.slot, card.history, card.now, compact=compact, force=True)
                self._changed(card)
        self.virtual_size = Size(region.width, rows * height if count else 0)
        self._drawn.clear()
        self._generation += 1
        self.refresh()

    def card_region(self, index: int) -> Region:
        """Where the `index`th card shown sits in the grid's virtual space."""
        row, column = divmod(index, self.columns)
        x, width = self._spans[column] if column < len(self._spans) else (0, 0)
        return Region(x, row * self.row_height, width, self.row_height)

    # ------------------------------------------------------------ drawing

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painter.reset()
        self._card_lines.clear()
        self._drawn.clear()
        self._generation += 1
        self._frame_for = None

    def _frame(self, *, filtered: bool = True) -> _Frame:
        """What every line of one frame shares: taken once a frame (each is an ancestor walk)."""
        ring = self.ring_shown
        filters = tuple(self.get_line_filters()) if filtered else ()
        padding = self.styles.padding
        key = (ring, filters, padding.left, padding.right)
        frame = self._frame_for
        if frame is None or frame.key != key:
            background = self.background_colors[1]
            blank = Style(bgcolor=background.rich_color)
            frame = self._frame_for = _Frame(key, ring, filters, background, blank, padding.left, padding.right)
        return frame

    def _blank(self, width: int, frame: _Frame) -> CardLine:
        """`width` cells of the grid's own background, through the line filters."""
        key = (width, frame.key)
        blank = self._blanks.get(key)
        if blank is None:
            if len(self._blanks) > 64:
                self._blanks.clear()
            strip = Strip([Segment(" " * width, frame.blank)], width)
            for line_filter in frame.filters:
                strip = strip.apply_filter(line_filter, frame.background)
            blank = self._blanks[key] = tuple(strip)
        return blank

    def _below(self, frame: _Frame) -> Strip:
        """A line under the last row of cards: padding and the grid's background."""
        width = self.virtual_size.width
        if self._below_for is None or self._below_for[0] != (width, frame.key):
            pieces = [self._blank(n, frame) for n in (frame.pad_left, width, frame.pad_right) if n]
            self._below_for = ((width, frame.key), Strip(list(chain.from_iterable(pieces)), frame.pad_left + width + frame.pad_right))
        return self._below_for[1]

    def _lines_of(self, index: int, card: SlotCard, frame: _Frame) -> list[CardLine]:
        """A card's lines through the app's line filters, kept while the card is unchanged."""
        focused = frame.ring and card.slot_id == self._cursor
        width = self._spans[index % self.columns][1]
        key = (self._versions.get(card.slot_id, 0), focused, self._compact, width, self.row_height, frame.key)
        kept = self._card_lines.get(card.slot_id)
        if kept is not None and kept[0] == key:
            return kept[1]
        self._painter.use_filters(frame.filters, frame.background)
        lines = self._painter.lines(card, focused, self._compact, Size(width, self.row_height))
        self._card_lines[card.slot_id] = (key, lines)
        return lines

    def _row_lines(self, row: int, frame: _Frame) -> list[list[CardLine]]:
        """The lines of each card in grid row `row`, looked up once per change of the grid."""
        memo = self._row_memo.get(row)
        if memo is not None and memo[0] == self._generation and memo[1] == frame.key:
            return memo[2]
        first = row * self.columns
        lines = [self._lines_of(first + column, card, frame)
                 for column, card in enumerate(self._visible[first : first + self.columns])]  # fmt: skip
        self._row_memo[row] = (self._generation, frame.key, lines)
        return lines

    def _virtual_line(self, y: int, frame: _Frame) -> Strip:
        """Line `y` of the grid's virtual space (scroll offset included), padding included;
        the same Strip while its cards' lines are the same objects."""
        width = self.virtual_size.width
        row, dy = divmod(y, self.row_height)
        parts = [lines[dy] for lines in self._row_lines(row, frame)]
        drawn = self._drawn.get(y)
        if (
            drawn is not None
            and drawn[1] == (width, frame.key)
            and len(drawn[0]) == len(parts)
            and all(old is new for old, new in zip(drawn[0], parts, strict=True))  # held: never a reused id
        ):
            return drawn[2]
        pieces: list[CardLine] = [self._blank(frame.pad_left, frame)] if frame.pad_left else []
        x = 0
        for (offset, span), part in zip(self._spans, parts, strict=False):
            if offset > x:
                pieces.append(self._blank(offset - x, frame))
            pieces.append(part)
            x = offset + span
        if width > x:
            pieces.append(self._blank(width - x, frame))
        if frame.pad_right:
            pieces.append(self._blank(frame.pad_right, frame))
        strip = Strip(list(chain.from_iterable(pieces)), frame.pad_left + max(width, x) + frame.pad_right)
        self._drawn[y] = (parts, (width, frame.key), strip)
        return strip

    def _grid_lines(self) -> int:
        return len(self._visible) and -(-len(self._visible) // self.columns) * self.row_height

    def render_line(self, y: int) -> Strip:
        """Line `y` of the window onto the grid, for Textual's own path (its styles cache
        adds the padding and applies the filters): not how the screen draws the grid."""
        frame = self._frame(filtered=False)
        frame = _Frame((*frame.key, "unpadded"), frame.ring, (), frame.background, frame.blank, 0, 0)
        virtual = y + int(self.scroll_y)
        if virtual < self._grid_lines():
            return self._virtual_line(virtual, frame)
        return self._below(frame)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The grid's lines without Textual's styles cache around them: it has no border,
        tint or opacity, only the padding drawn here (app.tcss), so the cache would only
        re-wrap each line. The app's line filters are applied as that cache applies them,
        segment by segment, to each card's lines."""
        if self.scrollable_content_region.width != self.virtual_size.width:
            self.reflow()  # a scrollbar came or went: the columns share a new width
        frame = self._frame()
        width = frame.pad_left + self.virtual_size.width + frame.pad_right
        scroll_y = int(self.scroll_y)
        lines = self._grid_lines()
        strips = [self._virtual_line(y + scroll_y, frame) if y + scroll_y < lines else self._below(frame)
                  for y in crop.line_range]  # fmt: skip
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def refresh_changed(self) -> None:
        """Repaint the screen lines that changed (a card's border lines rarely do), adjacent
        lines as one region. Whole lines: a span narrower than the line costs Textual a crop
        of the line's Strip for each span when it writes the frame, more than the cells saved."""
        if not self.is_attached or not self._visible:
            return
        rows = self.rows_in_view()
        scroll_y = int(self.scroll_y)
        height = self.scrollable_content_region.height
        frame = self._frame()
        changed: list[int] = []
        for y in range(rows.start * self.row_height, rows.stop * self.row_height):
            if not 0 <= y - scroll_y < height:
                continue
            drawn = self._drawn.get(y)
            line = self._virtual_line(y, frame)
            if drawn is None or drawn[2] is not line:  # a changed line is a new Strip
                changed.append(y - scroll_y)
        top = self.styles.padding.top
        width = frame.pad_left + self.virtual_size.width + frame.pad_right
        regions = [Region(0, top + start, width, length) for start, length in _runs(changed)]
        if regions:
            self.refresh(*regions)

    # ------------------------------------------------------------ focus, keys, mouse

    def select(self, index: int) -> None:
        """Move the selection (and the focus ring) to the `index`th card shown, in view."""
        before = self.cursor_card
        card = self._visible[index]
        self._cursor = card.slot_id
        for changed in {before, card} - {None}:
            self._changed(changed)  # type: ignore[arg-type]
        self.scroll_to_region(self.card_region(index), animate=False, immediate=True)
        self.refresh_changed()

    def on_click(self, event: events.Click) -> None:
        """A click selects the card under the pointer."""
        _top, _right, _bottom, left = self.styles.padding
        x, y = event.x - left, event.y - self.styles.padding.top + int(self.scroll_y)
        row = y // self.row_height
        for column, (offset, span) in enumerate(self._spans):
            index = row * self.columns + column
            if offset <= x < offset + span and 0 <= y and index < len(self._visible):
                self.focus()
                self.select(index)
                return

    def action_jump(self, number: int) -> None:
        if 0 < number <= len(self._visible):
            self.select(number - 1)

    def action_move(self, dx: int, dy: int) -> None:
        visible = self._visible
        if not visible:
            return
        ids = [card.slot_id for card in visible]
        if self._cursor not in ids:
            self.select(0)
            return
        target = ids.index(self._cursor) + dx + dy * self.columns
        if 0 <= target < len(visible):
            self.select(target)

    def action_toggle_pause(self) -> None:
        card = self.cursor_card
        if card is not None:
            self.post_message(SlotPauseRequested(card.slot_id, not card.slot.paused))

    def action_open_detail(self) -> None:
        card = self.cursor_card
        if card is not None:
            self.post_message(SlotDetailRequested(card.slot_id))


def _runs(lines: list[int]) -> list[tuple[int, int]]:
    """Ascending line numbers as (start, length) runs of adjacent lines."""
    runs: list[tuple[int, int]] = []
    for y in lines:
        if runs and runs[-1][0] + runs[-1][1] == y:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((y, 1))
    return runs
