"""Runs the benchmarks and writes benchmarks/RESULTS.md and benchmarks/results.json.

    .venv/bin/python -m benchmarks                    # everything, writes RESULTS.md + results.json here
    .venv/bin/python -m benchmarks --quick            # tiny sizes, a few iterations; prints, writes nothing
    .venv/bin/python -m benchmarks --only cycle_time,hot_reload [--out DIR]
    .venv/bin/python -m benchmarks.cycle_time [--quick]   # one module, printed
    .venv/bin/python -m benchmarks --render           # RESULTS.md again from results.json (after editing findings.md)

Figures are compared with their goals here and only here: a miss is reported
(exit status 0; a benchmark that cannot run at all exits 1).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import inspect
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, Figure

HERE = Path(__file__).resolve().parent
# In run order: the reload pause first, the cold restart ratio uses it.
MODULES = (
    "hot_reload",
    "cold_restart",
    "reload_cadence",
    "command_latency",
    "cycle_time",
    "live_feed",
    "ledger_cycle",
    "shadow_cycle",
    "notify_down",
    "guard_overhead",
    "tui_latency",
    "tui_cpu",
    "tui_tmux",
    "engine_rss",
    "fleet",
)
FINDINGS = HERE / "findings.md"
BENCH_COMMAND = ".venv/bin/python -m benchmarks"


# ------------------------------------------------------------------ the machine


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip().strip('"')
    except OSError:
        return None
    return None


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_reference_ms(loops: int = 1_000_000, repeats: int = 5) -> float:
    """Milliseconds of one core for a plain Python loop (best of `repeats`): how fast this
    machine runs Python today, so that figures of two runs on a shared host can be compared."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        total = 0
        for i in range(loops):
            total += i
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def _reference(info: dict[str, Any]) -> str:
    if "cpu_reference_start" not in info:
        return "not measured"
    return f"{info['cpu_reference_start']:g} / {info['cpu_reference_end']:g} ms"


def machine() -> dict[str, Any]:
    mem_kib = _first("/proc/meminfo", "MemTotal")
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kib.split()[0]) / 1024 / 1024, 1) if mem_kib else None,
        "python": platform.python_version(),
        "os": _first("/etc/os-release", "PRETTY_NAME") or platform.platform(),
        "kernel": platform.release(),
        "textual": _version("textual"),
        "pydantic": _version("pydantic"),
        "watchfiles": _version("watchfiles"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain", "--", "engine", "strategies", "foresight_tui")),
    }


# ------------------------------------------------------------------ running


def run_module(name: str, quick: bool, results: dict[str, Figure]) -> list[Figure]:
    module = importlib.import_module(f"benchmarks.{name}")
    kwargs: dict[str, Any] = {"quick": quick}
    if "results" in inspect.signature(module.run).parameters:
        kwargs["results"] = results
    figures: list[Figure] = module.run(**kwargs)
    for figure in figures:
        figure.module = name
        results[figure.key] = figure
    return figures


