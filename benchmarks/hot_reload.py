"""Hot reload pause of the shipped strategies: p50 and p99 over >= 300 reloads (goal p99 <= 5 ms).

In process, with the engine's own ReloadManager on a temporary copy of the
shipped strategies. Before every reload one module (in turn) gets a real edit,
so each reload reads, hashes, compiles, executes, API-checks, smoke-tests and
commits a new version. The pause is `ReloadOutcome.duration_ms`, start of
prepare to end of commit: exactly the figure the engine reports in status.json.

    .venv/bin/python -m benchmarks.hot_reload [--quick]
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHIPPED_STRATEGIES, Figure, copy_strategies, edit_strategy, percentile, summary
from engine.reload_manager import ReloadManager

GOAL_P99_MS = 5.0
WARM_UP = 10


def measure(reloads: int, strategies: Path = SHIPPED_STRATEGIES) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-hot-reload-") as tmp:
        directory = copy_strategies(Path(tmp), strategies)
        manager = ReloadManager(directory)
        manager.load_initial()
        pauses: list[float] = []
        smokes: list[float] = []
        calls: list[float] = []
        phases: dict[str, list[float]] = {}
        gc.collect()
        for i in range(WARM_UP + reloads):
            edit_strategy(directory, i)
            started = time.perf_counter()
            outcome = manager.reload()
            call_ms = (time.perf_counter() - started) * 1000
            if not (outcome.ok and outcome.swapped):
                raise RuntimeError(f"reload {i} did not swap: {outcome.error}")
            if i >= WARM_UP:
                pauses.append(outcome.duration_ms)
                smokes.append(outcome.smoke.elapsed_ms if outcome.smoke else 0.0)
                calls.append(call_ms)
                # Where the pause went, when the reload manager reports it (read, compile, execute, ...).
                for phase, ms in (getattr(outcome, "phases", None) or {}).items():
                    phases.setdefault(phase, []).append(ms)
    return {"pause_ms": pauses, "smoke_ms": smokes, "call_ms": calls, **{f"phase_{k}_ms": v for k, v in phases.items()}}


def run(quick: bool = False, strategies: Path = SHIPPED_STRATEGIES) -> list[Figure]:
    reloads = 20 if quick else 300
    samples = measure(reloads, strategies)
    pauses = samples["pause_ms"]
    p99 = percentile(pauses, 99)
    return [
        Figure(
            key="hot_reload_pause",
            title="hot reload pause (prepare to commit, shipped strategies)",
            goal=f"p99 <= {GOAL_P99_MS:g} ms",
            unit="ms",
            p50=percentile(pauses, 50),
            tail=p99,
            runs=len(pauses),
            value=p99,
            passed=p99 <= GOAL_P99_MS,
            details={
                "pause_ms": summary(pauses),
                "smoke_evaluation_ms": summary(samples["smoke_ms"]),
                "reload_call_ms": summary(samples["call_ms"]),
                **{k: summary(v) for k, v in samples.items() if k.startswith("phase_")},
                "warm_up_reloads": WARM_UP,
            },
            notes=[
                f"{WARM_UP} warm-up reloads not counted; one module edited before each reload, in turn",
                "where the pause goes (p50 per phase): "
                + (", ".join(f"{k[6:-3]} {percentile(v, 50):.2f} ms" for k, v in samples.items() if k.startswith("phase_"))
                   or f"smoke evaluation {percentile(samples['smoke_ms'], 50):.2f} ms"),
            ],
        )
    ]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
