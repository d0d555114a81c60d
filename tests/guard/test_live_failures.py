"""A strategy bug never stops the bot: one engine, the bugs of issue 11 one after another.

Each reload below passes its smoke test and fails only on live data (tests/guard/strategy_faults.py).
The engine must keep cycling, roll the version back by itself, and `ctl reload` must exit with
that outcome. A `ctl check` whose module hangs at its top level, or installs signal handlers,
leaves the engine as it was: at the end SIGTERM still stops it cleanly.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from engine.cli import main
from engine.contract.models import Command, Control, utc_now_iso
from engine.ctl.versions import wait_for_outcome
from tests.guard.strategy_faults import copy_strategies, original, write_faulty, write_good
from tests.support.engine_proc import EngineProcess


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def ctl(state: Path, *args: str) -> Ran:
    """`foresight ctl ...` in this process (the same code path as the command, without a
    Python start per call), its exit status and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["ctl", "--state-dir", str(state), *args])
    return Ran(code, out.getvalue(), err.getvalue())

SIGNAL_TAMPERING = '''
import os as _os, signal as _signal, sys as _sys
_signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
_signal.signal(_signal.SIGINT, _signal.SIG_IGN)
_os.chdir("/")
_sys.path.insert(0, "/nonexistent-strategy-path")
_sys.setrecursionlimit(54321)
'''

TIMEOUTS = '''
if _LIVE(view) and view.asset == "ETH":
    while True:
        pass
if _LIVE(view) and view.asset == "DOGE":
    for _attempt in range(20):
        try:
            _time.sleep(10)
        except:  # noqa: E722 - the bug under test: a retry loop that swallows everything
            pass
'''

EXITS = '''
import sys as _sys
if _LIVE(view) and view.asset == "BTC":
    _sys.exit(3)
if _LIVE(view) and view.asset == "SOL":
    raise KeyboardInterrupt
if _LIVE(view) and view.asset == "XRP":
    params.stake = 1000
'''


VALIDATOR_LOOP = '''
from pydantic import field_validator as _field_validator


class Params(Params):
    @_field_validator("stake")
    @classmethod
    def _never_thirteen(cls, value):
        while value == 13:  # the bug under test: a validator that never returns for one value
            pass
        return value
'''


