"""Every key of Mission Control, driven with Pilot against status files the test writes."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from foresight_tui.screens.confirm import ConfirmScreen
from foresight_tui.screens.confirm_code import ConfirmCodeScreen
from foresight_tui.screens.help import HelpScreen
from foresight_tui.screens.overrides import OverridesScreen
from foresight_tui.screens.slot_detail import SlotDetailScreen
from foresight_tui.widgets.filter_bar import FilterBar
from foresight_tui.widgets.slot_grid import SlotGrid
from tests.support.waits import until

from .conftest import header_text, log_text, read_control, settle


def _highlighted_command(app) -> str | None:
    """The name of the palette's highlighted hit, in lower case (None while its search runs)."""
    hits = app.screen.query_one(CommandList)
    if hits.highlighted is None:
        return None
    return str(hits.get_option_at_index(hits.highlighted).prompt).splitlines()[0].lower()

SIZE = (160, 50)


async def test_first_card_has_focus_and_grid_is_four_by_four(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused_card().slot_id == "BTC-5m"  # the focus ring on the first card
        assert len(app.query_one(SlotGrid).cards) == 16
        assert app.query_one(SlotGrid).columns == 4


async def test_p_pauses_and_r_resumes_the_engine(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(app, pilot)
        assert read_control(state).paused is True
        await pilot.press("r")
        await settle(app, pilot)
        control = read_control(state)
        assert control.paused is False and control.generation == 5  # 3 observed + two writes


async def test_pending_then_applied(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(app, pilot)
        assert "pending: gen 4 > observed 3 (1 mine)" in header_text(app)
        assert "pause engine: written as generation 4, pending" in log_text(app)
        state.applied()
        app.load_status()
        await pilot.pause()
        assert "applied gen 4" in header_text(app)
        assert "pause engine: applied" in log_text(app)
        assert str(app.query_one("#state-badge").content) == "PAUSED"
        assert len(app.tracker) == 0


async def test_a_write_with_no_engine_running_says_it_waits_for_the_next_one(make_app, state):
    (state.path / "status.json").unlink()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(app, pilot)
        assert read_control(state).paused is True
        [queued] = [n for n in app._notifications if n.title == "Queued"]
        assert "no engine runs in" in queued.message and "applies when one starts there" in queued.message
        assert not [n for n in app._notifications if n.title == "Sent"]


async def test_a_write_to_a_stopped_engine_says_it_waits_for_the_next_one(make_app, state):
    state.update(lambda s: setattr(s.engine, "host", "tui-test-runner"))
    app = make_app(alive=lambda pid: False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(app, pilot)
        [queued] = [n for n in app._notifications if n.title == "Queued"]
        assert "the engine (pid 4242) is down" in queued.message and "applies when one starts there" in queued.message


async def test_refused_write_shows_the_engines_reason(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(app, pilot)
        state.update(
            lambda s: (
                setattr(s.control, "rejected_generation", 4),
                setattr(s.control, "warnings", ["overrides.stake: Input should be less than or equal to 100 [/]"]),
            )
        )
        app.load_status()
        await pilot.pause()
        assert "pause engine: refused: overrides.stake: Input should be less than or equal to 100 [/]" in log_text(app)
        await settle(app, pilot)
        # A pause is refused only for another writer's change in the file: written once more.
        assert "pause engine: written again on the engine's applied intent" in log_text(app)
        assert len(app.tracker) == 1 and read_control(state).generation == 5
        [refused] = [n for n in app._notifications if n.title == "Refused"]
        assert refused.message.endswith("100 [/]") and not refused.markup  # engine text shown literally


async def test_space_and_s_toggle_the_focused_slot(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await settle(app, pilot)
        assert read_control(state).paused_slots == ["BTC-5m"]
        state.applied()
        app.load_status()
        await pilot.pause()
        card = app.query_one(SlotGrid).card("BTC-5m")
        assert card.look.paused and card.subtitle.startswith("PAUSED")
        await pilot.press("s")
        await settle(app, pilot)
        assert read_control(state).paused_slots == []


async def test_arrows_and_hjkl_move_between_cards(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        steps = [("right", "BTC-15m"), ("down", "SOL-15m"), ("left", "SOL-5m"), ("up", "BTC-5m"),
                 ("l", "BTC-15m"), ("j", "SOL-15m"), ("h", "SOL-5m"), ("k", "BTC-5m"), ("k", "BTC-5m"),
                 ("6", "SOL-15m"), ("1", "BTC-5m")]  # fmt: skip
        for key, expected in steps:
            await pilot.press(key)
            assert app.focused_card().slot_id == expected, key


async def test_a_click_selects_the_card_under_the_pointer(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        grid = app.query_one(SlotGrid)
        second_row_third_card = grid.card_region(6)  # grid space; no scrolling at this size
        await pilot.click(SlotGrid, offset=(second_row_third_card.x + 1 + 5, second_row_third_card.y + 3))
        await pilot.pause()
        assert app.focused_card().slot_id == grid.visible_cards[6].slot_id
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SlotDetailScreen) and app.screen.slot_id == grid.visible_cards[6].slot_id


async def test_enter_opens_slot_detail_and_esc_closes(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("right", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SlotDetailScreen) and app.screen.slot_id == "BTC-15m"
        table = app.screen.query_one("#detail-table").content
        rows = dict(zip(map(str, table.columns[0]._cells), map(str, table.columns[1]._cells), strict=True))
        # Laid out for people: sections, clock times and countdowns, rounded numbers, the decision.
        assert {"window", "price", "direction", "decided by", "inputs", "decision", "bet", "history"} <= set(rows)
        assert rows["window"].endswith("(market clock), 4:50 left") and "→" in rows["window"]
        assert rows["direction"] == "up at 56.0% confidence" and rows["decided by"] == "predictive path"
        assert rows["decision"] == "do not enter: edge over threshold"
        assert "e+" not in " ".join(rows.values()) and "True" not in " ".join(rows.values())
        btc = app.status.price_history["BTC"]  # the asset's sparkline, shared by its slots
        assert rows["history"].startswith(f"{len(btc)} prices, low ")
        assert app.screen.query_one("#detail-history").data == tuple(btc)
        await pilot.press("escape")
        assert not isinstance(app.screen, SlotDetailScreen)


async def test_R_asks_then_sends_reload_with_changed_files(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmCodeScreen)
        text = str(app.screen.query_one("#confirm-text").content)
        assert "modified   strategies.strategy (strategy.py)" in text
        await pilot.press("n")
        await settle(app, pilot)
        assert not state.control_path.exists()
        await pilot.press("R", "enter")  # enter confirms like y
        await settle(app, pilot)
        [command] = read_control(state).commands
        assert command.type == "reload"
        state.update(
            lambda s: setattr(
                s.control, "acks", [*s.control.acks, s.control.acks[0].model_copy(update={"id": command.id})]
            )
        )
        app.load_status()
        await pilot.pause()
        assert "reload strategy code: applied" in log_text(app)


async def test_c_sends_check_without_asking(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await settle(app, pilot)
        assert [c.type for c in read_control(state).commands] == ["check"]


async def test_b_rolls_back_after_confirmation(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmCodeScreen)
        assert "v2-99ffee" in str(app.screen.query_one("#confirm-text").content)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not state.control_path.exists()
        await pilot.press("b", "y")
        await settle(app, pilot)
        assert [c.type for c in read_control(state).commands] == ["rollback"]


async def submit_overrides(app, pilot, **fields: str) -> None:
    """Open the form with `o`, type `fields` into it, apply with ctrl+s."""
    await pilot.press("o")
    await pilot.pause()
    assert isinstance(app.screen, OverridesScreen)
    for name, text in fields.items():
        app.screen.query_one(f"#param-{name}").value = text
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def test_o_writes_only_what_changed(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await submit_overrides(app, pilot, stake="7.5")
        assert read_control(state).overrides == {"stake": 7.5}


async def test_o_ctrl_b_drops_one_override_and_keeps_the_others(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await submit_overrides(app, pilot, stake="7.5", cooldown_s="90")
        assert read_control(state).overrides == {"stake": 7.5, "cooldown_s": 90}
        assert isinstance(app.screen, OverridesScreen)  # open until the engine answers

        state.applied()
        app.load_status()
        await pilot.pause()
        assert not isinstance(app.screen, OverridesScreen)  # applied: the form closes
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#param-stake").focus()
        await pilot.press("ctrl+b")
        assert app.screen.query_one("#param-stake").value == "5"  # the default shows at once
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert read_control(state).overrides == {"cooldown_s": 90}  # dropped, not pinned to 5


async def test_o_refuses_out_of_bounds_and_writes_nothing(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await submit_overrides(app, pilot, stake="1000", cooldown_s="1.5")
        assert isinstance(app.screen, OverridesScreen)
        assert str(app.screen.query_one("#error-stake").content) == "must be <= 100"
        assert str(app.screen.query_one("#error-cooldown_s").content) == "a whole number is required"
        assert app.screen.focused.id == "param-stake"
        await pilot.press("escape")
        await settle(app, pilot)
        assert not state.control_path.exists()
        state.update(lambda s: setattr(s.control.applied, "overrides", {"stake": 7.5, "cooldown_s": 90}))
        app.load_status()
        await pilot.press("o", "ctrl+r")  # clear all overrides needs no valid field, but asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.title_text == "Drop 2 overrides?"
        listed = str(app.screen.query_one("#ask-text").content)
        assert "stake: 7.5 -> 5" in listed and "cooldown_s: 90 -> 60" in listed
        await pilot.press("n")
        await settle(app, pilot)
        assert not state.control_path.exists()  # no: nothing dropped
        await pilot.press("ctrl+r", "y")
        await settle(app, pilot)
        control = read_control(state)
        assert control.overrides == {} and control.generation == 4


async def test_o_refused_by_the_engine_stays_open_with_the_values_and_the_reason(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await submit_overrides(app, pilot, stake="7.5", min_edge="0.3")
        reason = "overrides: min_edge must be below stake / 100 for this strategy"
        state.update(lambda s: (setattr(s.control, "rejected_generation", 4), setattr(s.control, "warnings", [reason])))
        app.load_status()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OverridesScreen)  # still open: nothing to type again
        assert screen.query_one("#param-stake").value == "7.5" and screen.query_one("#param-min_edge").value == "0.3"
        assert f"refused: {reason}" in str(screen.query_one("#form-error").content)
        assert str(screen.query_one("#error-min_edge").content) == f"engine: {reason}"
        assert screen.focused.id == "param-stake" or screen.focused.id == "param-min_edge"


async def test_o_form_follows_a_parameter_added_by_a_reload(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:

        def add_param(status):
            status.params.schema_["properties"]["max_spread"] = {"type": "number", "minimum": 0, "maximum": 0.2, "default": 0.05}
            status.params.values["max_spread"] = 0.05

        state.update(add_param)
        app.load_status()
        await submit_overrides(app, pilot, max_spread="0.1")
        assert read_control(state).overrides == {"max_spread": 0.1}


async def test_question_mark_lists_every_key(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {keys for _, section in app.key_sections() for keys, _ in section}
        for expected in ["p", "r", "R", "c", "b", "o", "/", "?", "q", "esc", "space / s", "enter",
                         "left / h", "right / l", "up / k", "down / j", "ctrl+p / :", "1 .. 9"]:  # fmt: skip
            assert expected in rows, expected
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_slash_filters_and_esc_clears(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.focused, FilterBar)
        await pilot.press("b", "t", "c")
        await pilot.pause()
        assert [c.slot_id for c in app.query_one(SlotGrid).visible_cards] == ["BTC-5m", "BTC-15m"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused_card() is not None and "filter: btc" in header_text(app)
        await pilot.press("right")
        assert app.focused_card().slot_id == "BTC-15m"
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.query_one(SlotGrid).visible_cards) == 16
        await pilot.press("slash", *"entered", "enter")  # states match too
        await pilot.pause()
        visible = app.query_one(SlotGrid).visible_cards
        assert len(visible) == 4 and all(card.slot.state == "entered" for card in visible)


async def test_ctrl_p_and_colon_open_the_palette_with_every_action(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"pause engine")
        await until(pilot, lambda: _highlighted_command(app) == "pause engine", "the palette's search found pause engine")
        await pilot.press("enter")
        await settle(app, pilot)
        assert read_control(state).paused is True


async def test_q_quits_the_tui_only(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert not state.control_path.exists()


async def test_R_shows_the_diff_of_what_changed_since_the_running_code(make_app, state):
    (state.strategies / "strategy.py").write_text("# strategy\nVALUE = 1\n")  # the text the engine runs
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        (state.strategies / "strategy.py").write_text("# strategy\nVALUE = 2\n")
        await pilot.press("R")
        await pilot.pause()
        diff = str(app.screen.query_one("#confirm-diff Static").content)
        assert "-VALUE = 1" in diff and "+VALUE = 2" in diff and "running/strategy.py" in diff


async def test_a_new_version_that_moves_a_default_says_so(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        def new_code(status):
            status.code.version = "v4-feed01"
            status.params.schema_["properties"]["stake"]["default"] = 6.0

        state.update(new_code)
        app.load_status()
        await pilot.pause()
        assert "params code v4-feed01: stake default 5.0 -> 6.0" in log_text(app)


def value_row(app, name: str) -> str:
    from .conftest import screen_text

    rows = [line for line in screen_text(app) if line.strip("█▊▎│ ").startswith(f"{name} ")]
    assert len(rows) == 1, rows
    return rows[0].split(name, 1)[1]


async def test_the_overrides_form_follows_values_changed_under_it(make_app, state):
    """Another operator (or ctl set) changes a parameter while the form is open: a field not
    touched follows it, a typed one is kept and the form says what changed under it."""
    from .conftest import read_control, settle

    def someone_set(**values):
        def change(status):
            status.params.values.update(values)
            status.control.applied.overrides = {**status.control.applied.overrides, **values}

        state.update(change)
        app.load_status()

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert value_row(app, "stake").split()[0] == "5"
        someone_set(stake=9.0)
        await pilot.pause()
        assert value_row(app, "stake").split()[0] == "9"  # not touched: it follows the engine
        app.screen.query_one("#param-stake").value = "5"
        app.screen.query_one("#param-cooldown_s").value = "90"
        someone_set(cooldown_s=120)
        await pilot.pause()
        assert value_row(app, "cooldown_s").split()[0] == "90"  # typed: kept
        assert "cooldown_s" in str(app.screen.query_one("#form-error").render())  # ... and said
        await pilot.press("ctrl+s")  # 5 is a change against the 9 in force now
        await settle(app, pilot)
        assert read_control(state).overrides == {"stake": 5.0, "cooldown_s": 90}


async def test_at_80_columns_each_refused_value_says_why_in_full(make_app):
    from .conftest import screen_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#param-stake").value = "nan"
        app.screen.query_one("#param-cooldown_s").value = "5000"
        await pilot.press("ctrl+s")
        await pilot.pause()
        shown = " ".join(screen_text(app))
        assert "a finite number is required" in shown and "must be <= 3600" in shown


async def test_help_scrolls_from_the_keyboard_as_soon_as_it_opens(make_app):
    from .conftest import screen_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Back out of a dialog" not in " ".join(screen_text(app))
        await pilot.press("end")
        await pilot.pause()
        assert "Back out of a dialog" in " ".join(screen_text(app))  # the keys, at the end of help


def _said(app, words: str) -> bool:
    return any(words in n.message for n in app._notifications)


async def test_slot_commands_with_no_card_focused_say_why(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")  # focus off the grid, onto the event log
        await pilot.pause()
        assert app.focused_card() is None
        for action in ("toggle_slot_pause", "slot_detail"):  # as the palette runs them
            await app.run_action(action)
            await settle(app, pilot)
        assert not isinstance(app.screen, SlotDetailScreen) and not state.control_path.exists()
        said = [n.message for n in app._notifications if "no slot card is focused" in n.message]
        assert len(said) == 2


async def test_v_before_any_status_says_why(make_app, state):
    (state.path / "status.json").unlink()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert _said(app, "No status from the engine yet: its kept versions are unknown")


async def test_a_filter_matching_nothing_leaves_the_box_and_keeps_help_and_quit(make_app):
    from .conftest import screen_text

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"zzz", "enter")
        await pilot.pause()
        assert not isinstance(app.focused, FilterBar)
        assert "? Help" in screen_text(app)[-1] and "q Quit" in screen_text(app)[-1]
        assert _said(app, "no slot matches 'zzz'")
        await pilot.press("escape")  # clears it, as the toast says
        await pilot.pause()
        assert len(app.query_one(SlotGrid).visible_cards) == 16
