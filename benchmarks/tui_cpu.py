"""TUI CPU time per wall second (goal <= 5 % of one core at 16 slots / 1 Hz, <= 30 % at 256 slots / 4 Hz).

A real engine subprocess writes status.json at the given rate (16 slots at
--cycle-interval 1.0; 256 slots, 128 assets x 5m/15m, at --cycle-interval
0.25), and Mission Control runs in its own process, headless
(`MissionControlApp(state_dir).run(headless=True, size=(160, 50))`), with its
real watcher. After a warm-up, the TUI process's CPU time (user + system, all
threads, from /proc/PID/stat) is sampled every few seconds:

    CPU % = CPU seconds used / wall seconds elapsed x 100 (100 % = one core)

The figure is the whole measurement's CPU per wall second; p50 and max are
over the sampling windows. Headless means Textual renders every frame but
writes no escape codes to a terminal, so a real terminal adds a little.

    .venv/bin/python -m benchmarks.tui_cpu [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, EngineProc, Figure, percentile, proc_cpu_seconds, summary
from engine.trading.slots import synthetic_assets

SIZE = (160, 50)
CONFIGS = ((16, 1.0, 5.0), (256, 0.25, 30.0))  # slots, cycle interval, goal in % of one core


def child(state_dir: Path) -> int:
    """The TUI process: Mission Control headless on `state_dir`, until killed."""
    from foresight_tui.app import MissionControlApp

    MissionControlApp(state_dir).run(headless=True, size=SIZE)
    return 0


def measure(slots: int, interval: float, warm_up_s: float, seconds: float, window_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-tui-cpu-{slots}-") as tmp:
        state_dir = Path(tmp) / "state"
        extra: tuple[str, ...] = ()
        if slots != 16:
            extra = ("--assets", ",".join(synthetic_assets(slots // 2)))
        with EngineProc(state_dir, cycle_interval=interval, speed=60.0, extra=extra) as engine:
            engine.start()
            engine.wait_started(timeout=60)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
            tui = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.tui_cpu", "--child", str(state_dir)],
                cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            try:
                time.sleep(warm_up_s)
                if tui.poll() is not None:
                    raise RuntimeError(f"the TUI exited ({tui.returncode}): {tui.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                windows: list[float] = []
                start_wall = last_wall = time.monotonic()
                start_cpu = last_cpu = proc_cpu_seconds(tui.pid)
                engine_start_cpu = proc_cpu_seconds(engine.pid)
                cycle_start = int(engine.wait_for(lambda s: True)[0]["engine"]["cycle"])
                while last_wall - start_wall < seconds - 1e-6:
                    time.sleep(min(window_s, seconds - (last_wall - start_wall)))
                    wall, cpu = time.monotonic(), proc_cpu_seconds(tui.pid)
                    windows.append((cpu - last_cpu) / (wall - last_wall) * 100)
                    last_wall, last_cpu = wall, cpu
                total = (last_cpu - start_cpu) / (last_wall - start_wall) * 100
                engine_cpu = (proc_cpu_seconds(engine.pid) - engine_start_cpu) / (last_wall - start_wall) * 100
                engine.poll_status()
                cycles = int(engine.last["engine"]["cycle"]) - cycle_start  # type: ignore[index]
                if tui.poll() is not None:
                    raise RuntimeError(f"the TUI exited ({tui.returncode}): {tui.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            finally:
                tui.kill()
                tui.wait()
                if tui.stderr is not None:
                    tui.stderr.close()
    return {"cpu_percent": total, "window_percent": windows, "engine_cpu_percent": engine_cpu,
            "status_writes": cycles, "seconds": last_wall - start_wall}  # fmt: skip


def run(quick: bool = False) -> list[Figure]:
    figures = []
    for slots, interval, goal in CONFIGS:
        if quick:
            result = measure(slots, interval, warm_up_s=3.0, seconds=2.0, window_s=1.0)
        else:
            result = measure(slots, interval, warm_up_s=5.0, seconds=30.0, window_s=3.0)
        windows = result["window_percent"]
        value = result["cpu_percent"]
        rate = 1 / interval
        figures.append(
            Figure(
                key=f"tui_cpu_{slots}",
                title=f"TUI CPU time per wall second, {slots} slots / {rate:g} Hz status writes",
                goal=f"<= {goal:g} % of one core",
                unit="%",
                p50=percentile(windows, 50),
                tail=max(windows),
                tail_label=f"max of {len(windows)} windows",
                runs=len(windows),
                value=value,
                passed=value <= goal,
                details={**result, "window_percent": summary(windows)},
                notes=[
                    f"{value:.1f} % over {result['seconds']:.0f} s ({result['status_writes']} status writes); "
                    f"the engine itself used {result['engine_cpu_percent']:.1f} % meanwhile",
                ],
            )
        )
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        raise SystemExit(child(Path(sys.argv[2])))
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
