"""Driving a real terminal: one tmux server per test, keys typed one at a time, the screen read back."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.contract.models import Status
from tests.support.engine_proc import EngineProcess
from tests.support.waits import wait_until

T = TypeVar("T")
TIMEOUT = 30.0
_sessions = itertools.count()



def wait_for(probe: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    return wait_until(probe, what, timeout, every=0.1)  # a screen capture is a subprocess: poll gently


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
        self.tmux("send-keys", "-t", "mc", "-l", text)  # literal characters, not key names

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

    def wait_match(self, pattern: str, what: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """The first match of the regular expression `pattern` on screen; the screen in the error."""
        try:
            return wait_for(lambda: re.search(pattern, self.screen()), what, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen shows:\n{self.screen()}") from None

    def kill(self) -> None:
        self.tmux("kill-server")


@dataclass
class Live:
    strategies: Path
    tmux: Tmux
    engine: EngineProcess

    def wait_status(self, check: Callable[[Status], bool], what: str) -> Status:
        return self.engine.wait_for(check, timeout=TIMEOUT, what=what)
