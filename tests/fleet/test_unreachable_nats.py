"""No NATS server where the URL points: the bridge, ctl and the fleet view say so, with the
reason, and keep their promises (the bridge retries and still stops on SIGTERM)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from engine.contract.fleet.options import NatsOptions
from foresight_tui.fleet.sources import NatsFleet
from tests.support.engine_proc import ROOT
from tests.support.nats_server import closed_port_url
from tests.support.waits import wait_until


def test_a_bridge_with_no_server_says_why_keeps_trying_and_stops_on_sigterm(tmp_path: Path) -> None:
    log_path = tmp_path / "bridge.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "bridge", "--state-dir", str(tmp_path / "state"), "--nats", closed_port_url(), "--name", "lonely"],
            cwd=ROOT, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        said = wait_until(lambda: log_path.read_text().count("unreachable") >= 2 and log_path.read_text(), "two failed attempts logged")
        assert "refused" in said.lower() and "retrying. The engine is not affected." in said
        # Its state directory holds no engine yet: it says so, in case --state-dir is mistyped.
        assert f"no status.json in {tmp_path / 'state'} yet" in said and "--state-dir" in said
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ctl_with_no_server_says_why_and_exits_3(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "ctl", "--nats", closed_port_url(), "--engine", "bot-a", "pause"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "cannot reach NATS" in result.stderr and "refused" in result.stderr.lower()


async def test_the_fleet_view_with_no_server_shows_why_and_keeps_trying() -> None:
    fleet = NatsFleet(NatsOptions(url=closed_port_url()))
    changes = asyncio.Event()
    await fleet.start(changes.set)
    try:
        await asyncio.wait_for(changes.wait(), 20)
        assert fleet.problem is not None and "refused" in fleet.problem.lower() and "retrying" in fleet.problem
    finally:
        await fleet.stop()
