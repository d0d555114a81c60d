"""End to end in tmux against a real engine: what the operator is told is what happened.

An automatic rollback shows as a rollback; a write while the engine is stopped shows whole as
pending; the footer keeps help and quit at 80x24; a form the engine refuses stays open with
the values typed.
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

from engine.contract.liveness import pid_alive
from engine.contract.paths import shipped_strategies_dir
from tests.support.engine_proc import EngineProcess
from tests.support.tmux import Live, Tmux, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

# Smoke-tested on a 2.5 s history step, so it loads; the live market steps otherwise, so it fails there.
FAILS_LIVE = """

_evaluate_before = evaluate


def evaluate(view, params):
    if view.history_step_s != 2.5:
        raise RuntimeError("fails on the live market only")
    return _evaluate_before(view, params)
"""


class SizedTmux(Tmux):
    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.width, self.height = width, height

    def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        size = f"{self.width}x{self.height}"
        self.tmux("set-option", "-g", "default-size", size, ";", "new-session", "-d", "-s", "mc",
                  "-x", str(self.width), "-y", str(self.height), f"cd {Path.cwd()} && {' '.join(command)}")  # fmt: skip


def running(tmp_path: Path, width: int, height: int) -> Iterator[Live]:
    strategies = tmp_path / "strategies"
    shutil.copytree(shipped_strategies_dir(), strategies, ignore=shutil.ignore_patterns("__pycache__"))
    engine = EngineProcess(tmp_path / "state", "--strategies-path", str(strategies), seed=11,
                           fast=("--speed", "60", "--cycle-interval", "0.25"))  # fmt: skip
    tmux = SizedTmux(width, height)
    tui_pid = None
    try:
        engine.start()
        tmux.start([sys.executable, "-m", "foresight_tui", "--state-dir", str(engine.state_dir)])
        tmux.wait_screen("RUNNING")
        tui_pid = tmux.pane_pid()
        yield Live(strategies, tmux, engine)
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            os.kill(engine.proc.pid, signal.SIGCONT)  # a test may leave it stopped
        tmux.kill()
        engine.stop()
        if tui_pid is not None:
            try:
                wait_for(lambda: not pid_alive(tui_pid), "the TUI to exit with its terminal", timeout=10)
            finally:
                if pid_alive(tui_pid):
                    os.kill(tui_pid, signal.SIGKILL)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Live]:
    yield from running(tmp_path, 80, 24)


@pytest.fixture
def large(tmp_path: Path) -> Iterator[Live]:
    yield from running(tmp_path, 200, 60)


def test_80x24_footer_and_a_write_pending_while_the_engine_is_stopped(small):
    def footer() -> str:  # the footer is composed once the bindings are known: wait for it
        lines = small.tmux.screen().rstrip("\n").splitlines()
        return lines[-1] if lines and lines[-1].startswith("? Help q Quit") else ""

    assert wait_for(footer, "the footer's last line to start with help and quit")
    os.kill(small.engine.pid, signal.SIGSTOP)
    small.tmux.wait_screen("STALE")
    small.tmux.send("p")
    # Whole, at 80 columns, exactly when the engine is stuck: not "pending: gen".
    stuck = small.tmux.wait_screen("pending: gen ", " mine)")
    assert re.search(r"pending: gen \d+ > observed \d+ \(1 mine\)", stuck), stuck
    os.kill(small.engine.pid, signal.SIGCONT)
    small.tmux.wait_screen("PAUSED")
    small.wait_status(lambda s: s.engine.state == "paused", "the engine paused after SIGCONT")


def test_an_automatic_rollback_is_shown_as_one_and_a_refused_form_keeps_its_values(large):
    strategy = large.strategies / "strategy.py"
    strategy.write_text(strategy.read_text() + FAILS_LIVE)
    large.tmux.wait_screen("1 file changed on disk")
    large.tmux.send("R")
    large.tmux.wait_screen("Reload strategy code?", "+def evaluate(view, params):")  # the diff
    large.tmux.send("y")
    large.wait_status(lambda s: any(a.result == "rolled_back" for a in s.control.acks), "the automatic rollback")
    shown = large.tmux.wait_screen("reload strategy code: rolled back", "Rolled back")
    assert "reload strategy code: applied" not in shown
    large.tmux.wait_screen("last auto rollback ROLLED BACK")

    def typed_into_the_fast_ema() -> bool:
        """Open the form and type 30 into fast_ema_period (the 14th field), each step seen on
        screen before the next (keys sent in one burst to a loaded machine went missing)."""
        def shows(pattern: str) -> bool:
            try:
                wait_for(lambda: re.search(pattern, large.tmux.screen()), pattern, 5)
            except AssertionError:
                return False
            return True

        large.tmux.send("o")
        large.tmux.wait_screen("Strategy parameters", "ctrl+s apply")
        large.tmux.send(*["Tab"] * 13, "BSpace", "BSpace")
        if shows(r"fast_ema_period[^\n]*\n[^\n]*a whole number is required"):  # focused and emptied (reason under it)
            large.tmux.send("3", "0")
            if shows(r"fast_ema_period +30 "):
                return True
        large.tmux.send("Escape")  # start again on a fresh form
        large.tmux.wait_screen("heartbeat")
        return False

    wait_for(typed_into_the_fast_ema, "the fast EMA field typed into", timeout=60)
    large.tmux.send("Enter")
    refused = large.tmux.wait_screen("refused: overrides refused: fast_ema_period must be less than slow_ema_period")
    assert "Strategy parameters" in refused and re.search(r"fast_ema_period +30 ", refused)  # open, value kept
