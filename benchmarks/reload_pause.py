"""How long a hot reload pauses the cycle loop, for the shipped strategies.

    .venv/bin/python -m benchmarks.reload_pause [--reloads 300] [--strategies-path DIR]

Works on a temporary copy of the strategies; before each reload one module gets
a real edit (a comment line appended, in turn to each module), so every reload
reads, hashes, compiles, executes, checks, smoke-tests and commits a new version.
The pause is the outcome's duration_ms: start of prepare to end of commit.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from engine.paths import shipped_strategies_dir
from engine.reload_manager import DEFAULT_SCOPE, ReloadManager


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a few reloads, to check that it runs")
    parser.add_argument("--strategies-path", type=Path, default=shipped_strategies_dir())
    args = parser.parse_args(argv)
    if args.quick:
        args.reloads = 10

    with tempfile.TemporaryDirectory(prefix="reload-pause-") as tmp:
        directory = Path(tmp) / "strategies"
        directory.mkdir()
        for name in DEFAULT_SCOPE:
            shutil.copyfile(args.strategies_path / f"{name}.py", directory / f"{name}.py")
        manager = ReloadManager(directory)
        manager.load_initial()
        pauses: list[float] = []
        phases: dict[str, list[float]] = {}
        for i in range(args.reloads):
            target = directory / f"{DEFAULT_SCOPE[i % len(DEFAULT_SCOPE)]}.py"
            with target.open("a") as handle:
                handle.write(f"# benchmark edit {i}\n")
            outcome = manager.reload()
            if not outcome.ok or not outcome.swapped:
                print(f"reload {i} failed: {outcome.error}", file=sys.stderr)
                return 1
            pauses.append(outcome.duration_ms)
            for name, ms in outcome.phases.items():
                phases.setdefault(name, []).append(ms)

    print(f"reload pause over {len(pauses)} reloads of {args.strategies_path} (prepare + check + smoke + commit):")
    print(
        f"  p50 {percentile(pauses, 50):.2f} ms   p90 {percentile(pauses, 90):.2f} ms   "
        f"p99 {percentile(pauses, 99):.2f} ms   max {max(pauses):.2f} ms   mean {statistics.fmean(pauses):.2f} ms"
    )
    print("  by step, p50 / p99 ms: " + "   ".join(
        f"{name} {percentile(v, 50):.2f} / {percentile(v, 99):.2f}" for name, v in phases.items()
    ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
