"""What the strategy guard (engine/reload/guard.py) costs a 16-slot cycle (goal <= 20 us), beside the cycle.

In process, on the shipped strategies: `Engine(config).open()` on a temporary state
directory at production speed (1x, 1 s cycles), warmed up past the 120-point history.
Each measured cycle first runs `Engine.cycle()` (timed: the cycle time beside the
overhead), then, on that cycle's market, the slots' evaluation (`Trader.evaluate`,
entries off) REPS times through the registry as it runs (every evaluate and
analyse_history call armed and disarmed by the guard) and REPS times with the
registry's calls made directly, interleaved, each arm first in half of the pairs,
after one evaluation that is not counted; the overhead of the cycle is the
difference of the two medians. The guard's watchdog thread runs throughout, as in
the engine. The goal is judged on the p50 of that difference (p99 beside it: the
difference of two medians of microsecond timings is noisy on a shared machine).

    .venv/bin/python -m benchmarks.guard_overhead [--quick]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHIPPED_STRATEGIES, Figure, percentile, summary
from engine.config import EngineConfig
from engine.loop import Engine

GOAL_US = 20.0
WARM_UP = 130
CYCLES = 300
REPS = 7


def _direct(_budget_s: float, fn: Any, *args: Any) -> Any:
    return fn(*args)


def measure(cycles: int, warm_up: int = WARM_UP, strategies: Path = SHIPPED_STRATEGIES) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-guard-") as tmp:
        config = EngineConfig(state_dir=Path(tmp) / "state", seed=7, strategies_path=strategies)
        engine = Engine(config)
        engine.open()
        try:
            for _ in range(warm_up):
                engine.cycle()
                engine.between.wait_until(time.monotonic())
            registry = engine.reloader.registry
            guarded = registry._call
            no_entries = lambda _slot: False  # noqa: E731 - the evaluation only, no bets
            overhead, cycle_ms, eval_ms = [], [], []
            for _ in range(cycles):
                started = time.perf_counter()
                engine.cycle()
                cycle_ms.append((time.perf_counter() - started) * 1000)
                engine.between.wait_until(time.monotonic())
                gc.disable()
                # One evaluation not counted: the first after a cycle fills the market's per-cycle
                # caches and finds the caches cold, which would count against whichever arm ran it.
                engine.trader.evaluate(registry, engine.params, no_entries)
                with_guard: list[float] = []
                without: list[float] = []
                arms = ((guarded, with_guard), (_direct, without))
                for rep in range(REPS):
                    # Each arm runs first as often as the other: going first costs a little.
                    for calls, into in arms if rep % 2 == 0 else arms[::-1]:
                        registry._call = calls  # type: ignore[assignment]
                        started = time.perf_counter()
                        engine.trader.evaluate(registry, engine.params, no_entries)
                        into.append((time.perf_counter() - started) * 1e6)
                registry._call = guarded
                gc.enable()
                eval_ms.append(statistics.median(with_guard) / 1000)
                overhead.append(statistics.median(with_guard) - statistics.median(without))
        finally:
            engine.lock.release()
    return {"overhead_us": overhead, "cycle_ms": cycle_ms, "evaluate_ms": eval_ms}


def run(quick: bool = False, strategies: Path = SHIPPED_STRATEGIES) -> list[Figure]:
    cycles, warm_up = (5, 5) if quick else (CYCLES, WARM_UP)
    result = measure(cycles, warm_up, strategies)
    overhead = result["overhead_us"]
    p50 = percentile(overhead, 50)
    figure = Figure(
        key="guard_overhead_16",
        title="strategy guard: time it adds to the slots' evaluation of a 16-slot cycle (24 guarded calls)",
        goal=f"p50 <= {GOAL_US:g} us",
        unit="us",
        p50=p50,
        tail=percentile(overhead, 99),
        tail_label="p99",
        runs=len(overhead),
        value=p50,
        passed=p50 <= GOAL_US,
        details={k: summary(v) for k, v in result.items()},
        notes=[
            f"beside it, the whole cycle: p50 {percentile(result['cycle_ms'], 50):.3f} ms, "
            f"p99 {percentile(result['cycle_ms'], 99):.3f} ms; the guarded evaluation alone p50 "
            f"{percentile(result['evaluate_ms'], 50):.3f} ms",
            f"difference of the medians of {REPS} guarded and {REPS} direct evaluations of the same market, per cycle",
        ],
    )
    return [figure]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cycles", type=int, default=None)
    args = parser.parse_args(argv)
    if args.cycles:
        result = measure(args.cycles)
        for key, values in result.items():
            print(key, summary(values))
        return 0
    for figure in run(quick=args.quick):
        print(figure.key, f"p50 {figure.p50:.2f} {figure.unit}, p99 {figure.tail:.2f}", *figure.notes, sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
