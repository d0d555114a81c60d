"""End to end in a real terminal: tmux runs Mission Control against a real engine subprocess.

Every wait polls with a timeout; teardown kills the tmux server (its own socket)
and the engine (started with the project's shared `tests.support.engine_proc`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.contract.fileio import read_model
from engine.contract.liveness import pid_alive
from engine.contract.models import STATUS_FILE, Status
from engine.contract.paths import shipped_strategies_dir
from tests.support.engine_proc import EngineProcess, foresight
from tests.support.tmux import Live, Tmux, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

def read_status(state_dir: Path) -> Status | None:
    return read_model(state_dir / STATUS_FILE, Status).value


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    strategies = tmp_path / "strategies"
    shutil.copytree(shipped_strategies_dir(), strategies, ignore=shutil.ignore_patterns("__pycache__"))
    engine = EngineProcess(tmp_path / "state", "--strategies-path", str(strategies), seed=11,
                           fast=("--speed", "60", "--cycle-interval", "0.25"))  # fmt: skip
    tmux = Tmux()
    try:
        engine.start()
        tmux.start([sys.executable, "-m", "foresight_tui", "--state-dir", str(engine.state_dir)])
        tmux.wait_screen("RUNNING")
        tui_pid = tmux.pane_pid()
        yield Live(strategies, tmux, engine)
    finally:
        tmux.kill()
        engine.stop()
    # The terminal went away with the tmux server: the TUI must not outlive it.
    try:
        wait_for(lambda: not pid_alive(tui_pid), "the TUI to exit with its terminal", timeout=10)
    finally:
        if pid_alive(tui_pid):
            os.kill(tui_pid, signal.SIGKILL)


def test_p_pauses_the_engine_and_r_resumes_it(live):
    live.tmux.send("p")
    live.wait_status(lambda s: s.engine.state == "paused" and s.control.applied.paused, "engine paused")
    live.tmux.wait_screen("PAUSED")
    live.tmux.wait_screen("pause engine: applied")
    live.tmux.send("r")
    live.wait_status(lambda s: s.engine.state == "running", "engine running again")
    live.tmux.wait_screen("resume engine: applied")


def test_o_changes_a_parameter_and_the_engine_reports_it(live):
    assert live.engine.status().params.values["stake"] != 7.5
    live.tmux.send("o")
    live.tmux.wait_screen("Strategy parameters")
    # stake, the first field, has focus with the cursor at its end; no escape-sequence keys
    # (End, arrows), which a loaded machine may split and Textual then read as a lone Escape
    def cleared() -> bool:  # one backspace per look: keys sent before the field has focus are not lost
        # A compact field: nothing after the name but the form's word that a number is required.
        if re.search(r"█ +stake +(a number is required +)?█", live.tmux.screen()):
            return True
        live.tmux.send("BSpace")
        return False

    # On a loaded machine a keystroke tmux sends the form is now and then lost between tmux and
    # Textual (about 1 run in 4 with three busy processes on two cores; its cause is not found):
    # the field is cleared and typed again, at most three times, rather than the run failed.
    for attempt in range(3):
        wait_for(cleared, "the stake field to be empty")
        live.tmux.type("7.5")
        try:
            live.tmux.wait_match(r"stake +7\.5 ", "the field to show what was typed", timeout=10 if attempt < 2 else 30)
            break
        except AssertionError:
            if attempt == 2:
                raise
    live.tmux.send("Enter")
    status = live.wait_status(lambda s: s.params.values.get("stake") == 7.5, "stake 7.5 in params.values")
    assert status.control.applied.overrides == {"stake": 7.5}
    live.tmux.wait_screen("override stake=7.5: applied")


def test_R_reloads_a_changed_strategy_file(live):
    before = live.engine.status().code.version
    strategy = live.strategies / "strategy.py"
    strategy.write_text(strategy.read_text() + "\n# tuned by the end-to-end test\n")
    live.tmux.wait_screen("1 file changed on disk")  # the TUI watches the strategies directory
    live.tmux.send("R")
    live.tmux.wait_screen("Reload strategy code?", "modified", "(strategy.py)")
    live.tmux.send("y")
    status = live.wait_status(lambda s: s.code.version != before, "a new code version")
    assert any(name.endswith("strategy") for name in status.code.last_reload.changed)
    live.tmux.wait_screen("reload strategy code: applied")


def test_demo_runs_an_engine_and_stops_it_when_the_terminal_goes_away(tmp_path):
    tmux = Tmux()
    try:
        tmux.start([sys.executable, "-m", "foresight_tui.demo", "--speed", "60", "--seed", "5"],
                   env={"TMPDIR": str(tmp_path)})  # fmt: skip
        tmux.wait_screen("RUNNING")
        [state] = wait_for(lambda: list(tmp_path.glob("foresight-demo-*")), "the demo state directory")
        engine_pid = read_status(state).engine.pid
        tui_pid = tmux.pane_pid()
        assert pid_alive(engine_pid) and pid_alive(tui_pid)
        tmux.kill()  # the terminal goes away: SIGHUP to the TUI
        wait_for(lambda: not pid_alive(tui_pid), "the TUI to exit after SIGHUP", timeout=15)
        wait_for(lambda: not pid_alive(engine_pid), "the demo engine to be stopped", timeout=15)
    finally:
        tmux.kill()


def test_demo_q_quits_and_stops_the_engine(tmp_path):
    tmux = Tmux()
    try:
        tmux.start([sys.executable, "-m", "foresight_tui.demo", "--seed", "6"], env={"TMPDIR": str(tmp_path)})
        tmux.wait_screen("RUNNING")
        [state] = wait_for(lambda: list(tmp_path.glob("foresight-demo-*")), "the demo state directory")
        engine_pid = read_status(state).engine.pid
        tmux.send("q")
        wait_for(lambda: not pid_alive(engine_pid), "the demo engine to stop after q")
        wait_for(lambda: not state.exists(), "the demo state directory to be removed")
    finally:
        tmux.kill()


@pytest.mark.parametrize("flags", [("--speed", "0"), ("--cycle-interval", "nan")])
def test_a_demo_whose_engine_refuses_its_flags_says_why_and_opens_no_tui(tmp_path, flags):
    done = foresight("demo", *flags, timeout=60, env={"TMPDIR": str(tmp_path)})
    assert done.returncode == 2, done.stderr
    assert f"{flags[0]} must be" in done.stderr  # the engine's own reason, not "see engine.log"
    assert not list(tmp_path.glob("foresight-demo-*"))  # nothing left behind
