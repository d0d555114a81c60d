"""Mission Control's CPU in a real terminal, beside the engine's (goal <= 5 % of one core at 16 slots / 4 Hz).

What an operator runs: a real engine subprocess at the demo's cadence (speed 60,
a status.json every 0.25 s: 4 Hz) and `python -m foresight_tui` in a tmux pane
of 160x48 on a private tmux server, so Textual writes its escape codes to a
real pseudo-terminal. After a warm-up, the CPU time (user + system, all
threads, /proc/PID/stat) of three processes is read over the measurement:

    CPU % = CPU seconds used / wall seconds elapsed x 100 (100 % = one core)

for the TUI (the judged figure), the engine and the tmux server (which parses
what the TUI writes). At 256 slots (128 assets x 5m/15m) the figure is
informative. The machine's load average is recorded: other work on a shared
machine slows every process, which raises CPU per wall second only a little
but stretches each frame.

    .venv/bin/python -m benchmarks.tui_tmux [--quick]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, EngineProc, Figure, percentile, proc_cpu_seconds, summary
from engine.trading.slots import synthetic_assets

WIDTH, HEIGHT = 160, 48
INTERVAL_S = 0.25  # the demo's cycle: 4 statuses a second
CONFIGS = ((16, 5.0), (256, None))  # slots, goal in % of one core (None: informative)


class TmuxPane:
    """One tmux server on a private socket running one command in a WIDTHxHEIGHT pane."""

    def __init__(self, name: str) -> None:
        self.socket = f"{name}-{os.getpid()}"

    def tmux(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        done = subprocess.run(["tmux", "-L", self.socket, "-f", os.devnull, *args],
                              capture_output=True, text=True, timeout=10, env=env, check=False)  # fmt: skip
        return done.stdout

    def start(self, command: str) -> None:
        self.tmux("set-option", "-g", "default-size", f"{WIDTH}x{HEIGHT}", ";", "new-session", "-d", "-s", "b",
                  "-x", str(WIDTH), "-y", str(HEIGHT), command)  # fmt: skip

    def pane_pid(self) -> int:
        return int(self.tmux("list-panes", "-t", "b", "-F", "#{pane_pid}").strip())

    def server_pid(self) -> int:
        return int(self.tmux("display", "-p", "-t", "b", "#{pid}").strip())

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "b")

    def kill(self) -> None:
        self.tmux("kill-server")


def measure(slots: int, warm_up_s: float, seconds: float, window_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-tui-tmux-{slots}-") as tmp:
        state_dir = Path(tmp) / "state"
        extra: tuple[str, ...] = ()
        if slots != 16:
            extra = ("--assets", ",".join(synthetic_assets(slots // 2)))
        with EngineProc(state_dir, cycle_interval=INTERVAL_S, speed=60.0, extra=extra) as engine:
            engine.start()
            engine.wait_started(timeout=60)
            pane = TmuxPane("bench-tui")
            command = f"cd {PROJECT_ROOT} && exec {sys.executable} -m foresight_tui --state-dir {state_dir}"
            pane.start(command)
            try:
                deadline = time.monotonic() + 60
                while "RUNNING" not in pane.screen():
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Mission Control never showed RUNNING:\n{pane.screen()}")
                    time.sleep(0.2)
                tui, server = pane.pane_pid(), pane.server_pid()
                time.sleep(warm_up_s)
                load_before = os.getloadavg()[0]
                pids = {"tui": tui, "engine": engine.pid, "tmux": server}
                start_wall = last_wall = time.monotonic()
                start = {k: proc_cpu_seconds(p) for k, p in pids.items()}
                last_tui = start["tui"]
                windows: list[float] = []
                cycle_start = int(engine.wait_for(lambda s: True)[0]["engine"]["cycle"])
                while last_wall - start_wall < seconds - 1e-6:
                    time.sleep(min(window_s, seconds - (last_wall - start_wall)))
                    wall, cpu = time.monotonic(), proc_cpu_seconds(tui)
                    windows.append((cpu - last_tui) / (wall - last_wall) * 100)
                    last_wall, last_tui = wall, cpu
                elapsed = last_wall - start_wall
                shares = {k: (proc_cpu_seconds(p) - start[k]) / elapsed * 100 for k, p in pids.items()}
                engine.poll_status()
                cycles = int(engine.last["engine"]["cycle"]) - cycle_start  # type: ignore[index]
                screen_ok = "RUNNING" in pane.screen()
            finally:
                pane.kill()
    return {"cpu_percent": shares, "window_percent": windows, "status_writes": cycles, "seconds": elapsed,
            "load_average": [load_before, os.getloadavg()[0]], "screen_ok": screen_ok}  # fmt: skip


def run(quick: bool = False) -> list[Figure]:
    if shutil.which("tmux") is None:
        raise RuntimeError("tmux is not installed: this benchmark runs Mission Control in a real terminal")
    figures = []
    for slots, goal in CONFIGS:
        if quick and slots != 16:
            continue
        if quick:
            result = measure(slots, warm_up_s=1.0, seconds=2.0, window_s=1.0)
        else:
            result = measure(slots, warm_up_s=5.0, seconds=30.0, window_s=3.0)
        windows = result["window_percent"]
        cpu = result["cpu_percent"]
        value = cpu["tui"]
        figures.append(
            Figure(
                key=f"tui_tmux_cpu_{slots}",
                title=f"TUI CPU in tmux {WIDTH}x{HEIGHT}, {slots} slots / {1 / INTERVAL_S:g} Hz status writes",
                goal=f"<= {goal:g} % of one core" if goal is not None else "informative",
                unit="%",
                p50=percentile(windows, 50),
                tail=max(windows),
                tail_label=f"max of {len(windows)} windows",
                runs=len(windows),
                value=value,
                passed=None if goal is None else value <= goal,
                details={**result, "window_percent": summary(windows)},
                notes=[
                    f"TUI {value:.1f} %, engine {cpu['engine']:.1f} %, tmux server {cpu['tmux']:.1f} % over "
                    f"{result['seconds']:.0f} s ({result['status_writes']} status writes); load average "
                    f"{result['load_average'][0]:.2f} -> {result['load_average'][1]:.2f}",
                ],
            )
        )
    return figures


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
