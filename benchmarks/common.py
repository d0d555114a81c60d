"""What every benchmark shares: figures, percentiles, temp strategy copies, a real engine subprocess.

Nothing here asserts a timing: a benchmark measures, the runner compares with
the goal and writes RESULTS.md. The test suite only checks that each benchmark
still produces a finite figure (tests/test_benchmarks_smoke.py).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import engine
from engine.contract.models import STATE_FILE, STATUS_FILE
from engine.reload.manager import DEFAULT_SCOPE
from tests.support.engine_proc import EngineSubprocess

# The project the benchmarks measure: the one `engine` was imported from. Engine
# subprocesses run from there too, so a benchmark of another checkout
# (PYTHONPATH=that-checkout) measures that checkout end to end.
PROJECT_ROOT = Path(engine.__file__).resolve().parent.parent
SHIPPED_STRATEGIES = PROJECT_ROOT / "strategies"
EDIT_MARKER = "# benchmark edit"


# ------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks
    (numpy's default "linear" method). NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = q / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, p99, mean, min, max of a sample (rounded for reports)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 4),
        "p95": round(percentile(values, 95), 4),
        "p99": round(percentile(values, 99), 4),
        "mean": round(sum(values) / len(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


# --------------------------------------------------------------------- figures


@dataclass
class Figure:
    """One row of RESULTS.md: a measured figure, its goal and whether it was met."""

    key: str  # stable id, e.g. "cycle_time_16"
    title: str  # what is measured, for humans
    goal: str  # the goal as text, e.g. "p99 <= 5 ms"
    unit: str  # "ms", "%", "MB", "cycles", "x"
    p50: float | None  # the median (or the figure itself for counts)
    tail: float | None  # p99 or p95, see tail_label
    tail_label: str = "p99"
    runs: int = 0  # number of samples behind p50 and tail
    value: float | None = None  # the number the goal is judged on
    passed: bool | None = None  # None: not judged (informative only)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    module: str = ""  # filled by the runner

    @classmethod
    def of_samples(
        cls,
        key: str,
        title: str,
        samples: Sequence[float],
        *,
        goal: str = "informative",
        limit: float | None = None,
        tail_q: int = 99,
        unit: str = "ms",
        details: dict[str, Any] | None = None,
        notes: list[str] | None = None,
    ) -> Figure:
        """A figure judged on one percentile of `samples` (p`tail_q` <= `limit`), median beside
        it; informative (not judged) without a limit."""
        tail = percentile(samples, tail_q)
        return cls(
            key=key,
            title=title,
            goal=goal,
            unit=unit,
            p50=percentile(samples, 50),
            tail=tail,
            tail_label=f"p{tail_q}",
            runs=len(samples),
            value=tail,
            passed=None if limit is None else tail <= limit,
            details=details or {},
            notes=notes or [],
        )

    def finite(self) -> bool:
        """Every number the figure reports is a real number (what the smoke test checks)."""
        numbers = [self.p50, self.tail, self.value]
        return all(n is not None and math.isfinite(n) for n in numbers)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------- strategies copy


def copy_strategies(dest: Path, source: Path = SHIPPED_STRATEGIES) -> Path:
    """A private copy of the strategy modules to edit between reloads."""
    directory = dest / "strategies"
    directory.mkdir(parents=True, exist_ok=True)
    for name in DEFAULT_SCOPE:
        shutil.copyfile(source / f"{name}.py", directory / f"{name}.py")
    return directory


def edit_strategy(directory: Path, index: int) -> Path:
    """A real code change: rewrite one module's trailing edit line (modules in turn).

    The line is replaced rather than appended, so 300 edits leave every file one
    size and each reload compiles the same amount of source.
    """
    target = directory / f"{DEFAULT_SCOPE[index % len(DEFAULT_SCOPE)]}.py"
    text = target.read_text().split(EDIT_MARKER, 1)[0]
    target.write_text(f"{text}{EDIT_MARKER} {index}\n")
    return target


# ------------------------------------------------------------ the real engine


def read_status_json(state_dir: Path) -> dict[str, Any] | None:
    """status.json as plain JSON (cheap: no model validation); None while missing or torn."""
    try:
        return json.loads((state_dir / STATUS_FILE).read_bytes())
    except (OSError, ValueError):
        return None


def status_stamp(state_dir: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(state_dir / STATUS_FILE)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


class EngineProc(EngineSubprocess):
    """The engine subprocess (tests/support/engine_proc.py), watched through status.json.

    Status is polled with one stat() per millisecond and parsed only when the
    file was replaced, so watching costs the 2-core machine almost nothing.
    """

    POLL_S = 0.001

    def __init__(
        self,
        state_dir: Path,
        *,
        cycle_interval: float = 0.25,
        speed: float = 60.0,
        seed: int = 7,
        extra: Sequence[str] = (),
    ) -> None:
        args = ["--cycle-interval", str(cycle_interval), "--speed", str(speed), "--seed", str(seed), "--quiet", *extra]
        super().__init__(state_dir, args, root=PROJECT_ROOT)
        self.cycle_interval = cycle_interval
        self._stamp: tuple[int, int] | None = None
        self.last: dict[str, Any] | None = None

    def start(self) -> float:
        """Start the process; returns the monotonic time just before the fork."""
        return self.launch()

    def poll_status(self) -> dict[str, Any] | None:
        """The status if status.json was replaced since the last call, else None."""
        stamp = status_stamp(self.state_dir)
        if stamp is None or stamp == self._stamp:
            return None
        status = read_status_json(self.state_dir)
        if status is None:
            return None  # torn read cannot happen with atomic replace, but be defensive
        self._stamp = stamp
        self.last = status
        return status

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0, what: str = "status"
    ) -> tuple[dict[str, Any], float]:
        """Poll until a status satisfies `predicate`; returns it and the monotonic time it was seen."""
        deadline = time.monotonic() + timeout
        if self.last is not None and predicate(self.last):
            return self.last, time.monotonic()
        while True:
            status = self.poll_status()
            now = time.monotonic()
            if status is not None and predicate(status):
                return status, now
            if now > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tail()}")
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"engine exited ({self.proc.returncode}) waiting for {what}\n{self.log_tail()}")
            time.sleep(self.POLL_S)

    def wait_started(self, timeout: float = 30.0) -> dict[str, Any]:
        pid = self.pid
        return self.wait_for(lambda s: s["engine"]["pid"] == pid, timeout, "the engine's first status")[0]

    def wait_cycles(self, count: int, timeout: float = 30.0) -> dict[str, Any]:
        base = (self.last or {"engine": {"cycle": 0}})["engine"]["cycle"]
        return self.wait_for(lambda s: s["engine"]["cycle"] >= base + count, timeout, f"{count} cycles")[0]

    def wait_ack(self, command_id: str, timeout: float = 30.0) -> tuple[dict[str, Any], float]:
        def acked(status: dict[str, Any]) -> bool:
            return any(ack["id"] == command_id for ack in status["control"]["acks"])

        return self.wait_for(acked, timeout, f"ack of {command_id}")

    def rss_kib(self) -> int:
        return proc_status_kib(self.pid, "VmRSS")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        return super().stop(sig, timeout)

    def log_tail(self, chars: int = 2000) -> str:
        return self.log()[-chars:]

    def __enter__(self) -> EngineProc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def proc_status_kib(pid: int, key: str) -> int:
    """A `kB` line of /proc/PID/status (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all threads, from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def state_cycle(state_dir: Path) -> int:
    """The cycle saved in state.json (what a restarted engine resumes from)."""
    return int(json.loads((state_dir / STATE_FILE).read_bytes())["cycle"])
