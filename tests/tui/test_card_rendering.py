"""A card's rows reach the screen exactly as Textual's own styles path would draw them.

The card body draws its rows itself (PlainLines.render_lines); what the operator sees must
not depend on that: colours, focus, paused dimming, and the app's line filters (the
truecolor mapping of a real terminal, NO_COLOR's monochrome) all as Textual renders them.
"""

from __future__ import annotations

import pytest
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
