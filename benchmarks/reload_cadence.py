"""Cycles skipped or late because of a reload, over 300 reloads (goal 0).

A real engine subprocess runs on a temporary copy of the strategies. Two
phases on the same process:

1. baseline: no reload, for a while;
2. reloads: 300 times, edit a strategy module, send `reload` through the
   project's ControlWriter (the same write `foresight ctl reload` makes) and
   wait for its `applied` ack in status.json; the next reload is sent as soon
   as the previous one is acknowledged, so every cycle of this phase reloads.

The judged run is at the demo's cadence (`--cycle-interval 0.25`, the fastest
the project ships). A stress run at 50 ms cycles (20 Hz, the test suite's
fast clock; 100 reloads, one every other cycle) shows where reloads start to
cost cycles; it is informative.

Every status.json is observed (one stat() per ms; a missed cycle is counted).
Per cycle we know its number, `written_at`, and its own duration (the next
status's `engine.last_cycle_ms`); the cycle whose status first carries a
command's ack is that reload's cycle.

Definitions:

- **late**: a cycle that starts after its slot in the schedule. The loop is
  deadline based (cycle k starts at start + k x interval), so a cycle is late
  exactly when the cycle before it ran longer than the interval; the engine
  counts those cycles in `status.engine.overruns`. A late cycle is *because of
  a reload* when the overrunning cycle is a reload cycle.
- **skipped**: a slot of the schedule in which no cycle ran. Over a phase,
  skipped = round((written_at of the last cycle - written_at of the first) /
  interval) - (last cycle number - first cycle number), floored at 0.

The figure is late-because-of-a-reload + skipped in the reload phase; the
baseline's counts are the machine's own noise under the same conditions.

    .venv/bin/python -m benchmarks.reload_cadence [--quick]
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.common import EngineProc, Figure, copy_strategies, edit_strategy, summary
from engine.contract.control_writer import ControlWriter

CYCLE_INTERVAL_S = 0.25  # the judged run: the demo's cadence
STRESS_INTERVAL_S = 0.05  # the informative run: the test suite's fast clock
SPEED = 60.0


@dataclass
class CycleLog:
    """Every status the observer saw, by cycle number."""

    written: dict[int, float] = field(default_factory=dict)  # cycle -> written_at (epoch s)
    duration_ms: dict[int, float] = field(default_factory=dict)  # cycle -> its own duration
    overruns: dict[int, int] = field(default_factory=dict)  # cycle -> engine.overruns in its status
    acked_in: dict[str, int] = field(default_factory=dict)  # command id -> cycle whose status first had the ack
    ack_result: dict[str, str] = field(default_factory=dict)

    def record(self, status: dict[str, Any]) -> None:
        engine = status["engine"]
        cycle = int(engine["cycle"])
        self.written[cycle] = datetime.fromisoformat(status["written_at"]).timestamp()
        # last_cycle_ms in the status of cycle n is the duration of cycle n-1 (timed after it returned).
        self.duration_ms[cycle - 1] = float(engine["last_cycle_ms"])
        self.overruns[cycle] = int(engine["overruns"])
        for ack in status["control"]["acks"]:
            if ack["id"] not in self.acked_in:
                self.acked_in[ack["id"]] = cycle
                self.ack_result[ack["id"]] = ack["result"]


def observe(engine: EngineProc, log: CycleLog, until: float) -> None:
    while time.monotonic() < until:
        status = engine.poll_status()
        if status is not None:
            log.record(status)
        time.sleep(EngineProc.POLL_S)


def wait_for_cycle(engine: EngineProc, log: CycleLog, cycle: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while max(log.written, default=0) < cycle:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no status for cycle {cycle}\n{engine.log_tail()}")
        status = engine.poll_status()
        if status is not None:
            log.record(status)
        else:
            time.sleep(EngineProc.POLL_S)


def phase_figures(log: CycleLog, first: int, last: int, reload_cycles: set[int], interval: float) -> dict[str, Any]:
    """Counts for cycles first..last (inclusive) of one phase."""
    seen = [c for c in range(first, last + 1) if c in log.written]
    missed = (last - first + 1) - len(seen)
    elapsed = log.written[seen[-1]] - log.written[seen[0]]
    advanced = seen[-1] - seen[0]
    skipped = max(0, round(elapsed / interval) - advanced)
    interval_ms = interval * 1000
    durations = {c: log.duration_ms[c] for c in seen if c in log.duration_ms}
    overran = sorted(c for c, d in durations.items() if d > interval_ms)
    late_by_reload = [c for c in overran if c in reload_cycles]
    # The delay a cycle's status shows against the cadence: gap to the previous status minus one interval.
    delays = [
        (log.written[c] - log.written[c - 1]) * 1000 - interval_ms for c in seen if c - 1 in log.written
    ]
    own = [d for c, d in durations.items() if c in reload_cycles]
    ordinary = [d for c, d in durations.items() if c not in reload_cycles]
    overruns_delta = log.overruns.get(seen[-1], 0) - log.overruns.get(seen[0], 0)
    return {
        "cycles": last - first + 1,
        "cycles_missed_by_observer": missed,
        "elapsed_s": round(elapsed, 3),
        "skipped": skipped,
        "late_total": len(overran),
        "late_because_of_reload": len(late_by_reload),
        "engine_overruns_delta": overruns_delta,
        "status_delay_ms": summary(delays),
        "reload_cycle_duration_ms": summary(own),
        "ordinary_cycle_duration_ms": summary(ordinary),
    }


def measure(reloads: int, interval: float = CYCLE_INTERVAL_S, baseline_cycles: int = 120, gap: int = 0) -> dict[str, Any]:
    """`gap` ordinary cycles are let pass between a reload's ack and the next reload."""
    with tempfile.TemporaryDirectory(prefix="bench-reload-cadence-") as tmp:
        root = Path(tmp)
        strategies = copy_strategies(root)
        state_dir = root / "state"
        engine = EngineProc(
            state_dir, cycle_interval=interval, speed=SPEED, extra=("--strategies-path", str(strategies))
        )
        writer = ControlWriter(state_dir, tool="benchmark")
        log = CycleLog()
        with engine:
            engine.start()
            engine.wait_started()
            wait_for_cycle(engine, log, int(engine.last["engine"]["cycle"]) + 10)  # type: ignore[index]
            # Phase 1: the baseline.
            base_first = max(log.written) + 1
            observe(engine, log, time.monotonic() + baseline_cycles * interval)
            base_last = max(log.written)
            # Phase 2: the reloads.
            reload_first = base_last + 1
            wait_for_cycle(engine, log, reload_first)
            ids: list[str] = []
            pauses: list[float] = []
            prepared: list[float] = []  # preparation done in the wait before the boundary
            for i in range(reloads):
                edit_strategy(strategies, i)
                _, command = writer.send_command("reload")
                ids.append(command.id)
                deadline = time.monotonic() + 20
                while command.id not in log.acked_in:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"reload {i} not acknowledged\n{engine.log_tail()}")
                    status = engine.poll_status()
                    if status is not None:
                        log.record(status)
                        last = status["code"].get("last_reload") or {}
                        if command.id in log.acked_in and last.get("kind") == "reload":
                            pauses.append(float(last["duration_ms"]))
                            if last.get("prepared_ms") is not None:
                                prepared.append(float(last["prepared_ms"]))
                    else:
                        time.sleep(EngineProc.POLL_S)
                if log.ack_result[command.id] != "applied":
                    raise RuntimeError(f"reload {i} was {log.ack_result[command.id]}\n{engine.log_tail()}")
                if gap:
                    wait_for_cycle(engine, log, log.acked_in[command.id] + gap)
            reload_last = max(log.written)
            wait_for_cycle(engine, log, reload_last + 1)  # the duration of the last cycle
        reload_cycles = {log.acked_in[i] for i in ids}
    return {
        "cycle_interval_s": interval,
        "baseline": phase_figures(log, base_first, base_last, set(), interval),
        "reloads": phase_figures(log, reload_first, reload_last, reload_cycles, interval),
        "reload_count": len(ids),
        "reload_pause_in_engine_ms": summary(pauses),
        "prepared_between_cycles_ms": summary(prepared),
    }


