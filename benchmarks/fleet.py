"""The fleet over NATS: one fleet view over 50 engines, a command across it, the bridge's cost.

A real NATS server (JetStream, 127.0.0.1). Fifty engines' statuses are
published from this process at 1 Hz each, spread over the second (a real
16-slot status.json as the template, `written_at` and the cycle set at each
publish), with a presence beat each; the fleet view (`FleetApp` on its NATS
source) runs headless in its own process and records, for every row it
repaints with a new status, the time since that status was written:

    view latency = status written (published) -> the fleet table repainted with it
    view CPU     = CPU seconds of the view's process / wall seconds x 100 (one core)

Beside them one real engine (16 slots, 1 Hz) with its real bridge:

    command latency = pause/resume sent from the fleet view's source (compare-and-set on
                      <name>.control) -> the status on NATS showing the generation applied
    bridge CPU      = CPU seconds of the bridge / wall seconds x 100, at 16 slots / 1 Hz
    bytes/s         = status.json and presence bytes the bridge publishes per second

    .venv/bin/python -m benchmarks.fleet [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PROJECT_ROOT, EngineProc, Figure, proc_cpu_seconds

ENGINES = 50
SIZE = (200, 60)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
    return env


def child(url: str, out: Path, seconds: float) -> int:
    """The view's process: FleetApp headless for `seconds`, then its latencies to `out`."""
    from datetime import UTC, datetime

    from engine.contract.fleet.options import NatsOptions
    from foresight_tui.fleet.app import FleetApp
    from foresight_tui.fleet.sources import NatsFleet

    latencies: list[float] = []
    shown: dict[str, str] = {}

    class Measured(FleetApp):
        async def on_mount(self) -> None:
            # No super() call: Textual runs the on_mount of every class in the MRO itself, so
            # calling FleetApp's here too would start a second source (two connections and
            # watches, every status decoded twice) that a user's view does not have.
            self.set_timer(seconds, self.exit)

        def refresh_table(self) -> None:
            super().refresh_table()
            now = datetime.now(UTC)
            for name, status in self.source.statuses.items():  # type: ignore[union-attr]
                before = shown.get(name)
                if before != status.written_at:
                    shown[name] = status.written_at
                    if before is not None:  # the first look at an engine is no refresh of it
                        latencies.append(status.age_s(now) * 1000)

    source = NatsFleet(NatsOptions(url=url))
    Measured(source).run(headless=True, size=SIZE)
    out.write_text(json.dumps({"latency_ms": latencies, "updates": source.updates}))
    return 0


async def publish(url: str, template: dict[str, Any], seconds: float) -> int:
    """Fifty engines' statuses at 1 Hz each, evenly spread; returns how many were published."""
    from datetime import UTC, datetime

    from engine.contract.fleet import keys
    from engine.contract.fleet.connect import connect, open_buckets
    from engine.contract.fleet.envelope import Presence
    from engine.contract.fleet.options import NatsOptions

    nc = await connect(NatsOptions(url=url))
    buckets = await open_buckets(nc.jetstream(), create=True)
    names = [f"bench-{i:02d}" for i in range(ENGINES)]
    published = 0
    started = time.monotonic()
    tick = 0
    try:
        while time.monotonic() - started < seconds:
            for i, name in enumerate(names):
                due = started + tick + i / ENGINES
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                now = datetime.now(UTC).isoformat(timespec="milliseconds")
                status = dict(template)
                status["written_at"] = now
                status["engine"] = {**template["engine"], "cycle": tick, "host": f"host-{i % 3}"}
                await buckets.status.put(keys.status_key(name), json.dumps(status).encode())
                published += 1
                if tick % 3 == 0:
                    presence = Presence(name=name, host=f"host-{i % 3}", bridge_pid=0, state_dir="-", started_at=now, at=now)
                    await buckets.presence.put(keys.presence_key(name), presence.model_dump_json().encode())
            tick += 1
    finally:
        await nc.close()
    return published


