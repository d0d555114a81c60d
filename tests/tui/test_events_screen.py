"""The events screen over events.jsonl: every event, filters, search, scrolling back while trading."""

from __future__ import annotations

import json

from textual.widgets import RichLog

from engine.contract.models import EVENTS_FILE
from foresight_tui.screens.events import EventsScreen

from .conftest import iso

SIZE = (160, 48)


def append_events(state, start: int, count: int) -> None:
    kinds = ["entry", "resolution", "reload", "warning"]
    with (state.path / EVENTS_FILE).open("a") as handle:
        for n in range(start, start + count):
            slot = "BTC-5m" if n % 2 else "ETH-15m"
            handle.write(json.dumps({"at": iso(state.clock.now), "kind": kinds[n % 4],
                                     "message": f"event {n} on {slot}", "detail": {"slot": slot}}) + "\n")  # fmt: skip


def count_line(screen) -> str:
    return str(screen.query_one("#events-count").content)


async def test_every_event_filtered_searched_and_not_pulled_down(make_app, state):
    append_events(state, 0, 200)  # more than the 30 a status carries
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EventsScreen) and count_line(screen).startswith("200 of 200 events")

        await pilot.press("slash", *"kind:reload slot:btc", "enter")
        await pilot.pause()
        # reload is every 4th (n % 4 == 2: even), BTC-5m the odd ones: none is both
        assert count_line(screen).startswith("0 of 200")
        screen.query_one("#events-filter").value = "kind:entry slot:eth-15m"
        await pilot.press("slash", "enter")
        await pilot.pause()
        assert count_line(screen).startswith("50 of 200")
        screen.query_one("#events-filter").value = "event 17 on"
        await pilot.press("slash", "enter")
        await pilot.pause()
        assert count_line(screen).startswith("1 of 200")

        screen.query_one("#events-filter").value = ""
        await pilot.press("slash", "enter")
        await pilot.pause()
        log = screen.query_one("#events-list", RichLog)
        log.scroll_home(animate=False)
        await pilot.pause()
        append_events(state, 200, 5)
        state.update(lambda s: None)  # the engine's next status makes the screen follow the file
        app.load_status()
        await pilot.pause()
        assert count_line(screen).startswith("205 of 205")
        assert log.scroll_y == 0  # scrolled back: the new lines do not pull the operator down


async def test_the_events_screen_keeps_following_after_the_terminal_is_resized(make_app, state):
    from .conftest import screen_text

    append_events(state, 0, 200)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        append_events(state, 200, 1)
        app.screen.follow()  # what a new status does while the screen is open
        await pilot.pause()
        assert "event 200 on ETH-15m" in " ".join(screen_text(app))
