"""Commands are exactly once and always answered, however many operators write at once.

One engine: 50 concurrent `check`s all answered; a leftover rollback id after 5,000 newer
commands is not run again; two operators racing a reload with a pause never roll good code
back (the reload's params were those of the old code at the boundary that swapped it).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from engine.contract.control_writer import ControlWriter
from engine.contract.models import Command, Control, utc_now_iso
from engine.ctl.versions import wait_for_outcome
from tests.guard.strategy_faults import copy_strategies, write_good
from tests.support.engine_proc import EngineProcess


def _events(engine: EngineProcess) -> list[dict]:
    text = (engine.state_dir / "events.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _in_threads(count: int, work) -> list:
    results: list = [None] * count

    def run(index: int) -> None:
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_commands_are_answered_once_each(engine_factory, tmp_path: Path) -> None:
    strategies = copy_strategies(tmp_path / "strategies")
    engine: EngineProcess = engine_factory("--strategies-path", str(strategies))
    state = engine.state_dir

    # 50 operators each send a check at the same moment; once all are sent, every answer is
    # readable in one status (as each operator's `ctl check` polls it), applied.
    def check(index: int) -> str:
        _, command = ControlWriter(state, tool=f"op{index}").send_command("check")
        return command.id

    ids = set(_in_threads(50, check))
    assert len(ids) == 50
    answered = engine.wait_for(
        lambda s: ids <= {a.id for a in s.control.acks if a.final}, timeout=20, what="an answer to every check"
    )
    assert {a.result for a in answered.control.acks if a.id in ids} == {"applied"}
    # ... and an operator polling later still reads its own.
    assert wait_for_outcome(state, sorted(ids)[0], 5)[0] == 0

    # A rollback, then 5,000 newer commands; the rollback id comes back as a leftover.
    _, rollback = engine.writer.send_command("rollback")
    engine.wait_ack(rollback.id)
    for batch in range(20):
        fresh = [Command(id=f"bulk-{batch}-{i}", type="check", issued_at=utc_now_iso()) for i in range(250)]

        def add(c: Control, fresh: list[Command] = fresh) -> None:
            c.commands = [*c.commands, *fresh]

        written = engine.writer.update(add)
        last = fresh[-1].id
        engine.wait_for(lambda s, last=last: any(a.id == last for a in s.control.acks), timeout=30, what=f"batch {batch}")
        assert written.control.generation > 0

    def leftover(c: Control) -> None:
        c.commands = [*c.commands, rollback]

    generation = engine.writer.update(leftover).control.generation
    status = engine.wait_generation(generation, timeout=10)
    ack = next(a for a in status.control.acks if a.id == rollback.id)
    assert ack.result == "rejected"
    ran = [e for e in _events(engine) if rollback.id in (e["detail"].get("commands") or [])]
    assert len(ran) == 1  # the first and only run

    # Two operators: one reloads (good code, prepared between cycles), one pauses and resumes.
    rollbacks_before = sum(1 for e in _events(engine) if e["detail"].get("kind") == "auto_rollback")
    for attempt in range(10):
        write_good(strategies, f"race {attempt}")

        def operator(index: int, attempt: int = attempt) -> int:
            writer = ControlWriter(state, tool=f"operator{index}")
            if index == 0:
                _, command = writer.send_command("reload")
                return wait_for_outcome(state, command.id, 30)[0]
            writer.set_paused(attempt % 2 == 0)
            return 0

        assert _in_threads(2, operator) == [0, 0], f"attempt {attempt}"
    rollbacks = sum(1 for e in _events(engine) if e["detail"].get("kind") == "auto_rollback")
    assert rollbacks == rollbacks_before
