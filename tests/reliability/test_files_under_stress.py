"""Torn reads, lost updates and a full disk: the files of the state directory under stress."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.contract.fileio import read_bytes
from engine.contract.models import CONTROL_FILE, STATE_FILE, STATUS_FILE
from engine.events import read_events
from engine.trading.state import load_state
from tests.support.engine_proc import ROOT, EngineProcess
from tests.support.waits import wait_until

TORN_WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from engine.contract.fileio import atomic_write_bytes
    directory, count = Path(sys.argv[1]), int(sys.argv[2])
    for i in range(count):
        # Alternate small and large bodies so a torn file could not hide behind equal sizes.
        body = {"i": i, "pad": "x" * (150_000 if i % 2 else 100)}
        name = "status.json" if i % 3 else "control.json"
        atomic_write_bytes(directory / name, json.dumps(body).encode(), durable=name == "control.json")
    """
)


def test_readers_never_see_a_torn_file(tmp_path: Path, figures: dict) -> None:
    writes = 3000
    (tmp_path / STATUS_FILE).write_text('{"i": -1}')
    (tmp_path / CONTROL_FILE).write_text('{"i": -1}')
    writer = subprocess.Popen([sys.executable, "-c", TORN_WRITER, str(tmp_path), str(writes)], cwd=ROOT)
    reads = torn = 0
    while writer.poll() is None or reads < 1000:
        for name in (STATUS_FILE, CONTROL_FILE):
            data, reason = read_bytes(tmp_path / name)
            reads += 1
            try:
                json.loads(data or b"")
            except json.JSONDecodeError:
                torn += 1
        if writer.poll() is not None and reads >= 1000:
            break
    assert writer.wait() == 0
    assert torn == 0
    assert json.loads((tmp_path / STATUS_FILE).read_text())["i"] == writes - 1
    figures["torn_reads"] = {"writes": writes, "reads": reads, "torn": torn}


COUNTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from engine.contract.control_writer import ControlWriter
    writer = ControlWriter(Path(sys.argv[1]), tool="w" + sys.argv[2])
    key = "count_" + sys.argv[2]
    for _ in range(int(sys.argv[3])):
        writer.update(lambda c: c.overrides.__setitem__(key, int(c.overrides.get(key, 0)) + 1))
    """
)


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_writers_lose_no_update(tmp_path: Path, writers: int, figures: dict) -> None:
    each = 500
    procs = [subprocess.Popen([sys.executable, "-c", COUNTER, str(tmp_path), str(n), str(each)], cwd=ROOT) for n in range(writers)]
    assert [p.wait(300) for p in procs] == [0] * writers
    control = json.loads((tmp_path / CONTROL_FILE).read_text())
    assert control["generation"] == writers * each
    assert control["overrides"] == {f"count_{n}": each for n in range(writers)}
    figures[f"concurrent_writers_{writers}"] = {"writes": writers * each, "lost_updates": 0, "final_generation": control["generation"]}


def persisted_cycle(state_dir: Path) -> int:
    """The cycle a restarted engine would resume from: state.json with its journal replayed."""
    result = load_state(state_dir / STATE_FILE)
    assert result.value is not None, result.reason
    return result.value.cycle


def test_failed_writes_keep_the_old_file_and_trading_goes_on(engine_factory, tmp_path: Path, figures: dict) -> None:
    faults = tmp_path / "faults"
    faults.mkdir()
    engine: EngineProcess = engine_factory(env={"FORESIGHT_FAILPOINTS": f"dir={faults}"})
    engine.wait_cycles(3)
    (faults / "fail-write-state.json").touch()
    status = engine.wait_for(lambda s: not s.engine.persist_ok, what="persist trouble reported")
    assert "No space left on device" in (status.engine.persist_error or "")
    frozen = json.loads((engine.state_dir / STATE_FILE).read_text())  # the previous file, whole
    persisted = persisted_cycle(engine.state_dir)  # with its journal, which stops too
    status = engine.wait_cycles(20)
    assert status.engine.cycle > persisted + 15  # trading goes on from memory
    assert json.loads((engine.state_dir / STATE_FILE).read_text())["cycle"] == frozen["cycle"]
    assert persisted_cycle(engine.state_dir) == persisted
    (faults / "fail-write-state.json").unlink()
    status = engine.wait_for(lambda s: s.engine.persist_ok, what="persistence caught up")
    assert persisted_cycle(engine.state_dir) >= status.engine.cycle
    def messages() -> list[str]:
        return [e["message"] for e in read_events(engine.state_dir / "events.jsonl")]

    # The event may come a cycle after the status that says persist_ok.
    wait_until(lambda: any("caught up" in m for m in messages()), "the caught-up event", timeout=10)
    assert any("cannot persist state.json" in m for m in messages())
    figures["disk_trouble_failpoint"] = {"cycles_traded_without_persisting": status.engine.cycle - persisted}


@pytest.fixture
def tiny_disk(tmp_path: Path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def heartbeat_cycle(notify: socket.socket) -> int | None:
    """The cycle of the engine's next notify message (None for one without it, e.g. READY=1)."""
    message = notify.recv(4096).decode()
    match = re.search(r"^STATUS=cycle (\d+),", message, re.M)
    return int(match[1]) if match else None


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_really_full_disk(engine_factory, tiny_disk: Path, tmp_path: Path, figures: dict) -> None:
    # status.json cannot be written either once the disk is full: the engine is watched through
    # its process, its files and systemd's notify socket, whose heartbeats carry the cycle.
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / "notify.sock"))
        notify.settimeout(10.0)
        env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "200000"}
        engine: EngineProcess = engine_factory(state_dir=tiny_disk / "state", env=env)
        status = engine.wait_cycles(3)
        filler = fill(tiny_disk)
        before = persisted_cycle(engine.state_dir)
        while (cycle := heartbeat_cycle(notify)) is None or cycle <= status.engine.cycle + 10:
            pass  # ten cycles traded on a full disk
    assert engine.proc is not None and engine.proc.poll() is None, "engine died on a full disk"
    assert persisted_cycle(engine.state_dir) <= before + 1
    assert json.loads((engine.state_dir / STATUS_FILE).read_text())  # old status still whole
    filler.unlink()
    status = engine.wait_for(lambda s: s.engine.persist_ok and s.engine.cycle > before + 15, what="catching up")
    assert persisted_cycle(engine.state_dir) >= status.engine.cycle
    # No temp file of a failed write is left; the one status.json write made ahead is there.
    assert len([p for p in engine.state_dir.glob(".*.tmp") if p.name.startswith(".status.json.")]) <= 1
    assert not [p for p in engine.state_dir.glob(".*.tmp") if not p.name.startswith(".status.json.")]
    # What happened while the disk was full reached the audit log once it had room again.
    messages = [e["message"] for e in read_events(engine.state_dir / "events.jsonl")]
    assert any("cannot persist state.json" in m or "cannot write status.json" in m for m in messages)
    assert any("caught up" in m for m in messages)
    figures["disk_full_tmpfs"] = {"cycles_traded_while_full": status.engine.cycle - before}


def test_engine_refuses_control_from_others(engine: EngineProcess) -> None:
    generation = engine.writer.set_paused(True).control.generation
    engine.wait_generation(generation)
    control = engine.state_dir / CONTROL_FILE
    data = control.read_text().replace(f'"generation":{generation}', f'"generation":{generation + 1}').replace('"paused":true', '"paused":false')
    control.write_text(data)
    os.chmod(control, 0o622)
    status = engine.wait_for(lambda s: any("writable by group or others" in w for w in s.control.warnings), what="refusal")
    assert status.engine.state == "paused"
    os.chown(control, 65534, 65534)
    os.chmod(control, 0o600)
    status = engine.wait_for(lambda s: any("owned by uid 65534" in w for w in s.control.warnings), what="owner refusal")
    assert status.engine.state == "paused" and status.control.observed_generation == generation


def test_control_cannot_name_code(engine: EngineProcess) -> None:
    control = engine.state_dir / CONTROL_FILE
    generation = engine.writer.set_paused(False).control.generation
    engine.wait_generation(generation)
    for extra in ('"strategies_path": "/tmp/evil"', '"modules": ["os"]'):
        body = {k: v for k, v in json.loads(control.read_text()).items() if k not in ("strategies_path", "modules")}
        text = json.dumps({**body, "generation": generation + 1})[:-1] + ", " + extra + "}"
        tmp = control.with_suffix(".new")
        tmp.write_text(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, control)
        key = extra.split('"')[1]
        engine.wait_for(lambda s, k=key: any(k in w and "Extra inputs" in w for w in s.control.warnings), what=f"refusal of {key}")
    _, command = engine.writer.send_command("reload")
    status = engine.wait_ack(command.id)
    assert status.engine.strategies_path == str(Path(ROOT / "strategies"))