def view_figures(url: str, template: dict[str, Any], warm_up_s: float, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-view-") as tmp:
        out = Path(tmp) / "view.json"
        asyncio.run(publish(url, template, 0.1))  # the buckets and every row exist before the view starts
        view = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fleet", "--child", url, str(out), str(warm_up_s + seconds)],
            cwd=PROJECT_ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            async def timed() -> tuple[int, float, float]:
                task = asyncio.create_task(publish(url, template, warm_up_s + seconds))
                await asyncio.sleep(warm_up_s)
                wall, cpu = time.monotonic(), proc_cpu_seconds(view.pid)
                published = await task
                return published, time.monotonic() - wall, proc_cpu_seconds(view.pid) - cpu

            published, wall_s, cpu_s = asyncio.run(timed())
            view.wait(30)
            if view.returncode != 0 or not out.exists() or not json.loads(out.read_text())["latency_ms"]:
                raise RuntimeError(f"the fleet view exited ({view.returncode}): {view.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        finally:
            if view.poll() is None:
                view.kill()
                view.wait()
            if view.stderr is not None:
                view.stderr.close()
        result = json.loads(out.read_text())
    return {**result, "cpu_percent": cpu_s / wall_s * 100, "published": published, "seconds": wall_s}


def engine_figures(url: str, samples: int, cpu_seconds: float) -> dict[str, Any]:
    from engine.contract.fleet.options import NatsOptions
    from foresight_tui.fleet.sources import NatsFleet

    rng = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="bench-fleet-engine-") as tmp:
        state_dir = Path(tmp) / "state"
        with EngineProc(state_dir, cycle_interval=1.0, speed=60.0) as engine:
            engine.start()
            engine.wait_started(timeout=60)
            bridge = subprocess.Popen(
                [sys.executable, "-m", "engine", "bridge", "--state-dir", str(state_dir), "--nats", url, "--name", "bench-real"],
                cwd=PROJECT_ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                source = NatsFleet(NatsOptions(url=url))

                async def measure() -> tuple[list[float], float, float]:
                    await source.start(lambda: None)
                    while "bench-real" not in source.statuses:
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(1.0)  # the bridge's start-up is not its steady cost
                    wall, cpu = time.monotonic(), proc_cpu_seconds(bridge.pid)
                    latencies = []
                    for i in range(samples):
                        await asyncio.sleep(rng.uniform(0, 1.0))  # a random phase of the engine's cycle
                        sent = time.monotonic()
                        answer = await source.set_paused("bench-real", i % 2 == 0)
                        if "at cycle" not in answer:
                            raise RuntimeError(f"the engine did not apply a command: {answer}")
                        latencies.append((time.monotonic() - sent) * 1000)
                    rest = cpu_seconds - (time.monotonic() - wall)
                    if rest > 0:
                        await asyncio.sleep(rest)
                    wall_s, cpu_s = time.monotonic() - wall, proc_cpu_seconds(bridge.pid) - cpu
                    await source.stop()
                    return latencies, cpu_s / wall_s * 100, wall_s

                latencies, bridge_cpu, wall_s = asyncio.run(measure())
                status_bytes = (state_dir / "status.json").stat().st_size
                template = json.loads((state_dir / "status.json").read_text())
            finally:
                bridge.terminate()
                bridge.wait(10)
    return {"latency_ms": latencies, "bridge_cpu_percent": bridge_cpu, "seconds": wall_s, "status_bytes": status_bytes,
            "template": template}  # fmt: skip


def run(quick: bool = False) -> list[Figure]:
    from tests.support.nats_server import NatsServer, unavailable

    with tempfile.TemporaryDirectory(prefix="bench-fleet-nats-") as tmp:
        why = unavailable(Path(tmp) / "probe")
        if why:
            raise RuntimeError(f"needs a NATS server: {why}")
        server = NatsServer(Path(tmp) / "nats").start()
        try:
            url = server.url()
            real = engine_figures(url, samples=2 if quick else 30, cpu_seconds=2 if quick else 30)
            view = view_figures(url, real.pop("template"), warm_up_s=1.5 if quick else 5.0, seconds=1.5 if quick else 30.0)
        finally:
            server.kill()
    presence_bytes = 330  # a Presence document, every 3 s
    per_engine = real["status_bytes"] + presence_bytes / 3
    lat = view["latency_ms"]
    return [
        Figure.of_samples("fleet_view_latency", f"fleet view: status written to the table repainted, {ENGINES} engines at 1 Hz",
                          lat, goal="p99 <= 1000 ms", limit=1000.0,
                          notes=[f"{len(lat)} repaints of {view['published']} statuses published, {view['updates']} received"]),  # fmt: skip
        Figure(key="fleet_view_cpu", title=f"fleet view CPU per wall second, {ENGINES} engines at 1 Hz", goal="<= 15 % of one core",
               unit="%", p50=view["cpu_percent"], tail=view["cpu_percent"], tail_label="whole run", runs=1,
               value=view["cpu_percent"], passed=view["cpu_percent"] <= 15.0,
               notes=[f"{view['cpu_percent']:.1f} % over {view['seconds']:.0f} s"]),  # fmt: skip
        Figure.of_samples("fleet_command_latency", "fleet view pause/resume to applied in the engine's status on NATS (1 s cycles)",
                          real["latency_ms"], goal="p99 <= 1 cycle interval + 50 ms (1050 ms)", limit=1050.0),  # fmt: skip
        Figure(key="fleet_bridge_cpu", title="bridge CPU per wall second, one engine at 16 slots / 1 Hz", goal="informative",
               unit="%", p50=real["bridge_cpu_percent"], tail=real["bridge_cpu_percent"], tail_label="whole run", runs=1,
               value=real["bridge_cpu_percent"], passed=None,
               notes=[f"{real['bridge_cpu_percent']:.2f} % over {real['seconds']:.0f} s with {len(real['latency_ms'])} commands"]),  # fmt: skip
        Figure(key="fleet_bytes_per_engine", title="bytes a second one engine's bridge publishes (16 slots, 1 Hz)", goal="informative",
               unit="B/s", p50=per_engine, tail=per_engine, tail_label="computed", runs=1, value=per_engine, passed=None,
               notes=[f"status.json {real['status_bytes']} B a cycle, presence ~{presence_bytes} B every 3 s, plus NATS/JetStream framing"]),  # fmt: skip
    ]


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        raise SystemExit(child(sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])))
    from benchmarks.runner import main_for

    raise SystemExit(main_for(__name__))
