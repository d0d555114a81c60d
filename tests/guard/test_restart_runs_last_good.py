"""A restart never changes what runs: the boot names the version, the files on disk are a candidate.

`os._exit` in a live evaluate (what no in-process guard can stop) and a kill -9 during a
probation both leave the broken or unproven file on disk; the restart, as a supervisor
would make it, runs the last good version and says that disk differs.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from engine.events import read_events
from tests.guard.strategy_faults import copy_strategies, write_faulty, write_good
from tests.support.engine_proc import EngineProcess, ctl

SWALLOWS_FOREVER = '''
while True:  # the bug under test: a retry loop around a bare except, on every call (smoke included)
    try:
        _time.sleep(10)
    except:  # noqa: E722
        pass
'''

HARD_EXIT = '''
import os as _os
if _LIVE(view) and view.asset == "BTC":
    _os._exit(0)
'''


def test_restarts_run_the_last_good_version(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    state = tmp_path / "state"
    args = ("--strategies-path", str(strategies), "--probation-cycles", "30")
    engine: EngineProcess = engine_factory(*args, state_dir=state)
    v0 = engine.first_status.code.version
    engine.wait_for(lambda s: s.code.last_good_version == v0, timeout=20, what="the first version through its probation")

    # os._exit(0) in evaluate on live data: the engine dies in the new version's first live cycle.
    write_faulty(strategies, HARD_EXIT)
    result, command = engine.writer.send_command("reload")
    assert engine.proc is not None
    assert engine.proc.wait(timeout=20) == 0  # os._exit(0): the process is gone, "successfully"

    restarted: EngineProcess = engine_factory(*args, state_dir=state)
    status = restarted.wait_cycles(2)
    assert status.code.version == v0
    assert status.code.disk_differs and status.code.disk_version not in (None, v0)
    assert "probation" in (status.code.boot or "")
    ack = next(a for a in status.control.acks if a.id == command.id)
    assert ack.result == "rolled_back" and ack.final
    bad = next(v for v in status.code.versions if v.version != v0)
    assert bad.state == "failed"

    # A good version, killed with -9 while in probation: the restart is back on v0.
    write_good(strategies, "killed")
    _, command = restarted.writer.send_command("reload")
    swapped = restarted.wait_for(lambda s: any(a.id == command.id for a in s.control.acks), what="the reload's ack")
    v2 = swapped.code.version
    assert v2 != v0 and swapped.code.probation_left > 0
    restarted.kill9()

    again: EngineProcess = engine_factory(*args, state_dir=state)
    status = again.wait_cycles(2)
    assert status.code.version == v0 and status.code.disk_version == v2
    states = {v.version: v.state for v in status.code.versions}
    assert states[v2] == "failed" and states[v0] == "running"
    # ... and a clean stop keeps what runs: the next start is on v0 again, not on the disk's v2.
    assert again.stop(signal.SIGTERM) == 0
    last: EngineProcess = engine_factory(*args, state_dir=state)
    assert last.wait_cycles(1).code.version == v0


def test_a_check_that_never_lets_go_is_abandoned_and_refused_after_the_restart(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    state = tmp_path / "state"
    args = ("--strategies-path", str(strategies))
    engine: EngineProcess = engine_factory(*args, state_dir=state)
    v0 = engine.first_status.code.version
    write_faulty(strategies, SWALLOWS_FOREVER)
    engine.writer.send_command("check")
    assert engine.proc is not None
    assert engine.proc.wait(timeout=20) == 70  # abandoned to the supervisor past its grace
    restarted: EngineProcess = engine_factory(*args, state_dir=state)
    assert restarted.first_status is not None and restarted.first_status.code.version == v0
    _, command = restarted.writer.send_command("check")
    status = restarted.wait_ack(command.id, timeout=20)
    ack = next(a for a in status.control.acks if a.id == command.id)
    assert ack.result == "rejected" and "hung the engine while loading" in ack.detail
    assert restarted.status().engine.cycle > status.engine.cycle - 1  # still cycling


def test_a_version_store_that_cannot_be_written_is_reported_and_caught_up(engine_factory, tmp_path: Path) -> None:
    """The code swapped in runs while its record cannot be written; the operator is told, since
    a restart now would run the version the store still names, and the record follows once the
    disk takes writes again."""
    strategies = copy_strategies(tmp_path / "strategies")
    faults = tmp_path / "faults"
    faults.mkdir()
    args = ("--strategies-path", str(strategies))
    engine: EngineProcess = engine_factory(*args, env={"FORESIGHT_FAILPOINTS": f"dir={faults}"})
    v0 = engine.first_status.code.version
    (faults / "fail-write-versions.json").touch()  # a full disk for the store's manifest
    write_good(strategies, "unrecorded")
    _, command = engine.writer.send_command("reload")
    status = engine.wait_for(lambda s: not s.engine.persist_ok, timeout=20, what="the store's failure reported")
    assert "version store" in (status.engine.persist_error or "") and "versions.json" in (status.engine.persist_error or "")
    warnings = [e["message"] for e in read_events(engine.state_dir / "events.jsonl") if e["kind"] == "warning"]
    assert any("version store" in w and "restart" in w for w in warnings), warnings
    shown = ctl(engine.state_dir, "status")
    assert "disk     NOT PERSISTING: cannot write the version store (versions.json)" in shown.stdout, shown.stdout
    v1 = engine.wait_ack(command.id).code.version
    assert v1 != v0

    (faults / "fail-write-versions.json").unlink()
    status = engine.wait_for(lambda s: s.engine.persist_ok, timeout=20, what="the store written again")
    manifest = json.loads((engine.state_dir / "versions" / "versions.json").read_text())
    assert manifest["running"] == v1  # on record now: a restart runs what runs
    assert any("version store written again" in e["message"] for e in read_events(engine.state_dir / "events.jsonl"))
