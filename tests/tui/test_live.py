"""Mission Control following the engine: staleness, corrupt files, restarts, the watcher, read-only, plain text."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from textual.worker import WorkerState

from engine.contract.models import STATUS_FILE
from foresight_tui.app import MissionControlApp
from foresight_tui.control_client import ControlClient, ReadOnlyError
from foresight_tui.messages import SlotPauseRequested
from foresight_tui.widgets.slot_grid import SlotGrid
from tests.support.waits import until

from .conftest import MARKUP_MESSAGE, TEST_HOST, grid_text, header_text, log_text, settle

SIZE = (160, 50)


def badge(app: MissionControlApp) -> str:
    return str(app.query_one("#state-badge").content)


async def test_stale_after_the_status_stops(make_app, state, clock):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert badge(app) == "RUNNING"
        clock.advance(2.0)
        app.tick()
        assert badge(app) == "RUNNING" and "heartbeat 2.4s" in header_text(app)
        clock.advance(1.0)  # 3.4 s > 3 cycle intervals of 1 s
        app.tick()
        await pilot.pause()
        assert badge(app) == "STALE" and app.query_one("#state-badge").has_class("-stale")
        state.update(lambda s: None)  # the engine writes again
        app.tick()  # the one-second tick notices the new file even without the watcher
        assert badge(app) == "RUNNING"


async def test_down_when_the_engine_pid_is_gone(make_app, state):
    app = make_app(this_host=TEST_HOST, alive=lambda pid: False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert badge(app) == "DOWN"


async def test_a_demo_engine_that_exited_before_any_status_is_down_not_waited_for(make_app, state, tmp_path):
    (state.path / STATUS_FILE).unlink()
    (state.path / "engine.log").write_text("foresight engine: --cycle-interval must be between 0.001 and 3600 seconds\n")
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(2)"])
    process.wait()
    app = make_app(engine_process=process)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert badge(app) == "DOWN"
        assert "exited with code 2" in header_text(app) and "--cycle-interval must be between" in header_text(app)


async def test_waiting_for_the_engine_then_running(make_app, state):
    (state.path / STATUS_FILE).unlink()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert badge(app) == "WAITING FOR ENGINE" and not app.query_one(SlotGrid).cards
        assert "no status.json yet" in header_text(app)
        state.write()
        app.tick()
        await pilot.pause()
        assert badge(app) == "RUNNING" and len(app.query_one(SlotGrid).cards) == 16
        assert app.focused_card() is not None


async def test_corrupt_status_keeps_the_last_good_view_and_recovers(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        state.write_raw(b'{"schema_version": 1, "written_')
        app.load_status()
        await pilot.pause()
        problem = app.query_one("#problem")
        assert problem.display and "status.json is not valid JSON" in str(problem.content)
        assert len(app.query_one(SlotGrid).cards) == 16 and app.status is not None
        assert "status refused: status.json is not valid JSON" in log_text(app)
        state.write_raw(b"")
        app.load_status()
        assert "status.json is empty" in str(problem.content)
        raw = state.status.model_dump_json(by_alias=True).replace('"schema_version":1', '"schema_version":2', 1)
        state.write_raw(raw.encode())
        app.load_status()
        assert "unknown status schema_version 2" in str(problem.content) and app.status.schema_version == 1
        state.update(lambda s: setattr(s.engine, "cycle", 9000))
        app.load_status()
        await pilot.pause()
        assert not problem.display and app.status.engine.cycle == 9001
        assert "cycle 9001" in header_text(app)


async def test_a_corrupt_status_with_no_good_one_before_says_so_not_no_status(make_app, state):
    state.write_raw(b"{not json")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert badge(app) == "WAITING FOR ENGINE"
        problem = str(app.query_one("#problem").content)
        assert "status.json is not valid JSON" in problem and "last good status" not in problem
        assert "no readable status.json" in header_text(app) and "no status.json yet" not in header_text(app)


async def test_engine_restart_is_announced(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        state.update(lambda s: setattr(s.engine, "boot_id", "boot-2"))
        app.load_status()
        await pilot.pause()
        assert "restart the engine restarted (new boot id)" in log_text(app)


async def refreshed_cards(app, pilot, state, mutate) -> list[str]:
    """Which cards (slot ids, in grid order) refreshed for the next status, `mutate` of this one."""
    cards = {card.slot_id: card for card in app.query_one(SlotGrid).cards}
    shown = {slot_id: card._shown for slot_id, card in cards.items()}
    state.update(mutate)
    app.load_status()
    await pilot.pause()
    assert app.query_one(SlotGrid).cards == list(cards.values())  # updated in place, not rebuilt
    return [slot_id for slot_id, card in cards.items() if card._shown is not shown[slot_id]]


async def test_only_changed_cards_are_refreshed(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        def move_btc(status):
            status.slots[0].price += 10

        assert await refreshed_cards(app, pilot, state, move_btc) == ["BTC-5m"]


async def test_a_new_sparkline_point_refreshes_the_cards_of_its_asset_only(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        history = state.status.price_history["ETH"][1:] + [3_460.25]

        def move_eth(status):
            status.price_history["ETH"] = list(history)

        # Both windows of the asset show its one history.
        assert await refreshed_cards(app, pilot, state, move_eth) == ["ETH-5m", "ETH-15m"]
        assert [card.lines.history for card in app.query_one(SlotGrid).cards if card.slot.asset == "ETH"] == [tuple(history)] * 2


async def test_markup_in_status_text_is_shown_literally(make_app, state):
    def slot_error(status):
        status.slots[0].error = "[red]boom[/red] in evaluate"
        status.slots[1].asset = "[b]BTC"  # not a valid asset, but a reader never trusts text

    state.update(slot_error)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert MARKUP_MESSAGE in log_text(app)
        card = app.query_one(SlotGrid).card("BTC-5m")
        assert card.text_of("signal") == "error: [red]boom[/red] in evaluate"
        assert card.look.error
        assert app.query_one(SlotGrid).card("BTC-15m").title == "[b]BTC 15m"
        assert "[b]BTC 15m" in grid_text(app) and "error: [red]boom[/red]" in grid_text(app)


class WatcherOnly(MissionControlApp):
    """Mission Control without its once-a-second fallback: a new status can only come from the watcher."""

    CSS_PATH = str(Path(inspect.getfile(MissionControlApp)).parent / MissionControlApp.CSS_PATH)

    def tick(self) -> None:
        pass


async def test_watcher_shows_each_new_status(state, clock):
    # How fast it does is benchmarks/tui_latency.py's figure, not a test's.
    app = WatcherOnly(state.path, clock=clock, this_host="tui-test-runner", watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _watching(app), "the status watcher running")
        for cycle in (100, 101, 102):
            expected = state.update(lambda s, c=cycle: setattr(s.engine, "cycle", c)).engine.cycle
            await until(pilot, lambda e=expected: f"cycle {e}" in header_text(app), f"cycle {expected} in the header")
            assert app.status.engine.cycle == expected


def _watching(app) -> bool:
    return any(w.group == "status-watch" and w.state == WorkerState.RUNNING for w in app.workers)


async def test_read_only_writes_nothing_whatever_is_pressed(make_app, state):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in header_text(app)
        for key in ["p", "r", "space", "s", "R", "y", "c", "b", "enter", "o", "ctrl+s", "escape",
                    "colon", *"pause", "enter"]:  # fmt: skip
            await pilot.press(key)
        await settle(app, pilot)
        app.action_pause_engine()  # even a direct call is refused by the client
        await settle(app, pilot)
        assert not state.control_path.exists()
        assert not (state.path / "control.lock").exists()
        # A write key in read-only mode says why it did nothing, instead of nothing at all.
        said = [n for n in app._notifications if n.title == "Read-only"]
        assert said and "pause engine: not sent, Mission Control is read-only" in said[0].message
    assert not state.control_path.exists()


def test_read_only_client_refuses_before_touching_disk(tmp_path):
    client = ControlClient(tmp_path, read_only=True)
    for call in (lambda: client.set_engine_paused(True), lambda: client.send_command("reload"),
                 lambda: client.set_overrides({"stake": 1.0}), client.clear_overrides,
                 lambda: client.set_slot_paused("BTC-5m", True)):  # fmt: skip
        try:
            call()
        except ReadOnlyError:
            pass
        else:
            raise AssertionError("read-only client wrote")
    assert list(tmp_path.iterdir()) == []


async def test_write_failure_is_shown_not_fatal(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.post_message(SlotPauseRequested("not a slot!", True))  # the contract refuses this id
        await settle(app, pilot)
        assert not state.control_path.exists()
        assert app.is_running
        assert any("not written" in n.message for n in app._notifications)


async def test_panels_wait_under_a_dialog_and_catch_up(make_app, state):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        state.update(lambda s: setattr(s.stats, "open_positions", 7))
        app.load_status()
        await pilot.pause()
        assert "open positions  3" in str(app.query_one("#stats-text").content)  # not repainted under help
        assert "cycle 7621" in header_text(app)  # the header still follows
        await pilot.press("escape")
        await pilot.pause()
        assert "open positions  7" in str(app.query_one("#stats-text").content)


async def test_cards_out_of_view_are_painted_when_scrolled_to(make_app, state):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:  # 2 columns, 3 rows of 16 in view
        await pilot.pause()
        far = app.query_one(SlotGrid).card("AVAX-15m")

        def move_avax(status):
            status.slots[-1].price = 99.5

        state.update(move_avax)
        app.load_status()
        await pilot.pause()
        assert far.slot.price == 99.5  # the data is kept ...
        assert "99.5000" not in far.text_of("price")  # ... but not painted off screen
        await pilot.press(*["down"] * 7, "right")
        await pilot.pause()
        assert app.focused_card() is far
        assert far.text_of("price").startswith("99.5000")


async def test_event_lines_after_the_log_fills_need_no_layout(make_app, state, monkeypatch):
    from textual.screen import Screen

    from foresight_tui.widgets.event_log import EventLog

    layouts = []
    real_layout = Screen._refresh_layout
    monkeypatch.setattr(Screen, "_refresh_layout", lambda self, *a, **k: layouts.append(1) or real_layout(self, *a, **k))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one(EventLog)
        for n in range(20):  # more than the log's 8 lines: its scrollbar appears (one layout)
            log.add_line("2026-01-01T00:00:00+00:00", "info", f"line {n}")
        await pilot.pause()
        assert log.show_vertical_scrollbar and log.scroll_y == log.max_scroll_y
        layouts.clear()
        for n in range(20, 25):
            log.add_line("2026-01-01T00:00:00+00:00", "info", f"line {n}")
            await pilot.pause()
        assert layouts == []  # a layout would arrange every card again
        assert log.scroll_y == log.max_scroll_y  # still following the newest line ...
        assert log.vertical_scrollbar.window_virtual_size == log.virtual_size.height  # ... with the thumb
        assert "line 24" in log_text(app)


async def test_tick_leaves_a_fresh_header_alone_but_not_a_stale_engine(make_app, state, clock):
    def fast(status):
        status.engine.cycle_interval_s = 0.25  # STALE after 0.75 s without a status

    state.update(fast)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert badge(app) == "RUNNING" and "heartbeat 0.2s" in header_text(app)
        clock.advance(0.3)
        app.tick()  # a status was painted 0.3 s ago: no repaint for a heartbeat of 0.5 s
        assert "heartbeat 0.2s" in header_text(app)
        clock.advance(0.3)  # 0.8 s > 3 cycle intervals: STALE at once, less than a second on
        app.tick()
        assert badge(app) == "STALE" and "heartbeat 0.8s" in header_text(app)
        state.update(lambda s: None)
        app.tick()
        assert badge(app) == "RUNNING" and "heartbeat 0.2s" in header_text(app)
        clock.advance(1.0)
        app.tick()  # a second since the last status: the heartbeat moves (and it is STALE)
        assert "heartbeat 1.2s" in header_text(app)


async def test_stale_and_down_are_logged_and_announced_once_and_so_is_the_return(make_app, state, clock):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        clock.advance(120)
        app.tick()
        app.tick()  # once, not at every tick
        await pilot.pause()
        said = [n for n in app._notifications if n.title == "Engine STALE"]
        assert len(said) == 1 and "no status for 120.4s" in said[0].message
        assert log_text(app).count("stale the engine is STALE") == 1
        uptime = [line for line in header_text(app).split("  ") if line.startswith("up ")]
        assert uptime == ["up 2h06m"]  # stopped at the last status (written 0.4 s before 2h07m), not 2h09m
        state.update(lambda s: None)
        app.tick()
        await pilot.pause()
        assert "the engine answers again (RUNNING)" in log_text(app)


async def test_textuals_own_toasts_keep_their_markup_and_ours_are_plain(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.notify("Press [b]ctrl+q[/b] to quit")  # how Textual itself notifies
        app.say("engine text [b]stays[/b] literal")
        await pilot.pause()
        textual_own, ours = list(app._notifications)[-2:]
        assert textual_own.markup and not ours.markup


async def test_the_event_log_leaves_an_operator_scrolled_back_where_they_are(make_app):
    from foresight_tui.widgets.event_log import EventLog

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one(EventLog)
        for n in range(40):
            log.add_line(app.now_iso(), "info", f"line {n}")
        await pilot.pause()
        assert log.is_vertical_scroll_end  # at the end, new lines are followed
        log.scroll_home(animate=False)
        await pilot.pause()
        log.add_line(app.now_iso(), "resolution", "BTC-5m won +$4.60")
        await pilot.pause()
        assert log.scroll_y == 0


async def test_a_terminal_shrinking_to_80x24_gets_compact_cards_and_back(make_app, state):
    from foresight_tui.widgets.slot_grid import COMPACT_HEIGHT, SlotGrid

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        grid = app.query_one(SlotGrid)
        assert grid.row_height > COMPACT_HEIGHT
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        state.update(lambda s: None)
        app.load_status()
        await pilot.pause()
        assert grid.row_height == COMPACT_HEIGHT and grid.columns == 3
        card = grid.cards[0]
        assert card.lines.compact and "·" in card.title  # the time left in the title
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        state.update(lambda s: None)
        app.load_status()
        await pilot.pause()
        assert grid.row_height > COMPACT_HEIGHT and not card.lines.compact


async def test_the_event_log_keeps_following_after_the_terminal_is_resized(make_app):
    from foresight_tui.widgets.event_log import EventLog

    from .conftest import screen_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        log = app.query_one(EventLog)
        for n in range(60):
            log.add_line(app.now_iso(), "entry", f"BTC-5m bought up $5.00 at 0.52, entry number {n}")
        await pilot.pause()
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        log.add_line(app.now_iso(), "resolution", "the newest line after the resize")
        await pilot.pause()
        assert "the newest line" in " ".join(screen_text(app))


async def test_panels_under_a_dialog_say_they_are_paused_and_catch_up_when_it_closes(make_app, state):
    from .conftest import screen_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await pilot.pause()
        shown = "\n".join(screen_text(app))
        assert "resolved        42" in shown and "paused under dialog" not in shown  # nothing missed yet
        state.update(lambda s: setattr(s.stats, "resolved", 77))
        app.load_status()
        await pilot.pause()
        shown = "\n".join(screen_text(app))
        assert "Stats · paused under dialog" in shown and "Events · paused under dialog" in shown
        assert "resolved        42" in shown  # still the old figure, and it says so
        await pilot.press("escape")
        await pilot.pause()
        shown = "\n".join(screen_text(app))
        assert "resolved        77" in shown and "paused under dialog" not in shown
