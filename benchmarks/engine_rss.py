"""Engine RSS growth over 300 reloads (goal <= 2 MB).

A real engine subprocess (cycle interval 50 ms) on a temporary copy of the
strategies. It runs 100 cycles, then 10 warm-up reloads (the first swap starts
keeping a previous version for rollback, allocator pools fill), then 300
reloads, each after a real edit of one module, sent through ControlWriter and
waited for until acknowledged `applied`. VmRSS comes from /proc/PID/status.

    growth = VmRSS after the 300 reloads - VmRSS after the warm-up reloads

The growth from before the very first reload, the high-water mark and a
no-reload control (the same engine idling for as many cycles after the
reloads) are reported beside it. 1 MB = 1024 KiB here.

    .venv/bin/python -m benchmarks.engine_rss [--quick]
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import EngineProc, Figure, copy_strategies, edit_strategy, proc_status_kib
from engine.contract.control_writer import ControlWriter

GOAL_MB = 2.0
CYCLE_INTERVAL_S = 0.05
WARM_UP_RELOADS = 10


def reload_once(engine: EngineProc, writer: ControlWriter, strategies: Path, index: int) -> None:
    edit_strategy(strategies, index)
    _, command = writer.send_command("reload")
    status, _ = engine.wait_ack(command.id)
    ack = next(a for a in status["control"]["acks"] if a["id"] == command.id)
    if ack["result"] != "applied":
        raise RuntimeError(f"reload {index} was {ack['result']}: {ack.get('detail')}")


def measure(reloads: int, warm_up: int = WARM_UP_RELOADS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-engine-rss-") as tmp:
        root = Path(tmp)
        strategies = copy_strategies(root)
        engine = EngineProc(
            root / "state", cycle_interval=CYCLE_INTERVAL_S, speed=60.0, extra=("--strategies-path", str(strategies))
        )
        writer = ControlWriter(root / "state", tool="benchmark")
        with engine:
            engine.start()
            engine.wait_started()
            engine.wait_cycles(100)
            rss_start = engine.rss_kib()
            for i in range(warm_up):
                reload_once(engine, writer, strategies, i)
            rss_base = engine.rss_kib()
            trace = [(0, rss_base)]
            started = int(engine.last["engine"]["cycle"])  # type: ignore[index]
            for i in range(reloads):
                reload_once(engine, writer, strategies, warm_up + i)
                if (i + 1) % 25 == 0 or i + 1 == reloads:
                    trace.append((i + 1, engine.rss_kib()))
            rss_after = engine.rss_kib()
            cycles = int(engine.last["engine"]["cycle"]) - started  # type: ignore[index]
            # Control: as many cycles again without any reload.
            engine.wait_cycles(cycles, timeout=cycles * CYCLE_INTERVAL_S * 5 + 30)
            rss_control = engine.rss_kib()
            hwm = proc_status_kib(engine.pid, "VmHWM")
            reloads_reported = int(engine.last["code"]["reloads"])  # type: ignore[index]
    return {
        "rss_kib_before_first_reload": rss_start,
        "rss_kib_after_warm_up": rss_base,
        "rss_kib_after_reloads": rss_after,
        "rss_kib_after_idle_control": rss_control,
        "vm_hwm_kib": hwm,
        "growth_kib": rss_after - rss_base,
        "growth_kib_from_first_reload": rss_after - rss_start,
        "idle_control_growth_kib": rss_control - rss_after,
        "reload_cycles": cycles,
        "reloads_reported_by_engine": reloads_reported,
        "trace_kib": trace,
    }


def run(quick: bool = False) -> list[Figure]:
    reloads = 10 if quick else 300
    result = measure(reloads, warm_up=2 if quick else WARM_UP_RELOADS)
    growth_mb = result["growth_kib"] / 1024
    return [
        Figure(
            key="engine_rss_growth",
            title=f"engine RSS growth over {reloads} reloads",
            goal=f"<= {GOAL_MB:g} MB",
            unit="MB",
            p50=growth_mb,
            tail=result["growth_kib_from_first_reload"] / 1024,
            tail_label="incl. warm-up",
            runs=reloads,
            value=growth_mb,
            passed=growth_mb <= GOAL_MB,
            details=result,
            notes=[
                f"VmRSS {result['rss_kib_after_warm_up'] / 1024:.1f} MB after the warm-up reloads -> "
                f"{result['rss_kib_after_reloads'] / 1024:.1f} MB after {reloads} more "
                f"(before any reload {result['rss_kib_before_first_reload'] / 1024:.1f} MB; high-water "
                f"{result['vm_hwm_kib'] / 1024:.1f} MB)",
                f"no-reload control, {result['reload_cycles']} more cycles: "
                f"{result['idle_control_growth_kib'] / 1024:+.2f} MB",
                "trace (reloads, MB): "
                + ", ".join(f"{n}: {kib / 1024:.1f}" for n, kib in result["trace_kib"]),
            ],
        )
    ]


if __name__ == "__main__":
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
