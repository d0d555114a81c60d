"""Snapshots of Mission Control on a fixed clock, each screen at 80x24, 160x48 and 250x70.

Update with `pytest tests/tui/test_snapshots.py --snapshot-update` and read the
SVGs in the report before committing them.
"""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input

from engine.contract.models import EVENTS_FILE, Ack

from .conftest import MARKUP_MESSAGE, iso, paused_by_a_risk_trip

SIZE = (160, 48)
SIZES = {"80x24": (80, 24), "160x48": (160, 48), "250x70": (250, 70)}
every_size = pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))


@pytest.fixture
def make_app(snapshot_app):
    return snapshot_app


async def no_blink(pilot) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def overridden(state) -> None:
    def change(status):
        status.params.values["stake"] = 7.5
        status.control.applied.overrides = {"stake": 7.5, "min_edge": 0.06}
        for slot in status.slots[4:7]:
            slot.paused = True

    state.update(change)


def write_events(state, count: int = 80) -> None:
    kinds = ["entry", "resolution", "reload", "warning", "check"]
    with (state.path / EVENTS_FILE).open("w") as handle:
        for n in range(count):
            kind = kinds[n % len(kinds)]
            message = MARKUP_MESSAGE if kind == "warning" else f"{kind} number {n} on BTC-5m"
            at = iso(state.clock.now.replace(minute=n % 60, second=0))
            handle.write(json.dumps({"at": at, "kind": kind, "message": message,
                                     "detail": {"slot": "BTC-5m"} if n % 2 else {}}) + "\n")  # fmt: skip


class TestScreensAtEverySize:
    @every_size
    def test_main(self, make_app, state, snap_compare, size):
        overridden(state)
        assert snap_compare(make_app(), terminal_size=size)

    @every_size
    def test_help(self, make_app, snap_compare, size):
        assert snap_compare(make_app(), terminal_size=size, press=["question_mark"])

    @every_size
    def test_overrides(self, make_app, state, snap_compare, size):
        overridden(state)

        async def open_form(pilot) -> None:  # run_before runs before `press`: open the form here
            await pilot.press("o")
            await no_blink(pilot)

        assert snap_compare(make_app(), terminal_size=size, run_before=open_form)

    @every_size
    def test_reload_confirmation(self, make_app, snap_compare, size):
        assert snap_compare(make_app(), terminal_size=size, press=["R"])

    @every_size
    def test_slot_detail(self, make_app, snap_compare, size):
        assert snap_compare(make_app(), terminal_size=size, press=["right", "enter"])

    @every_size
    def test_events(self, make_app, state, snap_compare, size):
        write_events(state)
        assert snap_compare(make_app(), terminal_size=size, press=["e"])

    @every_size
    def test_in_force(self, make_app, state, snap_compare, size):
        overridden(state)
        assert snap_compare(make_app(), terminal_size=size, press=["i"])


class TestStates:
    def test_paused_and_stale_grid(self, make_app, state, clock, snap_compare):
        def paused(status):
            status.engine.state = "paused"
            for slot in status.slots[2:5]:
                slot.paused = True
            status.control.applied.paused = True

        state.update(paused)
        clock.advance(42)  # no status for 42 s: STALE
        assert snap_compare(make_app(), terminal_size=SIZE)

    def test_paused_by_a_risk_trip_at_80_columns(self, make_app, state, snap_compare):
        state.update(paused_by_a_risk_trip)
        assert snap_compare(make_app(), terminal_size=(80, 24))

    def test_corrupt_status_over_last_good_view(self, make_app, state, snap_compare):
        async def corrupt(pilot) -> None:
            state.write_raw(b"{ torn")
            pilot.app.load_status()
            await pilot.pause()

        assert snap_compare(make_app(), terminal_size=SIZE, run_before=corrupt)

    def test_override_form_with_errors(self, make_app, snap_compare):
        async def bad_values(pilot) -> None:
            await pilot.press("o")
            screen = pilot.app.screen
            screen.query_one("#param-stake").value = "250"
            screen.query_one("#param-cooldown_s").value = "soon"
            await pilot.press("ctrl+s")
            await no_blink(pilot)

        assert snap_compare(make_app(), terminal_size=SIZE, run_before=bad_values)

    def test_clear_overrides_asks_first(self, make_app, state, snap_compare):
        overridden(state)

        async def clear(pilot) -> None:
            await pilot.press("o", "ctrl+r")
            await no_blink(pilot)

        assert snap_compare(make_app(), terminal_size=SIZE, run_before=clear)


# (key, command type, ack result, detail): what the engine answered to one command of ours
OUTCOMES = {
    "applied": ("R", "reload", "applied", "now running v4-77aa00; changed: strategies.strategy (0.4 ms pause)"),
    "refused": ("R", "reload", "rejected", "reload refused, v3-1a2b3c keeps running: strategy.py:12: SyntaxError"),
    "rolled_back": ("R", "reload", "rolled_back", "rolled back to v3-1a2b3c: evaluate raised ZeroDivisionError"),
    "check_passed": ("c", "check", "applied", "v4-77aa00 would load and passes its checks; changed: strategies.strategy"),
    "check_failed": ("c", "check", "rejected", "check refused, v3-1a2b3c keeps running: strategy.py:3: NameError"),
}


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_outcome_toast(make_app, state, snap_compare, outcome):
    key, kind, result, detail = OUTCOMES[outcome]

    async def answered(pilot) -> None:
        await pilot.press(key)
        if kind != "check":
            await pilot.press("y")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        from engine.contract.fileio import read_model
        from engine.contract.models import Control

        [command] = read_model(state.control_path, Control).value.commands
        pilot.app.clear_notifications()  # only the answer's toast: not the "Sent" one
        ack = Ack(id=command.id, type=kind, result=result, at=iso(state.clock.now), detail=detail)
        def answer(status):
            status.control.acks = [*status.control.acks, ack]
            if outcome == "applied":
                status.code.version = "v4-77aa00"

        state.update(answer)
        pilot.app.load_status()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 30), run_before=answered)


def test_iso_is_fixed(clock):
    assert iso(clock.now) == "2025-06-01T12:00:00.000+00:00"
