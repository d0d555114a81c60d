"""The notifier and the engine's alert rules, in process, against a real HTTP service on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from engine.contract.fileio import atomic_write_model
from engine.contract.models import SCHEMA_VERSION, CodeStatus, EngineInfo, Status, utc_now_iso
from engine.events import EventLog
from engine.ops.alerts import STRATEGY_ERROR_CYCLES, EngineAlerts, notify_urls
from engine.ops.notify import Notifier
from engine.ops.watch import Watcher
from tests.support.notify_sink import notify_sink


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeats_of_a_key_are_held_back_and_counted_in_the_next() -> None:
    clock = FakeClock()
    with notify_sink() as sink:
        notifier = Notifier([sink.url], repeat_s=600, clock=clock)
        assert notifier.send("disk", "full", key="persist")
        assert not notifier.send("disk", "full", key="persist")
        assert not notifier.send("disk", "full", key="persist")
        assert notifier.send("other", "not a repeat")
        clock.now += 601
        assert notifier.send("disk", "full again", key="persist")
        sink.wait_for(lambda b: "full again" in b["message"])
        notifier.close()
        messages = [b["message"] for b in sink.received]
    assert messages == ["full", "not a repeat", "full again\n(2 more like this in the last 10 min were not sent)"]


def test_a_service_that_fails_is_retried_until_it_takes_the_notification_in_order() -> None:
    got: list[str] = []
    failures = [2]  # the first two posts get a 503
    done = threading.Event()

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if failures[0] > 0:
                failures[0] -= 1
                self.send_response(503)
            else:
                got.append(body["message"])
                self.send_response(200)
                if len(got) == 2:
                    done.set()
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        notifier = Notifier([f"json://127.0.0.1:{server.server_address[1]}/"], retry_first_s=0.01)
        notifier.send("a", "first")
        notifier.send("b", "second")
        assert done.wait(20), f"delivered {got}"
        notifier.close()
    finally:
        server.shutdown()
        server.server_close()
    assert got == ["first", "second"] and notifier.failing is None


def test_a_strategy_error_is_told_when_it_persists_and_when_it_clears(tmp_path: Path) -> None:
    with notify_sink() as sink:
        events = EventLog(tmp_path / "events.jsonl")
        alerts = EngineAlerts(Notifier([sink.url]), events, str(tmp_path))
        for _ in range(STRATEGY_ERROR_CYCLES - 1):
            alerts.cycle(["BTC-5m: ZeroDivisionError in strategy.py line 40"])
        events.emit("check", "check: refused", kind="check", ok=False)  # a check is a dry run: not an alert
        events.emit("reload", "reload: refused, SyntaxError", kind="reload", ok=False)
        alerts.cycle(["BTC-5m: ZeroDivisionError in strategy.py line 40", "ETH-5m: the same"])
        alerts.cycle([])
        sink.wait_for(lambda b: "cleared" in b["title"])
        alerts.close()
        titles = sink.titles()
    assert titles == ["foresight: reload refused", "foresight: strategy error persists", "foresight: strategy error cleared"]
    persisting = sink.received[1]["message"]
    assert f"every cycle for {STRATEGY_ERROR_CYCLES} cycles: BTC-5m: ZeroDivisionError" in persisting and "1 more slots" in persisting


def test_a_trouble_that_comes_back_after_its_recovery_is_told_again(tmp_path: Path) -> None:
    """The last notification says how the engine is now: a failure after its recovery, or a
    second trip after an operator's resume, is news, never held back as a repeat."""
    with notify_sink() as sink:
        events = EventLog(tmp_path / "events.jsonl")
        alerts = EngineAlerts(Notifier([sink.url]), events, str(tmp_path))
        events.emit("warning", "cannot persist state.json: No space left on device")
        events.emit("warning", "cannot persist state.json: No space left on device")  # the same trouble: once
        events.emit("engine", "persistence caught up: state.json written")
        events.emit("warning", "cannot persist state.json: No space left on device")
        for _ in range(2):  # tripped, resumed by the operator, tripped again
            events.emit("risk", "max_drawdown=5 reached", limit="max_drawdown", threshold=5)
        sink.wait_for(lambda b: sink.titles().count("foresight: risk limit max_drawdown tripped") == 2)
        alerts.close()
        titles = sink.titles()
    assert titles == [
        "foresight: persistence failing", "foresight: persistence recovered", "foresight: persistence failing",
        "foresight: risk limit max_drawdown tripped", "foresight: risk limit max_drawdown tripped",
    ]  # fmt: skip


def test_the_watcher_tells_stale_from_down_and_says_recovered(tmp_path: Path) -> None:
    state_dir = tmp_path / "s"
    state_dir.mkdir()

    def write(pid: int, age_s: float, boot: str) -> None:
        from datetime import UTC, datetime, timedelta

        written = (datetime.now(UTC) - timedelta(seconds=age_s)).isoformat(timespec="milliseconds")
        engine = EngineInfo(pid=pid, host=socket.gethostname(), started_at=utc_now_iso(), boot_id=boot,
                            state="running", cycle=7, cycle_interval_s=1.0, last_cycle_ms=1.0)  # fmt: skip
        status = Status(schema_version=SCHEMA_VERSION, written_at=written, engine=engine, code=CodeStatus(version="v"))
        atomic_write_model(state_dir / "status.json", status, durable=False)

    with notify_sink() as sink:
        notifier = Notifier([sink.url])
        watcher = Watcher(state_dir, notifier, stale_after_s=30)
        write(os.getpid(), 1, "boot-1")
        assert watcher.check().condition == "UP"
        write(os.getpid(), 60, "boot-1")  # this process exists, its status is a minute old
        assert watcher.check().condition == "STALE"
        gone = max(int(open("/proc/sys/kernel/pid_max").read()) - 1, 2)
        write(gone, 60, "boot-1")
        assert watcher.check().condition == "DOWN"
        write(os.getpid(), 0, "boot-2")
        assert watcher.check().condition == "UP"
        sink.wait_for(lambda b: "recovered" in b["title"])
        notifier.close()
        titles = sink.titles()
    assert titles == ["foresight engine STALE", "foresight engine DOWN", "foresight engine recovered"]
    assert "restarted" in sink.received[2]["message"]


def test_notify_urls_come_from_flags_and_the_environment_once_each() -> None:
    assert notify_urls(["json://a/"], "json://b/  json://a/") == ("json://a/", "json://b/")
    assert notify_urls(None, None) == ()
