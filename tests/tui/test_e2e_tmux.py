"""End to end in a real terminal: tmux runs Mission Control against a real engine subprocess.

Every wait polls with a timeout; teardown kills the tmux server (its own socket)
and the engine (started with the project's shared `tests.support.engine_proc`).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from engine.contract.fileio import read_model
from engine.contract.models import STATUS_FILE, Status
from engine.contract.paths import shipped_strategies_dir
from foresight_tui.data_source import pid_alive
from tests.support.engine_proc import EngineProcess

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

T = TypeVar("T")
TIMEOUT = 30.0
_sessions = itertools.count()


def wait_for(probe: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


class Tmux:
    """One tmux server on a private socket, one session, 200x60."""

    def __init__(self) -> None:
        self.socket = f"mc-e2e-{os.getpid()}-{next(_sessions)}"

    def tmux(self, *args: str) -> str:
        # Not COLUMNS/LINES from the test process (set to 80x24 under pytest): the pane has its own size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args], capture_output=True, text=True, timeout=10, env=env
        )
        return done.stdout

    def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        exports = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        line = " ".join(command)
        # The size is the server's default too, so the program never starts at 80x24 and then resizes.
        self.tmux("set-option", "-g", "default-size", "200x60", ";",
                  "new-session", "-d", "-s", "mc", "-x", "200", "-y", "60", f"cd {Path.cwd()} && {exports} {line}")  # fmt: skip

    def send(self, *keys: str) -> None:
        for key in keys:  # one at a time, like fingers
            self.tmux("send-keys", "-t", "mc", key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        self.send(*text)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "mc")

    def pane_pid(self) -> int:
        return int(self.tmux("list-panes", "-t", "mc", "-F", "#{pane_pid}").strip())

    def wait_screen(self, *texts: str, timeout: float = TIMEOUT) -> str:
        def probe() -> str:
            screen = self.screen()
            return screen if all(text in screen for text in texts) else ""

        try:
            return wait_for(probe, f"{texts!r} on screen", timeout)
        except AssertionError as exc:
            size = self.tmux("display", "-p", "-t", "mc", "#{window_width}x#{window_height}").strip()
            raise AssertionError(f"{exc}; the {size} screen shows:\n{self.screen()}") from None

    def kill(self) -> None:
        self.tmux("kill-server")


def read_status(state_dir: Path) -> Status | None:
    return read_model(state_dir / STATUS_FILE, Status).value


@dataclass
class Live:
    strategies: Path
    tmux: Tmux
    engine: EngineProcess

    def wait_status(self, check: Callable[[Status], bool], what: str) -> Status:
        return self.engine.wait_for(check, timeout=TIMEOUT, what=what)


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
        if re.search(r"stake +▊ +▎", live.tmux.screen()):
            return True
        live.tmux.send("BSpace")
        return False

    wait_for(cleared, "the stake field to be empty")
    live.tmux.type("7.5")
    live.tmux.wait_screen("▊  7.5 ")  # the field shows what was typed
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
