"""The cards reach the screen exactly as Textual's own styles path would draw them.

The grid draws every card itself (card_paint.py) and its own lines without Textual's styles
cache (SlotGrid.render_lines); what the operator sees must not depend on that: borders,
titles, colours, focus, paused dimming, and the app's line filters (the truecolor mapping
of a real terminal, NO_COLOR's monochrome) all as Textual renders them. Cards and lines
are kept between frames: a change of a card's state, title, focus or pause must still
reach the screen at once.
"""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual._styles_cache import StylesCache
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip

from foresight_tui.widgets.card_paint import CardPainter
from foresight_tui.widgets.slot_card import CardLook
from foresight_tui.widgets.slot_grid import SlotGrid

SIZE = (160, 48)


def _textual_card_lines(grid: SlotGrid, index: int) -> list[Strip]:
    """A card as Textual's styles cache draws a widget with its styles, titles and rows."""
    card = grid.visible_cards[index]
    focused = grid.ring_shown and card is grid.cursor_card
    look = card.look
    painter = CardPainter(grid)
    box = painter.box(CardLook(look.state, look.paused, look.error, focused), grid._compact)
    size = grid.card_region(index).size
    content_width = size.width - 2 - box.padding.left - box.padding.right
    content_height = size.height - 2 - box.padding.top - box.padding.bottom
    rows = card.rows(content_width, content_height)

    def content_line(y: int) -> Strip:
        text, kind = rows[y]
        text = (text[: content_width - 1] + "…" if len(text) > content_width else text).ljust(content_width)
        colour = grid.app.theme_variables.get(kind) if kind else None
        style = box.shadow_text if kind == "shadow" else box.text + RichStyle(color=colour) if colour else box.text
        return Strip([Segment(text, style)], content_width)

    app = grid.app
    lines = StylesCache().render(
        box.styles, size, box.base_background, box.background, content_line, [],
        (Content(card.title), *box.title), (Content(card.subtitle), *box.subtitle),
        content_size=size - (2 + box.padding.left + box.padding.right, 2 + box.padding.top + box.padding.bottom),
        padding=box.padding, ansi_theme=app.ansi_theme, native_ansi=app.native_ansi_color,
    )  # fmt: skip
    background = grid.background_colors[1]
    for line_filter in grid.get_line_filters():  # as Textual's styles cache applies them, line by line
        lines = [line.apply_filter(line_filter, background) for line in lines]
    return lines


def _assert_cards_as_textual_draws_them(grid: SlotGrid) -> None:
    assert len(grid.visible_cards) == 16
    for index, card in enumerate(grid.visible_cards):
        focused = grid.ring_shown and card is grid.cursor_card
        drawn = grid._painter.lines(card, focused, grid._compact, grid.card_region(index).size)
        assert [list(line) for line in drawn] == [list(line) for line in _textual_card_lines(grid, index)], card.slot_id


def _whole(grid: SlotGrid) -> Region:
    """The crop the screen asks for: the grid's whole region, padding included."""
    return grid.region.reset_offset


def _assert_grid_as_textual_draws_it(grid: SlotGrid) -> None:
    """The grid's own lines against Textual's styles cache around its `render_line` (padding, filters)."""
    crop = _whole(grid)
    assert grid.render_lines(crop) == StylesCache().render_widget(grid, crop)


@pytest.mark.parametrize("monochrome", [False, True], ids=["colour", "NO_COLOR"])
async def test_cards_are_drawn_as_textual_draws_them(make_app, state, monochrome, monkeypatch):
    if monochrome:
        monkeypatch.setenv("NO_COLOR", "1")

    def pause_one(status) -> None:
        status.slots[1].paused = True  # a paused card's dimmed text
        status.slots[2].error = "strategy.py:3: boom"  # a failing card

    state.update(pause_one)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        grid = app.query_one(SlotGrid)
        assert app.focused is grid and grid.cursor_card is grid.visible_cards[0]  # the focus ring
        _assert_cards_as_textual_draws_them(grid)
        _assert_grid_as_textual_draws_it(grid)
        await pilot.press("right")
        await pilot.pause()
        _assert_cards_as_textual_draws_them(grid)
        _assert_grid_as_textual_draws_it(grid)


def _fresh_lines(grid: SlotGrid) -> list[Strip]:
    """The grid's lines with nothing kept from an earlier frame."""
    grid._painter = CardPainter(grid)
    grid._card_lines.clear()
    grid._drawn.clear()
    grid._blanks.clear()
    grid._row_memo.clear()
    grid._below_for = None
    grid._frame_for = None
    return grid.render_lines(_whole(grid))


async def _assert_lines_current(grid: SlotGrid) -> None:
    kept = grid.render_lines(_whole(grid))
    assert [strip.text for strip in kept] == [strip.text for strip in _fresh_lines(grid)]
    assert kept == _fresh_lines(grid)


async def test_the_grid_follows_a_state_title_focus_and_pause(make_app, state):
    """Each card's lines are kept between frames; a change of any of them must still
    reach the screen at once, never the lines drawn before."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        grid = app.query_one(SlotGrid)
        await _assert_lines_current(grid)

        def change(status) -> None:
            status.slots[2].state = "won"  # a restyle: the border's colour
            status.slots[3].paused = True  # a dashed border, PAUSED in the subtitle
            status.slots[6].window_end += 60  # the time left: the body only

        state.update(change)
        app.load_status()
        await pilot.pause()
        await _assert_lines_current(grid)
        assert "PAUSED" in grid.visible_cards[3].subtitle
        await pilot.press("right")  # focus: a heavy border and the boosted background move
        await pilot.pause()
        await _assert_lines_current(grid)
        await pilot.resize_terminal(80, 24)  # short: compact cards, the time left in the title
        await pilot.pause()
        await _assert_lines_current(grid)
        assert grid._compact and "·" in grid.visible_cards[0].title
