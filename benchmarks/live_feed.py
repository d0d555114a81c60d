"""The live feed's cost: 8 assets with trades arriving at ~500 a second from a local server speaking
Binance's combined-stream format (tests/support/fake_exchange.py, in its own process), and the
engine's cycle time at 16 slots while it runs (goal: p99 <= 2 ms, as without it).

Reported: the CPU the feed's thread takes per second (at 1 s cycles, per cycle) while the engine
idles between cycles; the market's step in each cycle (prices and feed health read under the
feed's lock) beside the simulated market's; and the cycle time, timed as benchmarks/cycle_time.py
times it (in process, each cycle then the loop's between-cycles work), one every 20 ms. The same
engine on the simulated market is measured first, while the exchange streams to no one: the
live feed's thread, once started, runs until the process ends, and the comparison must not
carry it. The exchange's own CPU, on the same two cores, is reported beside the feed's, and
the CPU the feed's thread used inside the cycles (what takes turns with the cycle at the GIL).

    .venv/bin/python -m benchmarks.live_feed [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, SHIPPED_STRATEGIES, Figure, percentile, summary
from engine.config import EngineConfig
from engine.loop import Engine
from tests.support.engine_proc import stop_process

RATE = 500.0
GOAL_P99_MS = 2.0
WARM_UP = 130
CYCLES = 900
IDLE_S = 3.0
# A cycle every 20 ms: the engine idles between cycles as it does at any real cadence (most of a
# 1 s interval), and a live feed's thread works then; cycles back to back would leave it only
# the cycles themselves.
PACE_S = 0.02


class StepTimedEngine(Engine):
    step_ms: list[float]

    def open(self) -> None:
        super().open()
        advance = self.market.advance

        def timed(to: float) -> None:
            started = time.perf_counter()
            advance(to)
            self.step_ms.append((time.perf_counter() - started) * 1000)

        self.market.advance = timed  # type: ignore[method-assign]


def _engine(state_dir: Path, feed: str, url: str | None) -> StepTimedEngine:
    config = EngineConfig(
        state_dir=state_dir, speed=1.0, cycle_interval_s=1.0, seed=7, feed=feed, feed_url=url, strategies_path=SHIPPED_STRATEGIES
    )
    engine = StepTimedEngine(config)
    engine.step_ms = []
    engine.open()
    return engine


def _cycles(engine: Engine, count: int, feed_clock: int | None = None, feed_ms: list[float] | None = None) -> list[float]:
    """`count` cycles, one every PACE_S; with `feed_clock` (the feed thread's CPU clock), the
    CPU that thread used inside each cycle goes to `feed_ms`."""
    durations = []
    for _ in range(count):
        begun = time.monotonic()
        feed_cpu = time.clock_gettime(feed_clock) if feed_clock is not None else 0.0
        started = time.perf_counter()
        engine.cycle()
        durations.append((time.perf_counter() - started) * 1000)
        if feed_clock is not None and feed_ms is not None:
            feed_ms.append((time.clock_gettime(feed_clock) - feed_cpu) * 1000)
        engine.between.wait_until(begun + PACE_S)
    return durations


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(cycles: int, warm_up: int, idle_s: float) -> dict[str, Any]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_exchange", str(RATE)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
            # The simulated market first: the live engine's feed thread runs until the process
            # ends, and the comparison must not carry it. The exchange streams meanwhile, to
            # no one: what it costs this machine's two cores is in both figures.
            sim = _engine(Path(tmp) / "sim", "sim", None)
            try:
                _cycles(sim, warm_up)
                sim.step_ms = []
                sim_durations = _cycles(sim, cycles)
                sim_steps = sim.step_ms
            finally:
                sim.lock.release()
            engine = _engine(Path(tmp) / "live", "binance", url)
            try:
                _cycles(engine, warm_up)
                feed = engine.market.feed
                messages, cpu, wall = feed.messages, time.process_time(), time.monotonic()  # type: ignore[attr-defined]
                server_cpu = _cpu_s(server.pid)
                time.sleep(idle_s)  # the engine between cycles: all the process does is the feed's thread
                elapsed = time.monotonic() - wall
                cpu_per_s = (time.process_time() - cpu) / elapsed * 1000
                server_cpu_per_s = (_cpu_s(server.pid) - server_cpu) / elapsed * 1000
                rate = (feed.messages - messages) / elapsed  # type: ignore[attr-defined]
                engine.step_ms = []
                feed_in_cycles: list[float] = []
                clock = time.pthread_getcpuclockid(feed._thread.ident)  # type: ignore[attr-defined]
                durations = _cycles(engine, cycles, clock, feed_in_cycles)
                live_steps = engine.step_ms
                dropped = feed.drops  # type: ignore[attr-defined]
            finally:
                engine.lock.release()
    finally:
        stop_process(server)  # type: ignore[arg-type]
    return {
        "cycle_ms": durations, "live_step_ms": live_steps, "sim_step_ms": sim_steps, "sim_cycle_ms": sim_durations,
        "feed_cpu_ms_per_s": cpu_per_s, "feed_in_cycle_ms": feed_in_cycles, "server_cpu_ms_per_s": server_cpu_per_s, "rate": rate, "drops": dropped,
    }  # fmt: skip


def run(quick: bool = False) -> list[Figure]:
    cycles, warm_up, idle = (3, 3, 0.5) if quick else (CYCLES, WARM_UP, IDLE_S)
    result = measure(cycles, warm_up, idle)
    durations = result["cycle_ms"]
    p99 = percentile(durations, 99)
    live, sim = result["live_step_ms"], result["sim_step_ms"]
    cpu = result["feed_cpu_ms_per_s"]
    notes = [
        f"trades arriving: {result['rate']:.0f} a second over 8 assets; connection drops: {result['drops']}",
        f"the same engine on the simulated market, same run, before the live feed starts: cycle p50 "
        f"{percentile(result['sim_cycle_ms'], 50):.2f} ms, p99 {percentile(result['sim_cycle_ms'], 99):.2f} ms",
        f"the feed's thread: {cpu:.1f} ms of CPU a second ({cpu / 10:.1f} % of a core), so {cpu:.1f} ms a 1 s cycle, off the cycle; "
        f"the local exchange sending the trades, on the same two cores: {result['server_cpu_ms_per_s']:.1f} ms a second",
        f"the feed thread's CPU inside a cycle (its work that competes with the cycle for the GIL): "
        f"p50 {percentile(result['feed_in_cycle_ms'], 50):.3f} ms, p99 {percentile(result['feed_in_cycle_ms'], 99):.3f} ms, "
        f"mean {sum(result['feed_in_cycle_ms']) / max(len(result['feed_in_cycle_ms']), 1):.3f} ms",
        f"the market's step in a cycle: live p50 {percentile(live, 50):.3f} ms, p99 {percentile(live, 99):.3f} ms; "
        f"simulated p50 {percentile(sim, 50):.3f} ms, p99 {percentile(sim, 99):.3f} ms",
    ]
    return [
        Figure(
            key="live_feed_cycle_time_16",
            title="engine cycle time at 16 slots on the live feed (500 trades/s)",
            goal=f"p99 <= {GOAL_P99_MS:g} ms",
            unit="ms",
            p50=percentile(durations, 50),
            tail=p99,
            runs=len(durations),
            value=p99,
            passed=p99 <= GOAL_P99_MS,
            details={
                "cycle_ms": summary(durations),
                "live_step_ms": summary(live),
                "sim_step_ms": summary(sim),
                "sim_cycle_ms": summary(result["sim_cycle_ms"]),
                "feed_cpu_ms_per_s": round(cpu, 3),
                "feed_in_cycle_ms": summary(result["feed_in_cycle_ms"] or [0.0]),
                "server_cpu_ms_per_s": round(result["server_cpu_ms_per_s"], 3),
                "trades_per_s": round(result["rate"], 1),
            },
            notes=notes,
        ),
        Figure(
            key="live_feed_cpu",
            title="live feed thread CPU, 8 assets at 500 trades/s",
            goal="informative",
            unit="ms/s",
            p50=cpu,
            tail=cpu,
            runs=1,
            value=cpu,
            passed=None,
            details={"trades_per_s": round(result["rate"], 1)},
            notes=notes[:2],
        ),
    ]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
