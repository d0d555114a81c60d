"""`v` lists the kept strategy versions with how each ended, shows the source diff of the
highlighted one against the running version (from the engine's version store), and `t`
returns to it (asked twice); a failing slot card reads FAILING, its message without the long path."""

from __future__ import annotations

import hashlib

from engine.contract.fileio import atomic_write_bytes, ensure_state_dir
from engine.contract.models import KeptVersion, ModuleInfo, Status
from foresight_tui.screens.versions import VersionsScreen
from foresight_tui.widgets.slot_grid import SlotGrid

from .conftest import read_control, settle

SIZE = (160, 50)


def _keep(state, name: str, text: str) -> ModuleInfo:
    data = text.encode()
    sha = hashlib.sha256(data).hexdigest()
    blobs = ensure_state_dir(ensure_state_dir(state.path / "versions") / "blobs")
    atomic_write_bytes(blobs / sha, data)
    return ModuleInfo(name=name, sha256=sha, loaded_at="2025-06-01T11:00:00+00:00")


def _running_and_newer(state, *, newest_last: bool) -> None:
    """The running version and a newer one it replaced, kept in the store, in the given order."""
    newer = KeptVersion(version="bbbbbbbbbbbb", loaded_at="2025-06-01T11:30:00+00:00", state="replaced",
                        modules=[_keep(state, "strategy", "STAKE = 50\n")])  # fmt: skip
    running = KeptVersion(version="aaaaaaaaaaaa", loaded_at="2025-06-01T11:00:00+00:00", state="running",
                          modules=[_keep(state, "strategy", "STAKE = 5\n")])  # fmt: skip

    def mutate(status: Status) -> None:
        status.code.version = running.version
        status.code.versions = [running, newer] if newest_last else [newer, running]

    state.update(mutate)


async def test_versions_list_diff_and_return(make_app, state):
    running = KeptVersion(version="aaaaaaaaaaaa", loaded_at="2025-06-01T11:00:00+00:00", state="running",
                          modules=[_keep(state, "strategy", "STAKE = 5\nMODE = 'blend'\n")])  # fmt: skip
    failed = KeptVersion(version="bbbbbbbbbbbb", loaded_at="2025-06-01T11:30:00+00:00", state="failed",
                         reason="version bbbbbbbbbbbb failed within 3 cycles of its swap: ETH-5m: timed out",
                         modules=[_keep(state, "strategy", "STAKE = 50\nMODE = 'blend'\n")])  # fmt: skip

    def mutate(status: Status) -> None:
        status.code.version = running.version
        status.code.versions = [running, failed]  # newest last
        status.slots[1].error = "/home/op/strategies/strategy.py:12: timed out: still running after its 250 ms budget"

    state.update(mutate)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        card = app.query_one(SlotGrid).cards[1]
        assert card.look.error and "FAILING" in card.subtitle
        assert "error: strategy.py:12: timed out" in card.text_of("signal")
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        diff = str(screen.query_one("#versions-diff-text").content)
        assert "failed" in diff and "-STAKE = 5" in diff and "+STAKE = 50" in diff
        await pilot.press("t")  # asks first: nothing written yet
        await settle(app, pilot)
        assert "press t again" in str(screen.query_one("#versions-diff-text").content)
        assert not state.control_path.exists()
        await pilot.press("t")
        await settle(app, pilot)
        commands = read_control(state).commands
        assert [(c.type, c.version) for c in commands] == [("rollback", "bbbbbbbbbbbb")]


async def test_arrows_move_the_versions_highlight_as_soon_as_it_opens(make_app, state):
    from textual.widgets import OptionList

    _running_and_newer(state, newest_last=True)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await pilot.pause()
        first = app.screen.query_one(OptionList).highlighted
        await pilot.press("down")
        await pilot.pause()
        assert app.screen.query_one(OptionList).highlighted == first + 1


async def test_t_says_why_when_it_cannot_return(make_app, state):
    _running_and_newer(state, newest_last=False)  # the running one last: highlighted first
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("v", "t")
        await pilot.pause()
        assert any("aaaaaaaaaaaa is the running version" in n.message for n in app._notifications)
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("v", "down", "t", "t")
        await settle(app, pilot)
        said = [n for n in app._notifications if n.title == "Read-only"]
        assert said and "not sent, Mission Control is read-only" in said[0].message
    assert not state.control_path.exists()
