"""The ledger's cost: a 16-slot cycle that resolves a batch of bets (goal p99 <= 2 ms, the ledger's commit included).

In process, as benchmarks/cycle_time.py does: `Engine(config).open()` on a temporary
state directory, then `Engine.cycle()` timed exactly as the loop times it. The market
runs 60 market seconds a cycle, so a 5-minute boundary (the 5m slots resolve, and the
15m ones every third time) comes every 5 cycles. The paper market is the named slow
maker (`--maker slow`): against it the shipped strategy finds its edge and most windows
see an entry, so a boundary resolves a batch of several bets (the default fair maker
leaves the strategy no edge, and almost no window would hold a bet to resolve). The
timed cycles are those that resolved at least one bet, each with its ledger
transaction (UPDATE of the resolved rows, INSERT of the entries) before the state's
persist. The ledger's own share (`Ledger.record`) is timed on the side and reported,
and so is the journal line that persists the trading state after it (`StateManager.journal`,
fdatasync'd in these cycles: the durability order keeps that wait inside the cycle, before
status.json shows the bets); the same run is repeated with the ledger's write skipped, for
comparison.

    .venv/bin/python -m benchmarks.ledger_cycle [--quick]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHIPPED_STRATEGIES, Figure, percentile, summary
from engine.config import EngineConfig
from engine.loop import Engine

GOAL_P99_MS = 2.0
SLOTS_ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX")
WARM_UP = 130
CYCLES = 1500  # 300 boundaries, nearly every one resolving a batch
MAKER = "slow"  # the scenario in which the shipped strategy enters (see above)


def measure(cycles: int, warm_up: int, ledger_on: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        config = EngineConfig(
            state_dir=Path(tmp) / "state",
            speed=60.0,
            cycle_interval_s=1.0,
            seed=7,
            strategies_path=SHIPPED_STRATEGIES,
            assets=SLOTS_ASSETS,
            windows=("5m", "15m"),
            maker=MAKER,
        )
        engine = Engine(config)
        engine.open()
        record = engine.ledger.record
        ledger_ms: list[float] = []

        def timed_record(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            if ledger_on:
                record(*args, **kwargs)
            ledger_ms.append((time.perf_counter() - started) * 1000)

        engine.ledger.record = timed_record  # type: ignore[method-assign]
        journal = engine.manager.journal
        journal_ms: list[float] = []

        def timed_journal(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                journal(*args, **kwargs)
            finally:
                journal_ms.append((time.perf_counter() - started) * 1000)

        engine.manager.journal = timed_journal  # type: ignore[method-assign]
        try:
            for _ in range(warm_up):
                engine.cycle()
                engine.between.wait_until(time.monotonic())
            resolution_cycles: list[float] = []
            ledger_in_them: list[float] = []
            journal_in_them: list[float] = []
            batch_sizes: list[int] = []
            other_cycles: list[float] = []
            for _ in range(cycles):
                resolved_before = engine.manager.state.resolved
                ledger_ms.clear()
                journal_ms.clear()
                started = time.perf_counter()
                engine.cycle()
                elapsed = (time.perf_counter() - started) * 1000
                batch = engine.manager.state.resolved - resolved_before
                if batch:
                    resolution_cycles.append(elapsed)
                    ledger_in_them.append(sum(ledger_ms))
                    journal_in_them.append(sum(journal_ms))
                    batch_sizes.append(batch)
                else:
                    other_cycles.append(elapsed)
                engine.between.wait_until(time.monotonic())
            rows = engine.ledger.db.execute("SELECT count(*) FROM bets").fetchone()[0]
        finally:
            engine.ledger.close()
            engine.lock.release()
    return {
        "resolution_cycle_ms": resolution_cycles,
        "ledger_ms": ledger_in_them,
        "journal_ms": journal_in_them,
        "batch_sizes": batch_sizes,
        "other_cycle_ms": other_cycles,
        "rows": rows,
    }


def run(quick: bool = False) -> list[Figure]:
    cycles, warm_up = (30, 3) if quick else (CYCLES, WARM_UP)
    result = measure(cycles, warm_up)
    # The same run with the ledger's write skipped: what the cycle costs without it, on this machine now.
    without = measure(cycles, warm_up, ledger_on=False)["resolution_cycle_ms"] or [0.0]
    durations = result["resolution_cycle_ms"] or [0.0]
    ledger = result["ledger_ms"] or [0.0]
    journal = result["journal_ms"] or [0.0]
    batches = result["batch_sizes"] or [0]
    figure = Figure.of_samples(
        "ledger_cycle_16",
        "16-slot cycle with a resolution batch, ledger included",
        durations,
        goal=f"p99 <= {GOAL_P99_MS:g} ms",
        limit=GOAL_P99_MS,
        details={
            "resolution_cycle_ms": summary(durations),
            "ledger_record_ms": summary(ledger),
            "state_journal_ms": summary(journal),
            "other_cycle_ms": summary(result["other_cycle_ms"] or [0.0]),
            "batch_size": {"mean": sum(batches) / len(batches), "max": max(batches)},
            "ledger_rows": result["rows"],
            "resolution_cycle_without_ledger_ms": summary(without),
        },
        notes=[
            f"on --maker {MAKER} (the shipped strategy enters against it): "
            f"{len(result['resolution_cycle_ms'])} cycles resolved a batch (mean {sum(batches) / len(batches):.1f}, "
            f"max {max(batches)} bets); the ledger's transaction in them: p50 {percentile(ledger, 50):.3f} ms, "
            f"p99 {percentile(ledger, 99):.3f} ms; the state's journal line after it (fdatasync'd): "
            f"p50 {percentile(journal, 50):.3f} ms, p99 {percentile(journal, 99):.3f} ms",
            f"the same cycles with the ledger's write skipped: p50 {percentile(without, 50):.2f} ms, "
            f"p99 {percentile(without, 99):.2f} ms",
            f"{result['rows']} ledger rows by the end",
        ],
    )
    return [figure]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
