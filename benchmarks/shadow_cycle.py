"""What a shadow costs the cycle: at 16 slots a cycle with a shadow <= 2.2x one without (the
strategy runs twice), 0 late cycles at the demo cadence over 300 cycles; at 1,024 slots a cycle
with a shadow p99 <= 100 ms; and promote's pause p99 <= 1 ms (the candidate is prepared).

In process, as benchmarks/cycle_time.py does: two engines on the same seed and market
(16 slots, the demo's cadence: 60 market seconds a wall second, a cycle every 0.25 s), one
with an A/A shadow (the running code against itself: the whole shadow path, its book, its
comparison and its status rows), their cycles interleaved so the machine's load falls on
both alike; the ratio is of their medians. Late cycles are those of the shadowed engine
longer than the 0.25 s interval. At 1,024 slots (512 synthetic assets x 5m, 15m) the same
pair of engines, the one without a shadow reported beside. Promote: a candidate (the shipped code and a comment) checked, shadowed
for a cycle and promoted, `ReloadOutcome.duration_ms` of each promote.

    .venv/bin/python -m benchmarks.shadow_cycle [--quick]
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHIPPED_STRATEGIES, Figure, percentile, summary
from engine.config import EngineConfig
from engine.loop import Engine
from engine.trading.slots import DEFAULT_ASSETS, synthetic_assets

RATIO_GOAL = 2.2
LARGE_GOAL_MS = 100.0
PROMOTE_GOAL_MS = 1.0
DEMO_SPEED, DEMO_INTERVAL_S = 60.0, 0.25
WARM_UP = 130


def _engine(state_dir: Path, assets: tuple[str, ...], strategies: Path = SHIPPED_STRATEGIES) -> Engine:
    config = EngineConfig(
        state_dir=state_dir, speed=DEMO_SPEED, cycle_interval_s=DEMO_INTERVAL_S, seed=7,
        strategies_path=strategies, assets=assets, windows=("5m", "15m"),
    )  # fmt: skip
    engine = Engine(config)
    engine.open()
    return engine


def _cycle(engine: Engine) -> float:
    started = time.perf_counter()
    engine.cycle()
    elapsed = (time.perf_counter() - started) * 1000
    engine.between.wait_until(time.monotonic())
    return elapsed


def _close(*engines: Engine) -> None:
    for engine in engines:
        engine.ledger.close()
        engine.lock.release()


def measure_16(cycles: int, warm_up: int) -> dict[str, Any]:
    return _measure(DEFAULT_ASSETS, cycles, warm_up)


def measure_1024(cycles: int, warm_up: int) -> dict[str, Any]:
    return _measure(synthetic_assets(512), cycles, warm_up)


def _measure(assets: tuple[str, ...], cycles: int, warm_up: int) -> dict[str, Any]:
    """Two engines on the same market, one with an A/A shadow: their cycles interleaved."""
    with tempfile.TemporaryDirectory(prefix=f"bench-shadow-{2 * len(assets)}-") as tmp:
        plain, shadowed = _engine(Path(tmp) / "plain", assets), _engine(Path(tmp) / "shadowed", assets)
        try:
            for _ in range(warm_up):
                _cycle(plain), _cycle(shadowed)
            shadowed.shadow.start(None, aa=True, cycles=None, overrides={})
            without, with_shadow = [], []
            for _ in range(cycles):
                without.append(_cycle(plain))
                with_shadow.append(_cycle(shadowed))
            report = shadowed.shadow.current.report  # type: ignore[union-attr]
        finally:
            _close(plain, shadowed)
    return {"without": without, "with": with_shadow, "report": report}


def measure_promote(count: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="bench-shadow-promote-") as tmp:
        strategies = Path(tmp) / "strategies"
        shutil.copytree(SHIPPED_STRATEGIES, strategies, ignore=shutil.ignore_patterns("__pycache__"))
        engine = _engine(Path(tmp) / "state", DEFAULT_ASSETS, strategies)
        pauses = []
        try:
            for _ in range(3):
                _cycle(engine)
            entry = strategies / "strategy.py"
            source = entry.read_text()
            for index in range(count):
                entry.write_text(source + f"\n# candidate {index}\n")
                outcome = engine.reloader.check(overrides={})
                assert outcome.ok, outcome.error
                prepared = engine.reloader.checked
                engine.shadow.start(prepared, aa=False, cycles=None, overrides={})
                _cycle(engine)
                promoted = engine.reloader.promote(prepared)  # type: ignore[arg-type]
                assert promoted.ok, promoted.error
                pauses.append(promoted.duration_ms)
                engine.adopt_params()  # as `ctl promote` does: the new code's Params are in force
                engine.shadow.finish("promoted", "benchmark")
                _cycle(engine)
        finally:
            _close(engine)
    return pauses


def run(quick: bool = False) -> list[Figure]:
    small = measure_16(*((5, 3) if quick else (300, WARM_UP)))
    large = measure_1024(*((2, 2) if quick else (100, WARM_UP)))
    pauses = measure_promote(2 if quick else 40)
    without, with_shadow = small["without"], small["with"]
    ratio = percentile(with_shadow, 50) / max(percentile(without, 50), 1e-9)
    late = sum(1 for d in with_shadow if d > DEMO_INTERVAL_S * 1000)
    aa = small["report"]
    figures = [
        Figure(
            key="shadow_cycle_ratio_16",
            title="16-slot cycle with an A/A shadow against one without (median ratio)",
            goal=f"<= {RATIO_GOAL:g}x, 0 late cycles",
            unit="x",
            p50=ratio,
            tail=percentile(with_shadow, 99) / max(percentile(without, 99), 1e-9),
            tail_label="p99 ratio",
            runs=len(with_shadow),
            value=ratio,
            passed=ratio <= RATIO_GOAL and late == 0,
            details={"without_ms": summary(without), "with_shadow_ms": summary(with_shadow), "late_cycles": late,
                     "shadow_skipped": aa.skipped, "aa_differ": aa.differ, "aa_compared": aa.compared},  # fmt: skip
            notes=[
                f"without: p50 {percentile(without, 50):.2f} ms, p99 {percentile(without, 99):.2f} ms; with the shadow: "
                f"p50 {percentile(with_shadow, 50):.2f} ms, p99 {percentile(with_shadow, 99):.2f} ms",
                f"{late} of {len(with_shadow)} cycles later than the demo's {DEMO_INTERVAL_S:g} s interval; the shadow "
                f"skipped {aa.skipped}; A/A: {aa.differ} of {aa.compared} decisions differed",
            ],
        ),
        Figure.of_samples(
            "shadow_cycle_1024",
            "1,024-slot cycle with an A/A shadow",
            large["with"],
            goal=f"p99 <= {LARGE_GOAL_MS:g} ms",
            limit=LARGE_GOAL_MS,
            details={"cycle_ms": summary(large["with"]), "without_ms": summary(large["without"]),
                     "shadow_skipped": large["report"].skipped},  # fmt: skip
            notes=[
                f"the same cycles without a shadow (interleaved, same seed): p50 {percentile(large['without'], 50):.1f} ms, "
                f"p99 {percentile(large['without'], 99):.1f} ms; the shadow skipped {large['report'].skipped} of "
                f"{len(large['with'])} cycles for lack of room",
            ],
        ),
        Figure.of_samples(
            "shadow_promote_pause",
            "promote's pause (the shadowed candidate swapped in)",
            pauses,
            goal=f"p99 <= {PROMOTE_GOAL_MS:g} ms",
            limit=PROMOTE_GOAL_MS,
            details={"pause_ms": summary(pauses)},
        ),
    ]
    return figures


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
