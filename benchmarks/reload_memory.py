"""Memory across many hot reloads in a row: it must stay flat.

    .venv/bin/python -m benchmarks.reload_memory [--reloads 300] [--strategies-path DIR]

Works on a temporary copy of the strategies, edits one module before every
reload (so each one swaps in a new version) and measures Python allocations
with tracemalloc after a warm-up, and at the end, each time after a full
garbage collection. Also counts how many strategy module objects are still
alive afterwards (found through the garbage collector, so the count costs no
memory while measuring): only the running version and the one kept for
rollback should be (they share the module objects a reload kept unchanged).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import tracemalloc
from pathlib import Path
from types import ModuleType

from engine.contract.paths import shipped_strategies_dir
from engine.reload.guard import Budgets
from engine.reload.manager import DEFAULT_SCOPE, ReloadManager

WARM_UP = 60  # past the manager's outcome history (50) and the first caches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a few reloads, to check that it runs")
    parser.add_argument("--strategies-path", type=Path, default=shipped_strategies_dir())
    args = parser.parse_args(argv)
    warm_up = min(WARM_UP, args.reloads // 3)
    if args.quick:
        args.reloads, warm_up = 12, 4

    with tempfile.TemporaryDirectory(prefix="reload-memory-") as tmp:
        directory = Path(tmp) / "strategies"
        directory.mkdir()
        for name in DEFAULT_SCOPE:
            shutil.copyfile(args.strategies_path / f"{name}.py", directory / f"{name}.py")
        # tracemalloc slows everything down: the smoke time budget is not what is measured here.
        manager = ReloadManager(directory, budgets=Budgets(smoke_s=60.0))
        manager.load_initial()
        tracemalloc.start()
        baseline = middle = 0
        halfway = warm_up + (args.reloads - warm_up) // 2
        for i in range(args.reloads):
            target = directory / f"{DEFAULT_SCOPE[i % len(DEFAULT_SCOPE)]}.py"
            # Rewrite the edit line rather than growing the file, so the source itself stays one size.
            text = target.read_text().split("# benchmark edit", 1)[0]
            target.write_text(f"{text}# benchmark edit {i}\n")
            outcome = manager.reload()
            if not outcome.ok:
                print(f"reload {i} failed: {outcome.error}", file=sys.stderr)
                return 1
            if i + 1 in (warm_up, halfway):
                gc.collect()
                traced = tracemalloc.get_traced_memory()[0]
                baseline, middle = (traced, middle) if i + 1 == warm_up else (baseline, traced)
        gc.collect()
        final, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        survivors = sum(
            isinstance(obj, ModuleType) and obj.__name__.startswith("strategies.") and (obj.__file__ or "").startswith(tmp)
            for obj in gc.get_objects()
        )
        versions = [manager.registry.current, manager.registry.previous]
        expected = len({id(loaded.module) for version in versions if version is not None for loaded in version})

    late = args.reloads - halfway
    print(f"memory over {args.reloads} reloads of {args.strategies_path} (tracemalloc, after gc.collect()):")
    print(
        f"  traced after reload {warm_up}: {baseline / 1024:.1f} KiB, after {halfway}: {middle / 1024:.1f} KiB, "
        f"after {args.reloads}: {final / 1024:.1f} KiB (peak {peak / 1024:.1f} KiB)"
    )
    print(
        f"  growth {warm_up}..{args.reloads}: {(final - baseline) / 1024:+.1f} KiB; "
        f"over the last {late} reloads: {(final - middle) / 1024:+.1f} KiB ({(final - middle) / max(1, late):+.1f} B per reload)"
    )
    print(f"  strategy module objects still alive: {survivors} (those of the current and previous versions: {expected})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
