"""SIGTERM stops the engine within a bounded time whatever strategy code is doing.

The call budget is set far above the test's patience (60 s), so only the stop itself can
end the hung call: the SIGTERM handler interrupts the strategy where it sleeps. The engine
runs as systemd would run it (NOTIFY_SOCKET): it says READY, sends WATCHDOG heartbeats from
its cycle loop and STOPPING on the way out.
"""

from __future__ import annotations

import json
import signal
import socket
import tempfile
from pathlib import Path

from tests.guard.strategy_faults import copy_strategies, write_faulty
from tests.support.engine_proc import EngineProcess


def test_sigterm_stops_an_engine_stuck_in_evaluate(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    marker = tmp_path / "hung"
    notify_dir = Path(tempfile.mkdtemp(prefix="i11-notify-"))  # short: a socket path has 108 bytes
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_dir / "notify"))
    listener.settimeout(10)
    engine: EngineProcess = engine_factory(
        "--strategies-path", str(strategies), "--call-budget", "60", env={"NOTIFY_SOCKET": str(notify_dir / "notify")}
    )
    resolved_before = engine.wait_cycles(2).stats.resolved
    write_faulty(
        strategies,
        f'''
if _LIVE(view) and view.asset == "ETH":
    open({str(marker)!r}, "w").close()
    _time.sleep(1000)
''',
    )
    engine.writer.send_command("reload")
    _wait_for_file(engine, marker)
    assert engine.stop(signal.SIGTERM, timeout=10) == 0
    log = [json.loads(line) for line in (engine.state_dir / "events.jsonl").read_text().splitlines()]
    assert log[-1]["message"].startswith("engine stopped (SIGTERM)")
    saved = json.loads((engine.state_dir / "state.json").read_text())
    assert saved["resolved"] >= resolved_before  # state persisted on the way out
    told = []
    listener.setblocking(False)
    while True:
        try:
            told.append(listener.recv(4096).decode())
        except BlockingIOError:
            break
    listener.close()
    assert told[0].startswith("READY=1") and "STATUS=cycling on code" in told[0]
    assert any(m.startswith("WATCHDOG=1") for m in told)
    assert told[-1] == "STOPPING=1"


def _wait_for_file(engine: EngineProcess, path: Path) -> None:
    engine.wait_for(lambda s: path.exists(), timeout=20, what=f"the strategy to reach {path.name}")


def test_a_thread_left_by_refused_strategy_code_never_keeps_a_stopped_engine_alive(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    engine: EngineProcess = engine_factory("--strategies-path", str(strategies))
    engine.wait_cycles(2)
    with (strategies / "strategy.py").open("a") as module:
        module.write(
            "\nimport threading as _threading\nimport time as _t\n\n\ndef _forever():\n    while True:\n        _t.sleep(0.2)\n\n\n"
            '_threading.Thread(target=_forever, name="left-behind").start()\nraise RuntimeError("not ready yet")\n'
        )
    check = engine.writer.send_command("check")[1]
    status = engine.wait_for(lambda s: any(a.id == check.id for a in s.control.acks), what="the check answered")
    assert next(a for a in status.control.acks if a.id == check.id).outcome == "check failed"
    assert engine.stop(signal.SIGTERM, timeout=15) == 0, "the process waited on the strategy's thread"
    log = engine.log()
    assert "left-behind" in log and "Traceback" not in log, log
