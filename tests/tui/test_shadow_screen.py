"""Shadow deploys in Mission Control: the cards' dimmed second line, the shadow screen and its
s / a / P / D keys (each asked first), and the reload confirmation's preview."""

from __future__ import annotations

from engine.contract.models import CodePreview, DecisionBrief, ParamChange, PreviewRow, ShadowSlot, ShadowStatus, Status
from foresight_tui.screens.confirm import ConfirmScreen
from foresight_tui.screens.confirm_code import ConfirmCodeScreen
from foresight_tui.screens.shadow import ShadowScreen
from foresight_tui.widgets.slot_grid import SlotGrid

from .conftest import grid_text, read_control, settle

SIZE = (160, 50)
UP = DecisionBrief(direction="up", confidence=0.72, enter=True, reason="")
WAIT = DecisionBrief(direction="up", confidence=0.72, enter=False, reason="confidence 72% < threshold 80%")


def _shadow(status: Status) -> None:
    ids = [s.id for s in status.slots]
    status.code.shadow = ShadowStatus(
        version="5e65da218232", base_version=status.code.version, started_at=status.written_at, cycles=41,
        compared=600, differ=9, entries_live=41, entries_shadow=38, bets_live=41, bets_shadow=38,
        pnl_live=3.2, pnl_shadow=5.1,
        slots=[ShadowSlot(slot=ids[0], live=UP, shadow=WAIT, differs=True, compared=40, differ=9)]
        + [ShadowSlot(slot=i, live=UP, shadow=UP, compared=40) for i in ids[1:]],
    )  # fmt: skip


async def test_cards_show_the_differing_shadow_and_S_promotes_or_drops_after_asking(make_app, state):
    status = state.update(_shadow)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        cards = {card.slot_id: card for card in app.query_one(SlotGrid).cards}
        first, second = status.slots[0].id, status.slots[1].id
        assert cards[first].shadow is not None and cards[second].shadow is None
        assert "shadow ▲ up 72% wait" in grid_text(app)  # on the first card's last line

        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, ShadowScreen)
        text = str(app.screen.query_one("#shadow-totals").render())
        assert "9 of 600 differ" in text and "live +$3.20 over 41 bets" in text and "shadow +$5.10 over 38" in text
        assert first in str(app.screen.query_one("#shadow-slots").render())

        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert not state.control_path.exists()  # asked, refused: nothing written
        await pilot.press("P")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        await pilot.press("D")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        commands = read_control(state).commands
        assert [c.type for c in commands] == ["promote", "drop", "shadow"] and commands[2].aa


async def test_s_and_a_ask_before_starting_a_shadow(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await pilot.pause()
        for key, title in (("s", "Shadow the code on disk?"), ("a", "Run an A/A control?")):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and app.screen.title_text == title
            await pilot.press("n")
            await settle(app, pilot)
            assert isinstance(app.screen, ShadowScreen)
        assert not state.control_path.exists()  # asked twice, refused twice: nothing written
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        [command] = read_control(state).commands
        assert command.type == "shadow" and not command.aa


async def test_reload_confirmation_shows_the_preview_of_the_code_on_disk(make_app, state):
    def preview(status: Status) -> None:
        status.code.disk_version, status.code.disk_differs = "5e65da218232", True
        status.code.preview = CodePreview(
            at=status.written_at, cycle=300, running=status.code.version, candidate="5e65da218232",
            summary="would change 1 of 16 decisions, 1 entry", slots=16, differ=1, entries_differ=1,
            rows=[PreviewRow(slot=status.slots[0].id, live=UP, candidate=WAIT, differs=True)],
            params=[ParamChange(name="confidence_threshold", change="default", old=0.6, new=0.8)],
        )  # fmt: skip

    state.update(preview)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmCodeScreen)
        text = str(app.screen.query_one("#confirm-preview").render())
        assert "would change 1 of 16 decisions, 1 entry" in text
        assert "confidence_threshold default 0.6 -> 0.8" in text


async def test_read_only_shadow_keys_say_so_before_asking(make_app, state):
    state.update(_shadow)
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await pilot.pause()
        for key in ("s", "a", "P", "D"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ShadowScreen), key  # no question whose answer cannot be sent
        said = [n.message for n in app._notifications if n.title == "Read-only"]
        assert len(said) == 4 and all("not sent, Mission Control is read-only" in m for m in said)
    assert not state.control_path.exists()
