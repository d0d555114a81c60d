"""Where the cycle that swaps a reload in spends its time, by part (informative, not in `make bench`).

    .venv/bin/python -m benchmarks.reload_cycle_parts [--reloads 60]

In process: an engine at the demo's cadence (speed 60, 0.25 s cycles) on a temporary
copy of the shipped strategies. Before each reload one line is appended to
strategy.py and a `reload` command written; the loop's wait then prepares it (as
the real loop does), and the next cycle swaps it in. That cycle is timed whole and
by the engine's own parts: the commands (write-ahead mark, swap, the version store's
record), state checkpoints, the journal line, the slots' evaluation, the status write.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import SHIPPED_STRATEGIES, percentile
from engine.config import EngineConfig
from engine.contract.control_writer import ControlWriter
from engine.loop import Engine


def _timed(obj: object, name: str, label: str, spent: dict[str, float]) -> None:
    fn: Callable[..., Any] = getattr(obj, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += (time.perf_counter() - started) * 1000

    setattr(obj, name, timed)


def measure(reloads: int) -> tuple[list[float], dict[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="bench-reload-parts-") as tmp:
        root = Path(tmp)
        strategies = root / "strategies"
        shutil.copytree(SHIPPED_STRATEGIES, strategies, ignore=shutil.ignore_patterns("__pycache__"))
        engine = Engine(EngineConfig(state_dir=root / "state", speed=60.0, cycle_interval_s=0.25, seed=7, strategies_path=strategies))
        engine.open()
        writer = ControlWriter(root / "state", tool="benchmark")
        spent: dict[str, float] = defaultdict(float)
        for obj, name, label in (
            (engine.commands, "run", "commands (mark, swap, version store)"),
            (engine.manager, "persist", "state checkpoints"),
            (engine.manager, "journal", "journal line"),
            (engine.trader, "evaluate", "slots' evaluation"),
            (engine, "write_status", "status write"),
        ):
            _timed(obj, name, label, spent)
        try:
            for _ in range(20):
                engine.cycle()
                engine.between.wait_until(time.monotonic() + 0.05)
            entry = strategies / "strategy.py"
            source = entry.read_text()
            cycles: list[float] = []
            parts: dict[str, list[float]] = defaultdict(list)
            for index in range(reloads):
                entry.write_text(source + f"\n# edit {index}\n")
                writer.send_command("reload")
                engine.between.wait_until(time.monotonic() + 0.1)  # it sees the command and prepares it
                spent.clear()
                started = time.perf_counter()
                engine.cycle()
                cycles.append((time.perf_counter() - started) * 1000)
                for label, ms in spent.items():
                    parts[label].append(ms)
                for _ in range(4):
                    engine.cycle()
                    engine.between.wait_until(time.monotonic() + 0.02)
        finally:
            engine.ledger.close()
            engine.lock.release()
    return cycles, parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=60)
    args = parser.parse_args()
    cycles, parts = measure(args.reloads)
    print(f"the swapping cycle, {len(cycles)} reloads: p50 {statistics.median(cycles):.2f} ms, "
          f"p90 {percentile(cycles, 90):.2f} ms, max {max(cycles):.2f} ms")  # fmt: skip
    for label, values in sorted(parts.items(), key=lambda item: -statistics.median(item[1])):
        print(f"  {label:38s} p50 {statistics.median(values):6.2f}  p90 {percentile(values, 90):6.2f}  max {max(values):6.2f} ms"
              f"  (in {len(values)} of {len(cycles)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
