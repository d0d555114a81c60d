"""All slots as cards: reflows with the terminal, filters, moves focus with arrows and hjkl."""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding
from textual.containers import ScrollableContainer

from engine.contract.models import SlotStatus
from foresight_tui.widgets.slot_card import SlotCard

CARD_MIN_WIDTH = 36
CARD_MIN_HEIGHT = 8
# A short terminal (the screen's `-short` class) shows cards of three lines, time left in the title.
COMPACT_MIN_WIDTH = 25
COMPACT_HEIGHT = 5


def grid_columns(count: int, fit: int) -> int:
    """As many columns as fit, then as few as keep that row count (16 slots: 4x4, not 5+5+5+1)."""
    count, fit = max(1, count), max(1, fit)
    rows = -(-count // fit)
    return -(-count // rows)


def matches(slot: SlotStatus, text: str) -> bool:
    """A filter matches the slot id, asset, window or state (`paused` too), case-insensitively."""
    needle = text.strip().lower()
    if not needle:
        return True
    words = [slot.id, slot.asset, slot.window, slot.state] + (["paused"] if slot.paused else [])
    return any(needle in word.lower() for word in words)


class SlotGrid(ScrollableContainer, can_focus=False):
    BINDINGS = [
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
        self._cards: list[SlotCard] = []  # kept: querying 256 children twice a status costs ms

    @property
    def cards(self) -> list[SlotCard]:
        return list(self._cards)

    @property
    def visible_cards(self) -> list[SlotCard]:
        return [card for card in self.cards if card.display]

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
            rows = self.rows_in_view()
            index = 0
            for card, slot in zip(cards, slots, strict=True):
                in_view = card.display and index // self.columns in rows
                index += card.display
                card.show(slot, price_history.get(slot.asset, ()), now, paint=in_view)
            return
        focused = self.screen.focused if self.is_attached else None
        focused_id = focused.slot_id if isinstance(focused, SlotCard) else None
        self.remove_children()
        new = [SlotCard(slot, price_history.get(slot.asset, ()), now) for slot in slots]
        self._cards = new
        for card in new:
            card.display = matches(card.slot, self.filter_text)
        self.mount_all(new)
        self.call_after_refresh(self.reflow)
        for card in new:
            if card.slot_id == focused_id:
                self.call_after_refresh(card.focus)

    def show_shadow(self, lines: Mapping[str, str]) -> None:
        """The shadow's differing decisions (slot id -> line); the other cards hide the line."""
        for card in self._cards:
            card.show_shadow(lines.get(card.slot_id))

    def rows_in_view(self) -> range:
        """Grid rows wholly inside the scrolled window, by arithmetic.

        Asking Textual would cost a map of the screen, and so does updating a widget it
        does not show (a row cut by the window's edge): those rows keep their last
        paint until they are scrolled into view.
        """
        top = -(-int(self.scroll_y) // self.row_height)
        bottom = (int(self.scroll_y) + self.scrollable_content_region.height) // self.row_height
        return range(top, max(top + 1, bottom))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.paint_in_view()

    def paint_in_view(self) -> None:
        """Bring cards scrolled into view up to date with the data they kept."""
        rows = self.rows_in_view()
        for index, card in enumerate(self.visible_cards):
            if index // self.columns in rows:
                card.show(card.slot, card.history, card._now)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        for card in self.cards:
            card.display = matches(card.slot, text)
        self.reflow()
        focused = self.screen.focused
        if isinstance(focused, SlotCard) and not focused.display:
            self.focus_first()

    def focus_first(self) -> None:
        visible = self.visible_cards
        if visible:
            visible[0].focus()

    def on_resize(self) -> None:
        self.reflow()

    def reflow(self) -> None:
        """Columns for the width, rows sharing the height (never shorter than a card needs)."""
        compact = self.is_attached and self.screen.has_class("-short")
        min_width, min_height = (COMPACT_MIN_WIDTH, COMPACT_HEIGHT) if compact else (CARD_MIN_WIDTH, CARD_MIN_HEIGHT)
        count = len(self.visible_cards)
        columns = grid_columns(count, self.scrollable_content_region.width // min_width)
        rows = -(-max(1, count) // columns)
        viewport = self.scrollable_content_region.height
        # Rows share the height; when they scroll, whole rows fill the window.
        height = max(min_height, viewport // max(1, min(rows, viewport // min_height)))
        if compact:
            height = min_height
        if columns != self.columns:
            self.columns = columns
            self.styles.grid_size_columns = columns
        if height != self.row_height:
            self.row_height = height
            self.styles.grid_rows = str(height)
        if compact != self._compact:
            self._compact = compact
            for card in self.cards:
                card.show(card.slot, card.history, card._now, force=True)

    def action_jump(self, number: int) -> None:
        visible = self.visible_cards
        if 0 < number <= len(visible):
            visible[number - 1].focus()
            visible[number - 1].scroll_visible(animate=False)

    def action_move(self, dx: int, dy: int) -> None:
        visible = self.visible_cards
        if not visible:
            return
        focused = self.screen.focused
        if focused not in visible:
            visible[0].focus()
            return
        index = visible.index(focused)  # type: ignore[arg-type]
        target = index + dx + dy * self.columns
        if 0 <= target < len(visible):
            visible[target].focus()
            visible[target].scroll_visible(animate=False)