def run_all(names: list[str], quick: bool) -> tuple[list[Figure], dict[str, float], list[str]]:
    results: dict[str, Figure] = {}
    figures: list[Figure] = []
    seconds: dict[str, float] = {}
    failures: list[str] = []
    for name in names:
        started = time.monotonic()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            figures.extend(run_module(name, quick, results))
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            failures.append(f"{name}: {traceback.format_exc()}")
            print(f"[bench] {name} FAILED\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        seconds[name] = round(time.monotonic() - started, 1)
        print(f"[bench] {name} done in {seconds[name]:.0f} s", file=sys.stderr, flush=True)
    return figures, seconds, failures


# ------------------------------------------------------------------ reporting


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "cycles":
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(figure: Figure) -> str:
    if figure.passed is None:
        return "info"
    return "PASS" if figure.passed else "**MISS**"


def reproduce(figure: Figure) -> str:
    return f"`{BENCH_COMMAND} --only {figure.module}`"


def table(figures: list[Figure]) -> str:
    rows = [
        "| figure | goal | p50 | p99 (or as noted) | runs | result | reproduce |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for f in figures:
        tail = f"{_num(f.tail, f.unit)} {f.unit} ({f.tail_label})" if f.tail_label != "p99" else f"{_num(f.tail, f.unit)} {f.unit}"
        rows.append(
            f"| {f.title} | {f.goal} | {_num(f.p50, f.unit)} {f.unit} | {tail} | {f.runs} | {verdict(f)} | {reproduce(f)} |"
        )
    return "\n".join(rows)


def markdown(
    figures: list[Figure], info: dict[str, Any], seconds: dict[str, float], failures: list[str], command: str
) -> str:
    m = info["machine"]
    out = [
        "# Benchmark results",
        "",
        f"Generated by `{command}` on {info['date']} (total {sum(seconds.values()):.0f} s). "
        "Regenerate with `make bench`; every figure's own command is in the table.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {m['cpu']} |",
        f"| cores | {m['cores']} |",
        f"| RAM | {m['ram_gib']} GiB |",
        f"| OS | {m['os']} (kernel {m['kernel']}) |",
        f"| Python | {m['python']} |",
        f"| textual / pydantic / watchfiles | {m['textual']} / {m['pydantic']} / {m['watchfiles']} |",
        f"| commit | {m['commit']}{' (plus uncommitted changes in engine/, strategies/ or foresight_tui/)' if m['worktree_dirty'] else ''} |",
        f"| load average (1/5/15 min) at start | {' / '.join(f'{x:.2f}' for x in info['load_start'])} |",
        f"| load average at end | {' / '.join(f'{x:.2f}' for x in info['load_end'])} |",
        f"| one core's speed: a 1,000,000-step Python loop, best of 5, at start / end | {_reference(info)} |",
        "",
        "The machine is shared (other engineers run test suites on it); the load average shows how quiet it was.",
        "",
        "## Figures",
        "",
        table(figures),
        "",
    ]
    if failures:
        out += ["## Benchmarks that failed to run", ""]
        out += [f"```\n{failure.strip()}\n```" for failure in failures]
        out.append("")
    out += ["## Notes per figure", ""]
    for f in figures:
        out.append(f"- **{f.title}** ({verdict(f)}): " + "; ".join(f.notes))
    out += ["", "## How each figure is measured", ""]
    for name in dict.fromkeys(f.module for f in figures):
        module = importlib.import_module(f"benchmarks.{name}")
        doc = inspect.getdoc(module) or ""
        out += [f"### `benchmarks/{name}.py` ({seconds.get(name, 0):.0f} s)", "", doc, ""]
    if FINDINGS.exists():
        out += [FINDINGS.read_text().rstrip(), ""]
    out += [
        "## Raw numbers",
        "",
        "Every sample summary (n, p50, p95, p99, mean, min, max) is in `benchmarks/results.json`.",
        "",
    ]
    return "\n".join(out)


def write_reports(out_dir: Path, figures: list[Figure], info: dict[str, Any], seconds: dict[str, float],
                  failures: list[str], command: str) -> None:  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {**info, "seconds": seconds, "failures": failures, "command": command,
            "figures": [f.to_json() for f in figures]}  # fmt: skip
    (out_dir / "results.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (out_dir / "RESULTS.md").write_text(markdown(figures, info, seconds, failures, command))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Foresight Mission Control benchmarks")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and a few iterations (seconds, not minutes)")
    parser.add_argument("--only", default="", help=f"comma-separated modules: {','.join(MODULES)}")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: write RESULTS.md again from results.json and findings.md")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None,
                        help="where RESULTS.md and results.json go (default: benchmarks/ for a full run, nowhere for --quick)")  # fmt: skip
    return parser.parse_args(argv)


def render(out_dir: Path) -> int:
    """RESULTS.md from a results.json written by an earlier run (nothing is measured)."""
    data = json.loads((out_dir / "results.json").read_text())
    figures = [Figure(**f) for f in data["figures"]]
    info = {k: data[k] for k in ("date", "machine", "quick", "load_start", "load_end")}
    info.update({k: data[k] for k in ("cpu_reference_start", "cpu_reference_end") if k in data})
    (out_dir / "RESULTS.md").write_text(markdown(figures, info, data["seconds"], data["failures"], data["command"]))
    print(f"wrote {out_dir / 'RESULTS.md'} from {out_dir / 'results.json'}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        return render(args.out or HERE)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(MODULES)}", file=sys.stderr)
        return 2
    command = " ".join([BENCH_COMMAND, *(argv if argv is not None else sys.argv[1:])])
    info = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "quick": args.quick,
            "load_start": os.getloadavg(), "cpu_reference_start": cpu_reference_ms()}  # fmt: skip
    figures, seconds, failures = run_all(names, args.quick)
    info["load_end"] = os.getloadavg()
    info["cpu_reference_end"] = cpu_reference_ms()
    print(table(figures))
    out_dir = args.out if args.out is not None else (None if args.quick or args.only else HERE)
    if out_dir is not None:
        write_reports(out_dir, figures, info, seconds, failures, command)
        print(f"\nwrote {out_dir / 'RESULTS.md'} and {out_dir / 'results.json'}", file=sys.stderr)
    return 1 if failures else 0


def main_for(module_name: str, argv: list[str] | None = None) -> int:
    """`python -m benchmarks.NAME [--quick] [--out DIR]`: one module."""
    name = module_name.rsplit(".", 1)[-1] if module_name != "__main__" else Path(sys.argv[0]).stem
    rest = list(sys.argv[1:] if argv is None else argv)
    return main(["--only", name, *rest])
