"""All slots as cards: reflows with the terminal, filters, moves focus with arrows and hjkl."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import ScrollableContainer

from engine.contract import SlotStatus
from foresight_tui.widgets.slot_card import SlotCard

CARD_MIN_WIDTH = 36
CARD_MIN_HEIGHT = 8


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

    @property
    def cards(self) -> list[SlotCard]:
        return list(self.query_children(SlotCard))

    @property
    def visible_cards(self) -> list[SlotCard]:
        return [card for card in self.cards if card.display]

    def show(self, slots: list[SlotStatus], now: float) -> None:
        """Update cards in place; rebuild only when the set of slots changed."""
        cards = self.cards
        if [c.slot_id for c in cards] == [s.id for s in slots]:
            for card, slot in zip(cards, slots, strict=True):
                card.show(slot, now)
                card.display = matches(slot, self.filter_text)
            return
        focused = self.screen.focused if self.is_attached else None
        focused_id = focused.slot_id if isinstance(focused, SlotCard) else None
        self.remove_children()
        new = [SlotCard(slot, now) for slot in slots]
        for card in new:
            card.display = matches(card.slot, self.filter_text)
        self.mount_all(new)
        self.call_after_refresh(self.reflow)
        for card in new:
            if card.slot_id == focused_id:
                self.call_after_refresh(card.focus)

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
        count = len(self.visible_cards)
        columns = grid_columns(count, self.scrollable_content_region.width // CARD_MIN_WIDTH)
        rows = -(-max(1, count) // columns)
        height = max(CARD_MIN_HEIGHT, self.scrollable_content_region.height // rows)
        if columns != self.columns:
            self.columns = columns
            self.styles.grid_size_columns = columns
        if height != self.row_height:
            self.row_height = height
            self.styles.grid_rows = str(height)

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