def figure(result: dict[str, Any], judged: bool) -> Figure:
    phase = result["reloads"]
    base = result["baseline"]
    interval_ms = result["cycle_interval_s"] * 1000
    value = phase["late_because_of_reload"] + phase["skipped"]
    delay = phase["status_delay_ms"]
    own = phase["reload_cycle_duration_ms"]
    return Figure(
        key="reload_cycles_late_or_skipped" if judged else "reload_cycles_late_or_skipped_stress",
        title=f"cycles skipped or late because of a reload, over {result['reload_count']} reloads, "
        f"{interval_ms:.0f} ms cycles" + ("" if judged else " (stress)"),
        goal="0" if judged else "informative",
        unit="cycles",
        p50=float(value),
        tail=float(value),
        tail_label="total",
        runs=result["reload_count"],
        value=float(value),
        passed=(value == 0) if judged else None,
        details=result,
        notes=[
            f"reload phase: late {phase['late_because_of_reload']} (of {phase['late_total']} overrunning cycles), "
            f"skipped {phase['skipped']}, over {phase['cycles']} cycles; baseline (no reload): "
            f"late {base['late_total']}, skipped {base['skipped']} over {base['cycles']} cycles",
            f"a reload cycle's own duration: p50 {own.get('p50', 0):.1f} ms, p99 {own.get('p99', 0):.1f} ms, "
            f"max {own.get('max', 0):.1f} ms (ordinary cycles p50 {phase['ordinary_cycle_duration_ms'].get('p50', 0):.1f} ms, "
            f"baseline p50 {base['ordinary_cycle_duration_ms'].get('p50', 0):.1f} ms) against a {interval_ms:.0f} ms interval",
            f"reload pause inside the engine (status code.last_reload): p50 "
            f"{result['reload_pause_in_engine_ms'].get('p50', 0):.2f} ms, p99 {result['reload_pause_in_engine_ms'].get('p99', 0):.2f} ms; "
            f"{result['prepared_between_cycles_ms'].get('n', 0)} of {result['reload_count']} reloads prepared in the wait "
            f"between cycles (p50 {result['prepared_between_cycles_ms'].get('p50', 0):.1f} ms of work there)",
            f"status cadence in the reload phase, delay vs one interval: p50 {delay.get('p50', 0):+.1f} ms, "
            f"p99 {delay.get('p99', 0):+.1f} ms (baseline p99 {base['status_delay_ms'].get('p99', 0):+.1f} ms)",
        ],
    )


def run(quick: bool = False) -> list[Figure]:
    if quick:
        judged = measure(5, CYCLE_INTERVAL_S, baseline_cycles=4)
        stress = measure(5, STRESS_INTERVAL_S, baseline_cycles=10, gap=1)
    else:
        judged = measure(300, CYCLE_INTERVAL_S, baseline_cycles=120)
        stress = measure(100, STRESS_INTERVAL_S, baseline_cycles=200, gap=1)
    return [figure(judged, True), figure(stress, False)]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