def events(engine: EngineProcess) -> list[dict]:
    lines = (engine.state_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_live_failures_roll_back_and_the_engine_keeps_cycling(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    engine: EngineProcess = engine_factory("--strategies-path", str(strategies), "--load-budget", "0.5")
    v0 = engine.first_status.code.version
    state = engine.state_dir

    # A module whose top level never returns: `ctl check` answers, the engine never stops.
    (strategies / "strategy.py").write_text(original(strategies) + "\nwhile True:\n    pass\n")
    checked = ctl(state, "check")
    assert checked.returncode == 1, checked
    assert "timed out" in checked.stderr and "strategy.py" in checked.stderr
    cycle = engine.status().engine.cycle
    engine.wait_for(lambda s: s.engine.cycle > cycle + 2, what="cycles after the hung check")

    # A module that installs signal handlers and moves the process around: checked, then undone.
    (strategies / "strategy.py").write_text(original(strategies) + SIGNAL_TAMPERING)
    checked = ctl(state, "check")
    assert checked.returncode == 0, checked

    # A control file the boundary refuses (an unknown slot) carrying a check: nothing of it runs,
    # not even the module's top level in the wait between cycles.
    marker = tmp_path / "executed"
    (strategies / "strategy.py").write_text(original(strategies) + f"\nopen({str(marker)!r}, 'w').close()\n")

    def refused(c: Control) -> None:
        c.paused_slots = ["NOPE-5m"]
        c.commands = [*c.commands, Command(id="check-refused-file", type="check", issued_at=utc_now_iso())]

    generation = engine.writer.update(refused).control.generation
    status = engine.wait_for(lambda s: s.control.rejected_generation >= generation, what="the refusal")
    assert "NOPE-5m" in " ".join(status.control.warnings)
    status = engine.wait_cycles(5)
    assert not marker.exists()
    assert all(a.id != "check-refused-file" for a in status.control.acks)

    # evaluate hangs for one asset (and another swallows the interrupt 20 times) on live data.
    write_faulty(strategies, TIMEOUTS)
    reloaded = ctl(state, "reload")
    assert reloaded.returncode == 1, reloaded
    assert "rolled back" in reloaded.stderr and "timed out" in reloaded.stderr
    status = engine.wait_cycles(3)
    assert status.code.version == v0
    failure = status.code.last_failure
    assert failure is not None and failure.how == "timeout" and failure.now_running == v0
    assert {slot.split("-")[0] for slot in failure.slots} <= {"ETH", "DOGE"} and failure.slots
    assert status.code.disk_differs and status.code.disk_version != v0
    # One event when a slot starts failing, one summary when it stops: never one per cycle.
    summaries = [e["detail"] for e in events(engine) if e["kind"] == "recovered"]
    assert any(d["slot"].split("-")[0] in ("ETH", "DOGE") and "timed out" in d["first_error"] for d in summaries)

    # SystemExit, KeyboardInterrupt, and an assignment to the shared params, on live data; two
    # reloads at one boundary are one swap, and both acks end rolled_back.
    write_faulty(strategies, EXITS)
    twins = [Command(id=f"reload-twin-{i}", type="reload", issued_at=utc_now_iso()) for i in range(2)]

    def two_reloads(c: Control) -> None:
        c.commands = [*c.commands, *twins]

    engine.writer.update(two_reloads)
    for twin in twins:
        code, message = wait_for_outcome(state, twin.id, 20)
        assert code == 1 and message.startswith("rolled back"), message
    status = engine.wait_cycles(3)
    assert status.code.version == v0
    errors = {e["detail"]["slot"].split("-")[0]: e["message"] for e in events(engine) if e["kind"] == "error"}
    assert "SystemExit(3) raised by strategy code" in errors["BTC"]
    assert "KeyboardInterrupt" in errors["SOL"]
    assert "params are read-only" in errors["XRP"]
    assert all(s.position is None or s.position.stake != 1000 for s in status.slots)
    assert status.params.values["stake"] != 1000

    # A Params validator that never returns for one value: the override is refused, timed out.
    (strategies / "strategy.py").write_text(original(strategies) + VALIDATOR_LOOP)
    assert ctl(state, "reload").returncode == 0
    refused = ctl(state, "set", "stake=13")
    assert refused.returncode == 1 and "timed out" in refused.stderr, refused
    assert engine.wait_cycles(2).params.values["stake"] != 13

    # Two good versions, each through its probation; then back to the first, two versions back.
    write_good(strategies, "one")
    first = ctl(state, "reload")
    assert first.returncode == 0 and "passed its probation" in first.stdout, first
    v1 = engine.status().code.version
    write_good(strategies, "two")
    assert ctl(state, "reload").returncode == 0
    v2 = engine.status().code.version
    listed = ctl(state, "versions", "--json")
    kept = {v["version"]: v["state"] for v in json.loads(listed.stdout)}
    assert kept[v2] == "running" and kept[v1] == "replaced" and kept[v0] == "replaced"
    assert list(kept.values()).count("failed") == 2
    back = ctl(state, "rollback", "--to", v0)
    assert back.returncode == 0, back
    status = engine.wait_cycles(2)
    assert status.code.version == v0
    kept = {v.version: v.state for v in status.code.versions}
    assert kept[v2] == "rolled_back" and kept[v0] == "running"
    unknown = ctl(state, "rollback", "--to", "0123456789ab")
    assert unknown.returncode == 1 and "not kept" in unknown.stderr

    # The check that installed SIG_IGN for SIGTERM left the engine able to stop.
    assert engine.stop() == 0
    assert "engine stopped (SIGTERM)" in (state / "events.jsonl").read_text()
