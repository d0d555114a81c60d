"""`foresight ctl` verbs about code versions: reload/check/rollback waited to their final
outcome, `versions` (the kept history) and `rollback --to VERSION`.

A reload's ack can be `applied` while the new code is in probation (`final: false`):
`ctl reload` waits through it by default and exits with the outcome that stands
(0 applied, 1 rejected or rolled back, 3 timeout).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from engine.contract.control_writer import ControlWriter, WriteResult
from engine.contract.models import Ack, Command, Control, Status, utc_now_iso
from engine.ctl.answers import (
    EXIT_APPLIED,
    EXIT_REFUSED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    Lookout,
    read_status,
    timeout_message,
    unreadable_status,
)


def add_reload_arguments(reload: argparse.ArgumentParser) -> None:
    reload.add_argument(
        "--no-wait", action="store_true", help="exit at the first ack, without waiting through the new code's probation"
    )


def add_rollback_arguments(rollback: argparse.ArgumentParser) -> None:
    rollback.add_argument("--to", metavar="VERSION", default=None, help="a kept version (see `ctl versions`); default: the previous one")


def run_command(writer: ControlWriter, state_dir: Path, verb: str, args: argparse.Namespace) -> int:
    target = getattr(args, "to", None)
    try:
        if target is not None:
            result, command = send_rollback_to(writer, target)
        else:
            result, command = writer.send_command(verb)  # type: ignore[arg-type]
    except ValueError as exc:
        print(f"foresight ctl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    wait = not getattr(args, "no_wait", False)
    code, message = wait_for_outcome(state_dir, command.id, args.timeout, through_probation=wait)
    print(message, file=sys.stdout if code == EXIT_APPLIED else sys.stderr)
    return code


def send_rollback_to(writer: ControlWriter, version: str) -> tuple[WriteResult, Command]:
    version = version.strip().lower()
    try:
        command = Command(id=f"rollback-{uuid.uuid4().hex[:12]}", type="rollback", issued_at=utc_now_iso(), version=version)
    except Exception:  # noqa: BLE001 - pydantic's message names the pattern; ours says what to do
        raise ValueError(f"{version!r} is not a version (12 hex digits, as `foresight ctl versions` lists them)") from None

    def mutate(c: Control) -> None:
        c.commands = [*c.commands, command]

    return writer.update(mutate), command


def wait_for_outcome(state_dir: Path, command_id: str, timeout: float, *, through_probation: bool = True) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    said_probation = False
    lookout = Lookout(state_dir)
    while time.monotonic() < deadline:
        status = read_status(state_dir)
        ack = _ack(status, command_id)
        if ack is not None:
            if ack.final or not through_probation:
                code = EXIT_APPLIED if ack.outcome in ("applied", "check passed") else EXIT_REFUSED
                return code, f"{ack.outcome}: {ack.detail}"
            if not said_probation:
                left = status.code.probation_left if status else 0
                print(f"applied, in probation ({left} cycles left): waiting for the outcome...", file=sys.stderr)
                said_probation = True
        if (gone := lookout.gone(f"the outcome of command {command_id}")) is not None:
            return gone.code, gone.message
        time.sleep(0.02)
    return EXIT_TIMEOUT, timeout_message(state_dir, f"the outcome of command {command_id}", timeout)


def _ack(status: Status | None, command_id: str) -> Ack | None:
    if status is None:
        return None
    for ack in status.control.acks:
        if ack.id == command_id:
            return ack
    return None


def versions_command(state_dir: Path, args: argparse.Namespace) -> int:
    status = read_status(state_dir)
    if status is None:
        print(f"foresight ctl: {unreadable_status(state_dir)}", file=sys.stderr)
        return EXIT_TIMEOUT
    code = status.code
    if args.json:
        print(json.dumps([v.model_dump() for v in code.versions], indent=2))
        return EXIT_APPLIED
    print(f"running {code.version}" + (f", last good {code.last_good_version}" if code.last_good_version else "")
          + (f"; files on disk are {code.disk_version} (not running: `ctl reload` loads them)" if code.disk_differs else ""))
    for v in reversed(code.versions):
        mark = "*" if v.version == code.version else " "
        line = f"{mark} {v.version}  {v.state:<11}  loaded {v.loaded_at}"
        if v.reason:
            line += f"  ({v.reason[:120]})"
        print(line)
    return EXIT_APPLIED


def code_lines(status: Status) -> list[str]:
    """What `ctl status` adds about the code: probation, last good, the disk, the last failure."""
    code = status.code
    lines = []
    facts = []
    if code.probation_left:
        facts.append(f"in probation for {code.probation_left} more cycles")
    if code.last_good_version:
        facts.append(f"last good {code.last_good_version}")
    if code.boot:
        facts.append(f"booted: {code.boot}")
    if facts:
        lines.append("versions " + "; ".join(facts))
    if code.disk_differs:
        lines.append(f"disk     the strategies directory holds {code.disk_version}, not what runs (`foresight ctl reload` loads it)")
    failure = code.last_failure
    if failure is not None:
        now = f"now running {failure.now_running}" if failure.now_running else "nothing to roll back to, it keeps running"
        lines.append(f"failure  {failure.version} failed ({failure.how}) in {', '.join(failure.slots)} at {failure.at}: {failure.error}; {now}")
    return lines

