"""A card's rows reach the screen exactly as Textual's own styles path would draw them.

The card body draws its rows itself (PlainLines.render_lines); what the operator sees must
not depend on that: colours, focus, paused dimming, and the app's line filters (the
truecolor mapping of a real terminal, NO_COLOR's monochrome) all as Textual renders them.
A card's own lines (border, titles) are kept between frames (KeptLines): a change of its
state, title, focus or pause must still reach the screen at once.
"""

from __future__ import annotations

import pytest
from textual._styles_cache import StylesCache
from textual.widget import Widget

from foresight_tui.widgets.slot_card import CardBody, SlotCard

SIZE = (160, 48)


def _textual_rows(body: CardBody) -> list:
    """The body's rows through Widget.render_lines (Textual's styles cache)."""
    return list(Widget.render_lines(body, body.size.region))


def _own_rows(body: CardBody) -> list:
    return list(body.render_lines(body.size.region))


async def _assert_same_rows(app) -> None:
    bodies = list(app.query(CardBody))
    assert len(bodies) == 16
    for body in bodies:
        assert _own_rows(body) == _textual_rows(body), body.parent.id


@pytest.mark.parametrize("monochrome", [False, True], ids=["colour", "NO_COLOR"])
async def test_card_rows_are_drawn_as_textual_draws_them(make_app, state, monochrome, monkeypatch):
    if monochrome:
        monkeypatch.setenv("NO_COLOR", "1")
    def pause_one(status) -> None:
        status.slots[1].paused = True  # a paused card's dimmed text

    state.update(pause_one)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, SlotCard)  # the focused card's background under its rows
        await _assert_same_rows(app)
        await pilot.press("right")
        await pilot.pause()
        await _assert_same_rows(app)


def _fresh_card_rows(card: SlotCard) -> list:
    """The card's own lines (border, titles, background) as a new styles cache draws them."""
    return list(StylesCache().render_widget(card, card.region.reset_offset))


async def _assert_cards_current(app) -> None:
    cards = list(app.query(SlotCard))
    assert len(cards) == 16
    for card in cards:
        # The crop the screen asks for: the whole card, border included.
        assert card.render_lines(card.region.reset_offset) == _fresh_card_rows(card), card.id


async def test_a_card_frame_follows_its_state_title_focus_and_pause(make_app, state):
    """The border and titles of each card are kept between frames; a change of any of
    them must still reach the screen at once, never the frame drawn before."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _assert_cards_current(app)

        def change(status) -> None:
            status.slots[2].state = "won"  # a restyle: the border's colour
            status.slots[3].paused = True  # a dashed border, PAUSED in the subtitle
            status.slots[6].window_end += 60  # the time left: the body only

        state.update(change)
        app.load_status()
        await pilot.pause()
        await _assert_cards_current(app)
        await pilot.press("right")  # focus: a heavy border and the boosted background move
        await pilot.pause()
        await _assert_cards_current(app)
        await pilot.resize_terminal(80, 24)  # short: compact cards, the time left in the title
        await pilot.pause()
        await _assert_cards_current(app)
