"""Cold restart of the engine, and the ratio restart / hot reload (goal ratio >= 100).

A real engine subprocess runs on a temporary state directory. Each round stops
it with SIGTERM (it finishes its cycle and persists, as for a deploy), then
starts a new process on the same directory and times

    restart = Popen of the new process  ->  first status.json written by the new
              pid whose cycle is past the cycle saved in state.json

i.e. interpreter start, imports, strategy load and smoke test, state restore
and the first full cycle. The stop (SIGTERM to exit) is reported beside it, and
so is the whole outage an operator sees (last status of the old process to
first status of the new one). The ratio divides the restart p50 by the hot
reload pause p50 measured in the same `python -m benchmarks` run.

    .venv/bin/python -m benchmarks.cold_restart [--quick]
"""

from __future__ import annotations

import json
import signal
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.common import EngineProc, Figure, percentile, state_cycle, summary
from engine.contract.models import EVENTS_FILE

GOAL_RATIO = 100.0
CYCLE_INTERVAL_S = 0.25  # the demo's cadence
SPEED = 60.0


def first_cycle_of(pid: int, *, after: int) -> Callable[[dict[str, Any]], bool]:
    """A status of the engine `pid` past the saved cycle `after`."""
    return lambda s: s["engine"]["pid"] == pid and s["engine"]["cycle"] > after


def _started_event_at(state_dir: Path, pid: int) -> float | None:
    """Wall-clock time of the new process's "engine started" event (end of its open())."""
    try:
        lines = (state_dir / EVENTS_FILE).read_text().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("kind") == "engine" and f"pid {pid} " in event.get("message", ""):
            return datetime.fromisoformat(event["at"]).timestamp()
    return None


def measure(rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"restart_ms": [], "stop_ms": [], "outage_ms": [], "open_ms": [], "first_cycle_ms": []}
    with tempfile.TemporaryDirectory(prefix="bench-cold-restart-") as tmp:
        state_dir = Path(tmp) / "state"
        engine = EngineProc(state_dir, cycle_interval=CYCLE_INTERVAL_S, speed=SPEED)
        engine.start()
        engine.wait_started()
        engine.wait_cycles(3)
        try:
            for _ in range(rounds):
                # The old engine's last status, as the operator's watcher last saw it.
                engine.wait_cycles(1)
                last_seen = time.monotonic()
                stop_started = time.monotonic()
                code = engine.stop(signal.SIGTERM)
                stopped = time.monotonic()
                if code != 0:
                    raise RuntimeError(f"engine exited {code} on SIGTERM\n{engine.log_tail()}")
                saved = state_cycle(state_dir)
                new = EngineProc(state_dir, cycle_interval=CYCLE_INTERVAL_S, speed=SPEED)
                new._stamp = engine._stamp  # the old process's last file is not news
                wall_started = time.time()
                started = new.start()
                engine = new
                pid = new.pid
                status, seen = new.wait_for(
                    first_cycle_of(pid, after=saved),
                    timeout=60,
                    what="the restarted engine's first cycle",
                )
                if status["engine"]["cycle"] != saved + 1:
                    raise RuntimeError(f"restarted at cycle {status['engine']['cycle']}, saved was {saved}")
                out["restart_ms"].append((seen - started) * 1000)
                out["stop_ms"].append((stopped - stop_started) * 1000)
                out["outage_ms"].append((seen - last_seen) * 1000)
                opened = _started_event_at(state_dir, pid)
                if opened is not None:
                    open_ms = (opened - wall_started) * 1000
                    out["open_ms"].append(open_ms)
                    out["first_cycle_ms"].append(max(0.0, (seen - started) * 1000 - open_ms))
        finally:
            engine.stop()
    return out


def run(quick: bool = False, results: dict[str, Figure] | None = None) -> list[Figure]:
    rounds = 2 if quick else 30
    samples = measure(rounds)
    restart = samples["restart_ms"]
    reload_figure = (results or {}).get("hot_reload_pause")
    inline_figure = (results or {}).get("hot_reload_inline")
    if reload_figure is None or reload_figure.p50 is None:
        from benchmarks import hot_reload

        reload_figure, inline_figure = hot_reload.run(quick=quick)
    reload_p50 = float(reload_figure.p50)  # type: ignore[arg-type]
    restart_p50 = percentile(restart, 50)
    ratio = restart_p50 / reload_p50 if reload_p50 > 0 else float("inf")
    details: dict[str, Any] = {name: summary(values) for name, values in samples.items()}
    restart_figure = Figure(
        key="cold_restart",
        title="cold restart of the engine (process start to first cycle done with state restored)",
        goal="informative (see the ratio)",
        unit="ms",
        p50=restart_p50,
        tail=percentile(restart, 99),
        runs=len(restart),
        value=restart_p50,
        passed=None,
        details=details,
        notes=[
            f"SIGTERM stop before it: p50 {percentile(samples['stop_ms'], 50):.0f} ms; "
            f"outage seen by a watcher (last old status to first new one): p50 {percentile(samples['outage_ms'], 50):.0f} ms",
            f"of the restart, process start to the end of open() (imports, strategy load + smoke, state): "
            f"p50 {percentile(samples['open_ms'], 50):.0f} ms",
            f"engine at --cycle-interval {CYCLE_INTERVAL_S} --speed {SPEED:g} (the demo's)",
        ],
    )
    ratio_figure = Figure(
        key="restart_reload_ratio",
        title="ratio cold restart p50 / hot reload pause p50 (same run)",
        goal=f"ratio >= {GOAL_RATIO:g}",
        unit="x",
        p50=ratio,
        tail=percentile(restart, 99) / reload_p50 if reload_p50 > 0 else float("inf"),
        tail_label="p99/p50",
        runs=len(restart),
        value=ratio,
        passed=ratio >= GOAL_RATIO,
        details={"restart_p50_ms": restart_p50, "reload_p50_ms": reload_p50},
        notes=[
            f"restart p50 {restart_p50:.1f} ms / reload p50 {reload_p50:.2f} ms",
            *(
                [f"against a reload prepared at the boundary itself (p50 {inline_figure.p50:.2f} ms): "
                 f"{restart_p50 / inline_figure.p50:.0f}x"]
                if inline_figure is not None and inline_figure.p50
                else []
            ),
        ],
    )
    return [restart_figure, ratio_figure]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
