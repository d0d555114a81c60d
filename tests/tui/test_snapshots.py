"""Snapshots of Mission Control on a fixed clock and a fixed terminal size.

Update with `pytest tests/tui/test_snapshots.py --snapshot-update` and read the
SVGs in the report before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from foresight_tui.app import MissionControlApp

from .conftest import iso


@pytest.fixture
def make_app(state, clock, tmp_path, monkeypatch):
    """As conftest's, with the state directory named relatively: the header shows it, and a
    temporary path would differ on every run."""
    monkeypatch.chdir(tmp_path)

    def factory(**kwargs):
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("this_host", "tui-test-runner")
        kwargs.setdefault("watch", False)
        return MissionControlApp(Path(state.path.name), **kwargs)

    return factory

SIZE = (160, 50)


async def no_blink(pilot) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


class TestGrid:
    def test_main_grid(self, make_app, snap_compare):
        assert snap_compare(make_app(), terminal_size=SIZE)

    def test_paused_and_stale_grid(self, make_app, state, clock, snap_compare):
        def paused(status):
            status.engine.state = "paused"
            for slot in status.slots[2:5]:
                slot.paused = True
            status.control.applied.paused = True

        state.update(paused)
        clock.advance(42)  # no status for 42 s: STALE
        assert snap_compare(make_app(), terminal_size=SIZE)

    def test_corrupt_status_over_last_good_view(self, make_app, state, snap_compare):
        async def corrupt(pilot) -> None:
            state.write_raw(b"{ torn")
            pilot.app.load_status()
            await pilot.pause()

        assert snap_compare(make_app(), terminal_size=SIZE, run_before=corrupt)

    def test_small_terminal_reflows(self, make_app, snap_compare):
        assert snap_compare(make_app(), terminal_size=(100, 40))


class TestDialogs:
    def test_override_form(self, make_app, state, snap_compare):
        def overridden(status):
            status.params.values["stake"] = 7.5
            status.control.applied.overrides = {"stake": 7.5}

        state.update(overridden)

        async def open_form(pilot) -> None:  # run_before runs before `press`: open the form here
            await pilot.press("o")
            await no_blink(pilot)

        assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_form)

    def test_override_form_with_errors(self, make_app, snap_compare):
        async def bad_values(pilot) -> None:
            await pilot.press("o")
            screen = pilot.app.screen
            screen.query_one("#param-stake").value = "250"
            screen.query_one("#param-cooldown_s").value = "soon"
            await pilot.press("ctrl+s")
            await no_blink(pilot)

        assert snap_compare(make_app(), terminal_size=SIZE, run_before=bad_values)

    def test_reload_confirmation(self, make_app, snap_compare):
        assert snap_compare(make_app(), terminal_size=SIZE, press=["R"])

    def test_help(self, make_app, snap_compare):
        assert snap_compare(make_app(), terminal_size=SIZE, press=["question_mark"])

    def test_slot_detail(self, make_app, snap_compare):
        assert snap_compare(make_app(), terminal_size=SIZE, press=["right", "right", "right", "enter"])


def test_iso_is_fixed(clock):
    assert iso(clock.now) == "2025-06-01T12:00:00.000+00:00"
