"""How long a hot reload pauses the cycle loop, for the shipped strategies.

    .venv/bin/python -m benchmarks.reload_pause [--reloads 300] [--strategies-path DIR] [--no-hold-gc]

Works on a temporary copy of the strategies; before each reload one module gets
a real edit (a comment line appended, in turn to each module), so every reload
reads, hashes, compiles, executes, checks, smoke-tests and commits a new version.
The pause is the outcome's duration_ms: start of prepare to end of commit.

The reload manager holds the cyclic garbage collector during the pause (its
`hold_gc`); the collections that then run after the pause are timed here too
and reported beside the pause, so that no cost leaves the figures unseen.
`--no-hold-gc` measures with the collector running during the pause instead.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.contract.paths import shipped_strategies_dir
from engine.reload.manager import DEFAULT_SCOPE, ReloadManager

WARM_UP = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class _Collections:
    """Wall time of every collection of the cyclic garbage collector, inside or outside a reload."""

    def __init__(self) -> None:
        self.in_reload = False
        self.inside: list[float] = []
        self.after: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            (self.inside if self.in_reload else self.after).append((time.perf_counter() - self._started) * 1000.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a few reloads, to check that it runs")
    parser.add_argument("--strategies-path", type=Path, default=shipped_strategies_dir())
    parser.add_argument("--no-hold-gc", action="store_true", help="let the collector run during the pause")
    args = parser.parse_args(argv)
    warm_up = WARM_UP
    if args.quick:
        args.reloads, warm_up = 10, 2

    collections = _Collections()
    with tempfile.TemporaryDirectory(prefix="reload-pause-") as tmp:
        directory = Path(tmp) / "strategies"
        directory.mkdir()
        for name in DEFAULT_SCOPE:
            shutil.copyfile(args.strategies_path / f"{name}.py", directory / f"{name}.py")
        manager = ReloadManager(directory, hold_gc=not args.no_hold_gc)
        manager.load_initial()
        pauses: list[float] = []
        by_module: dict[str, list[float]] = {name: [] for name in DEFAULT_SCOPE}
        phases: dict[str, list[float]] = {}
        load_before = os.getloadavg()
        gc.callbacks.append(collections)
        try:
            for i in range(warm_up + args.reloads):
                edited = DEFAULT_SCOPE[i % len(DEFAULT_SCOPE)]
                with (directory / f"{edited}.py").open("a") as handle:
                    handle.write(f"# benchmark edit {i}\n")
                if i == warm_up:
                    collections.inside.clear()
                    collections.after.clear()
                collections.in_reload = True
                outcome = manager.reload()
                collections.in_reload = False
                if not outcome.ok or not outcome.swapped:
                    print(f"reload {i} failed: {outcome.error}", file=sys.stderr)
                    return 1
                if i < warm_up:
                    continue
                pauses.append(outcome.duration_ms)
                by_module[edited].append(outcome.duration_ms)
                for name, ms in outcome.phases.items():
                    phases.setdefault(name, []).append(ms)
        finally:
            gc.callbacks.remove(collections)
        load_after = os.getloadavg()

    held = "held during the pause" if not args.no_hold_gc else "running during the pause"
    print(f"reload pause over {len(pauses)} reloads of {args.strategies_path} (prepare + check + smoke + commit):")
    print(
        f"  p50 {percentile(pauses, 50):.2f} ms   p90 {percentile(pauses, 90):.2f} ms   "
        f"p99 {percentile(pauses, 99):.2f} ms   max {max(pauses):.2f} ms   mean {statistics.fmean(pauses):.2f} ms"
    )
    print("  by edited module, p50 / p99 ms: " + "   ".join(
        f"{name} {percentile(v, 50):.2f} / {percentile(v, 99):.2f}" for name, v in by_module.items() if v
    ))
    print("  by step, p50 / p99 ms: " + "   ".join(
        f"{name} {percentile(v, 50):.2f} / {percentile(v, 99):.2f}" for name, v in phases.items()
    ))
    for where, times in (("inside the pauses", collections.inside), ("after the pauses", collections.after)):
        if times:
            print(
                f"  garbage collections {where}: {len(times)}, {sum(times):.1f} ms in all "
                f"({sum(times) / len(pauses):.2f} ms per reload), p50 {percentile(times, 50):.2f} ms, "
                f"max {max(times):.2f} ms"
            )
        else:
            print(f"  garbage collections {where}: none")
    print(f"  collector {held}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
