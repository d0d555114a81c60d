"""Alerts outside the terminal, received by a notification service on 127.0.0.1 (apprise's json://):
from a real engine (started, a tripped risk limit, a version failing live and rolled back, stopped)
and from `foresight watch` (DOWN after a kill -9, recovered after the restart)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.contract.control_writer import ControlWriter
from engine.contract.models import RiskLimits
from engine.contract.paths import shipped_strategies_dir
from tests.support.engine_proc import ROOT, EngineProcess, run_engine, run_watch, stop_process
from tests.support.ledger_rows import FASTER
from tests.support.notify_sink import notify_sink
from tests.support.waits import wait_until

# Passes the reload's smoke test (its history step is 2.5 s) and fails on this engine's market (60 s).
FAILS_LIVE = """

_evaluate_before = evaluate


def evaluate(view, params):
    if view.history_step_s > 30:
        raise RuntimeError("fails on the live market only")
    return _evaluate_before(view, params)
"""


def titled(text: str):
    return lambda body: text in str(body.get("title", ""))


def test_engine_and_watcher_notify_a_local_service(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    strategies = tmp_path / "strategies"
    shutil.copytree(shipped_strategies_dir(), strategies, ignore=shutil.ignore_patterns("__pycache__"))
    writer = ControlWriter(state_dir, tool="test")
    writer.update(lambda c: setattr(c, "risk", RiskLimits(max_drawdown=5)))
    with notify_sink() as sink:

        def told(title: str) -> int:
            return sum(title in t for t in sink.titles())

        args = ("--notify", sink.url, "--strategies-path", str(strategies))
        engine = EngineProcess(state_dir, *args, fast=FASTER).start()
        watcher = subprocess.Popen(
            [sys.executable, "-m", "engine", "watch", "--state-dir", str(state_dir), "--notify", sink.url, "--interval", "0.1"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            started = sink.wait_for(titled("engine started"))
            assert f"pid {engine.pid}" in started["message"]
            trip = sink.wait_for(titled("risk limit max_drawdown tripped"), timeout=30)
            assert "max_drawdown=5 reached" in trip["message"] and trip["type"] == "failure"

            with (strategies / "strategy.py").open("a") as handle:
                handle.write(FAILS_LIVE)
            _, command = writer.send_command("reload")
            assert engine.wait_ack(command.id, timeout=20).control.acks[-1].result == "rolled_back"
            rolled = sink.wait_for(titled("version failing live, rolled back"))
            assert "fails on the live market only" in rolled["message"]

            engine.kill9()
            down = sink.wait_for(titled("foresight engine DOWN"))
            assert f"pid {engine.pid} is gone" in down["message"]
            engine = EngineProcess(state_dir, *args, fast=FASTER).start()
            back = sink.wait_for(titled("foresight engine recovered"))
            assert "restarted" in back["message"]
            # It crashes again within minutes: each DOWN and each recovery is told, so the last
            # notification always says how the engine is now.
            engine.kill9()
            wait_until(lambda: told("foresight engine DOWN") == 2, "the second DOWN", timeout=20)
            engine = EngineProcess(state_dir, *args, fast=FASTER).start()
            wait_until(lambda: told("foresight engine recovered") == 2, "the second recovery", timeout=20)
            assert engine.stop() == 0
            sink.wait_for(titled("engine stopped"))
            assert sink.titles().count("foresight: risk limit max_drawdown tripped") == 1  # a trip is told once
        finally:
            engine.stop()
            assert stop_process(watcher) == 0  # type: ignore[arg-type]


def test_a_down_notification_service_never_stops_the_engine(tmp_path: Path) -> None:
    with notify_sink() as sink:
        refused = sink.url  # closed below: connections to it are refused
    engine = EngineProcess(tmp_path / "state", "--notify", refused, fast=FASTER).start()
    engine.wait_cycles(20)
    assert engine.stop() == 0
    # The trouble is said once in events.jsonl (and status), never by stopping or slowing the loop.
    events = (tmp_path / "state" / "events.jsonl").read_text()
    assert events.count("are not delivered; retried") == 1


def test_a_url_apprise_does_not_know_is_refused_at_start(tmp_path: Path) -> None:
    done = run_engine(tmp_path / "s", "--notify", "nosuch://token@host", "--max-cycles", "1")
    assert done.returncode == 2 and "apprise does not know this URL" in done.stderr
    empty = run_engine(tmp_path / "s", "--notify", "", "--max-cycles", "1")
    assert empty.returncode == 2 and "--notify is empty" in empty.stderr


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_a_stale_limit_that_would_always_or_never_trip_is_refused(tmp_path: Path, value: str) -> None:
    # 0 or less: every look says STALE; nan or inf: no look ever does, and the watcher is blind.
    done = run_watch(tmp_path / "s", "--stale-after", value, "--interval", "0.1")
    assert done.returncode == 2 and f"--stale-after {value}" in done.stderr


def test_the_watcher_says_when_the_state_directory_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    watcher = subprocess.Popen(
        [sys.executable, "-m", "engine", "watch", "--state-dir", str(missing), "--interval", "0.1"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert watcher.stderr is not None
        line = next(line for line in watcher.stderr if "DOWN" in line)
        assert f"{missing} does not exist" in line and "--state-dir" in line
    finally:
        assert stop_process(watcher) == 0  # type: ignore[arg-type]
