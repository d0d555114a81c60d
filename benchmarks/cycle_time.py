"""Engine cycle time with the status write, at 16, 256 and 1,024 slots (goal <= 2 ms at 16, <= 50 ms at 1,024).

In process: `Engine(config).open()` on a temporary state directory, then
`Engine.cycle()` timed exactly as the loop times it (read control, apply,
advance the market, evaluate every slot through the registry, resolve, persist
the state: a line of state.journal, or all of state.json, write status.json).
Slots are N/2 assets x the 5m and 15m windows
(`engine.slots.synthetic_assets`); the market runs as in production, 1x speed
and 1 s cycles, so the run holds the real share of cycles in which a window
boundary resolves half the slots at once (one cycle in 300). 130 warm-up
cycles fill the 120-point price history first and are not counted. After
each cycle the loop's between-cycles work runs as in `Engine.run` (with no time
left to wait): the cyclic collector's work, which the cycle holds back, is
timed there and reported, not counted in the cycle.

The goal is judged on p99 (p50 beside it). Also reported: the status write
alone (build, serialise, atomic replace; the version it replaces is freed by
engine/status_file.py's worker thread beside the cycle, counted here only as far as it
competes with the cycle for the cores and the disk), the cycle's own CPU time (the machine
is shared: wall time above CPU time is waiting for a core or the disk), the
cycles that fsync state.json (entries and resolutions), and status.json's size.

    .venv/bin/python -m benchmarks.cycle_time [--quick]
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHIPPED_STRATEGIES, Figure, percentile, summary
from engine.config import EngineConfig
from engine.contract.models import MAX_STATUS_BYTES, STATUS_FILE
from engine.loop import Engine
from engine.trading.slots import synthetic_assets

GOALS_P99_MS = {16: 2.0, 256: None, 1024: 50.0}
CYCLE_INTERVAL_S = 1.0  # production defaults: `foresight engine` without flags
SPEED = 1.0
WARM_UP = 130  # more than the 120 history points: the views are full-length when timing starts
CYCLES = {16: 900, 256: 600, 1024: 300}  # each run crosses at least one 5-minute window boundary


class TimedEngine(Engine):
    """The engine, with its status write timed and its durable persists counted on the side."""

    status_ms: list[float]
    evaluate_ms: list[float]
    durable_persists: int

    def write_status(self) -> None:
        started = time.perf_counter()
        super().write_status()
        self.status_ms.append((time.perf_counter() - started) * 1000)

    def persist(self, durable: bool = True) -> None:
        self.durable_persists += bool(durable)
        super().persist(durable)

    def open(self) -> None:
        super().open()
        journal = self.manager.journal  # most cycles append to state.journal, an fsync'd line when money moved

        def counted(*args: Any, durable: bool = False, **kwargs: Any) -> None:
            self.durable_persists += bool(durable)
            journal(*args, durable=durable, **kwargs)

        self.manager.journal = counted  # type: ignore[method-assign]
        evaluate = self.trader.evaluate

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return evaluate(*args, **kwargs)
            finally:
                self.evaluate_ms.append((time.perf_counter() - started) * 1000)

        self.trader.evaluate = timed  # type: ignore[method-assign]


def measure(slots: int, cycles: int, warm_up: int = WARM_UP, strategies: Path = SHIPPED_STRATEGIES) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-cycle-{slots}-") as tmp:
        config = EngineConfig(
            state_dir=Path(tmp) / "state",
            speed=SPEED,
            cycle_interval_s=CYCLE_INTERVAL_S,
            seed=7,
            strategies_path=strategies,
            assets=synthetic_assets(slots // 2),
            windows=("5m", "15m"),
        )
        engine = TimedEngine(config)
        engine.status_ms = []
        engine.evaluate_ms = []
        engine.durable_persists = 0
        engine.open()
        try:
            for _ in range(warm_up):
                engine.cycle()
                engine.between.wait_until(time.monotonic())
            gc.collect()
            engine.status_ms = []
            engine.evaluate_ms = []
            engine.durable_persists = 0
            durations = []
            cpu = []
            waits = []
            for _ in range(cycles):
                started = time.perf_counter()
                started_cpu = time.thread_time()
                engine.cycle()
                cpu.append((time.thread_time() - started_cpu) * 1000)
                durations.append((time.perf_counter() - started) * 1000)
                # What the loop does in its wait before the next cycle (the collector's work the
                # cycle held back), with no time left to wait: not part of the cycle, reported.
                started = time.perf_counter()
                engine.between.wait_until(time.monotonic())
                waits.append((time.perf_counter() - started) * 1000)
            size = (config.state_dir / STATUS_FILE).stat().st_size
            entered = sum(1 for s in engine.manager.state.slots.values() if s.position is not None)
            resolved = engine.manager.state.resolved
        finally:
            engine.lock.release()
    return {
        "cycle_ms": durations,
        "cycle_cpu_ms": cpu,
        "wait_work_ms": waits,
        "durable_persists": engine.durable_persists,
        "status_write_ms": engine.status_ms,
        "evaluate_ms": engine.evaluate_ms,
        "status_bytes": size,
        "open_positions_at_end": entered,
        "resolved_bets": resolved,
    }


def run(quick: bool = False, strategies: Path = SHIPPED_STRATEGIES) -> list[Figure]:
    figures = []
    for slots in (16, 256, 1024):
        if quick:
            cycles, warm_up = 3, 3
        else:
            cycles, warm_up = CYCLES[slots], WARM_UP
        result = measure(slots, cycles, warm_up, strategies)
        durations = result["cycle_ms"]
        p99 = percentile(durations, 99)
        goal = GOALS_P99_MS[slots]
        size = result["status_bytes"]
        cpu = result["cycle_cpu_ms"]
        notes = [
            f"of which the status write: p50 {percentile(result['status_write_ms'], 50):.2f} ms, "
            f"p99 {percentile(result['status_write_ms'], 99):.2f} ms; status.json {size / 1024:.0f} KiB",
            f"of which the slots' evaluation (Trader.evaluate: quotes, views, every strategy call): "
            f"p50 {percentile(result['evaluate_ms'], 50):.2f} ms, p99 {percentile(result['evaluate_ms'], 99):.2f} ms",
            f"CPU time of a cycle: p50 {percentile(cpu, 50):.2f} ms, p99 {percentile(cpu, 99):.2f} ms; "
            f"worst cycle {max(durations):.1f} ms",
            f"after each cycle, in the loop's wait (the collector's work the cycle holds back): "
            f"p50 {percentile(result['wait_work_ms'], 50):.2f} ms, p99 {percentile(result['wait_work_ms'], 99):.2f} ms",
            f"{result['durable_persists']} of {len(durations)} cycles fsynced the state (an entry or a resolution); "
            f"{result['resolved_bets']} bets resolved by the end",
        ]
        if size > MAX_STATUS_BYTES:
            notes.append(
                f"status.json is larger than the readers' limit MAX_STATUS_BYTES ({MAX_STATUS_BYTES // 1024} KiB): "
                "the TUI, ctl and ControlWriter refuse it"
            )
        figures.append(
            Figure(
                key=f"cycle_time_{slots}",
                title=f"engine cycle time with status write, {slots} slots",
                goal=f"p99 <= {goal:g} ms" if goal is not None else "informative",
                unit="ms",
                p50=percentile(durations, 50),
                tail=p99,
                runs=len(durations),
                value=p99,
                passed=(p99 <= goal) if goal is not None else None,
                details={
                    "cycle_ms": summary(durations),
                    "cycle_cpu_ms": summary(cpu),
                    "wait_work_ms": summary(result["wait_work_ms"]),
                    "durable_persists": result["durable_persists"],
                    "status_write_ms": summary(result["status_write_ms"]),
                    "evaluate_ms": summary(result["evaluate_ms"]),
                    "status_bytes": size,
                    "resolved_bets": result["resolved_bets"],
                    "warm_up_cycles": warm_up,
                },
                notes=notes,
            )
        )
    return figures


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
