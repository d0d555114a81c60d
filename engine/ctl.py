"""`foresight ctl`: the scriptable face of the control plane (the same writes the TUI makes).

Every change is written through ControlWriter and then followed until the engine
acknowledges it: exit 0 when applied, 1 when refused, 3 on timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from engine.contract import CONTROL_FILE, STATUS_FILE, Ack, Control, Status
from engine.control_writer import ControlWriter, WriteResult
from engine.fileio import describe_validation_error, read_model

EXIT_APPLIED, EXIT_REFUSED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3


@dataclass(frozen=True)
class Verdict:
    code: int
    message: str


def read_status(state_dir: Path) -> Status | None:
    return read_model(state_dir / STATUS_FILE, Status).value


def wait_for_generation(state_dir: Path, generation: int, timeout: float) -> Verdict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(state_dir)
        if status is not None:
            if status.control.observed_generation >= generation:
                return Verdict(EXIT_APPLIED, f"applied: generation {generation} observed at cycle {status.engine.cycle}")
            if status.control.rejected_generation >= generation:
                reasons = "; ".join(status.control.warnings) or "no reason given"
                return Verdict(EXIT_REFUSED, f"refused: generation {generation}: {reasons}")
        time.sleep(0.02)
    return Verdict(EXIT_TIMEOUT, timeout_message(state_dir, f"generation {generation}", timeout))


def wait_for_ack(state_dir: Path, command_id: str, timeout: float) -> tuple[Verdict, Ack | None]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read_status(state_dir)
        if status is not None:
            for ack in status.control.acks:
                if ack.id == command_id:
                    code = EXIT_APPLIED if ack.result == "applied" else EXIT_REFUSED
                    return Verdict(code, f"{ack.result}: {ack.detail}"), ack
        time.sleep(0.02)
    return Verdict(EXIT_TIMEOUT, timeout_message(state_dir, f"command {command_id}", timeout)), None


def timeout_message(state_dir: Path, what: str, timeout: float) -> str:
    status = read_status(state_dir)
    if status is None:
        hint = f"no readable {STATUS_FILE} in {state_dir}: is an engine running there? (foresight engine --state-dir {state_dir})"
    else:
        hint = f"last status is {status.age_s():.1f}s old (engine pid {status.engine.pid} on {status.engine.host})"
    return f"timeout: {what} not acknowledged within {timeout:g}s; {hint}. The intent stays in control.json and applies when the engine reads it."


def parse_assignments(pairs: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    return values


def check_known(state_dir: Path, keys: list[str]) -> None:
    status = read_status(state_dir)
    if status is None:
        return  # the engine validates in any case
    known = set(status.params.schema_.get("properties", {}))
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; the running strategy declares: {', '.join(sorted(known))}")


def summary(status: Status) -> str:
    e, s, c = status.engine, status.stats, status.code
    rate = f"{s.win_rate:.0%}" if s.win_rate is not None else "n/a"
    lines = [
        f"engine   {e.state.upper()} pid {e.pid}@{e.host} cycle {e.cycle} ({e.last_cycle_ms:.1f} ms, every {e.cycle_interval_s:g}s, worst {e.worst_cycle_ms:.1f} ms, {e.overruns} overruns)",
        f"status   written {status.age_s():.1f}s ago{' (STALE)' if status.is_stale() else ''}",
        f"control  observed generation {status.control.observed_generation}, rejected {status.control.rejected_generation}",
        f"code     {c.version}, {c.reloads} reloads"
        + (f", last {'ok' if c.last_reload.ok else 'FAILED'} {c.last_reload.kind} {c.last_reload.duration_ms:.2f} ms" if c.last_reload else ""),
        f"stats    open {s.open_positions}, resolved {s.resolved}, win rate {rate} (last {s.win_rate_window}), P&L {s.pnl:+.2f}",
        f"params   {json.dumps(status.params.values, separators=(',', ':'))}",
    ]
    lines += ctl_versions.code_lines(status)
    lines += [f"warning  {w}" for w in status.control.warnings]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir
    writer = ControlWriter(state_dir, tool="ctl")
    verb: str = args.verb
    try:
        if verb == "status":
            return status_command(state_dir, args)
        if verb == "versions":
            return ctl_versions.versions_command(state_dir, args)
        if verb in ("reload", "rollback", "check"):
            return ctl_versions.run_command(writer, state_dir, verb, args)
        if verb in ("pause", "resume"):
            result = writer.set_paused(verb == "pause")
        elif verb in ("pause-slot", "resume-slot"):
            result = writer.set_slot_paused(args.slot, verb == "pause-slot")
        elif verb == "set":
            values = parse_assignments(args.assignments)
            check_known(state_dir, list(values))
            result = writer.set_overrides(values)
        elif verb == "unset":
            result = writer.set_overrides({}, unset=tuple(args.keys))
        else:  # argparse prevents this
            raise ValueError(f"unknown verb {verb}")
    except ValidationError as exc:
        print(f"foresight ctl: refused before writing: {describe_validation_error(exc, 'control')}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, OSError) as exc:
        print(f"foresight ctl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _note(result)
    print(f"wrote control generation {result.control.generation}; waiting for the engine...", file=sys.stderr)
    return _finish(wait_for_generation(state_dir, result.control.generation, args.timeout))


def status_command(state_dir: Path, args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    since = time.time()
    while True:
        status = read_status(state_dir)
        fresh = status is not None and status.age_s() < (time.time() - since)
        settled = status is not None and _settled(state_dir, status)
        if status is not None and (not args.wait or (fresh and settled)):
            print(status.model_dump_json(by_alias=True, indent=2) if args.json else summary(status))
            return EXIT_APPLIED
        if time.monotonic() > deadline:
            print(f"foresight ctl: {timeout_message(state_dir, 'a settled status', args.timeout)}", file=sys.stderr)
            return EXIT_TIMEOUT
        if not args.wait and status is None:
            print(f"foresight ctl: no readable status.json in {state_dir} (is an engine running?)", file=sys.stderr)
            return EXIT_TIMEOUT
        time.sleep(0.05)


def _settled(state_dir: Path, status: Status) -> bool:
    control = read_model(state_dir / CONTROL_FILE, Control).value
    if control is None:
        return True
    seen = max(status.control.observed_generation, status.control.rejected_generation)
    return seen >= control.generation


def _note(result: WriteResult) -> None:
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)


def _finish(verdict: Verdict) -> int:
    print(verdict.message, file=sys.stdout if verdict.code == EXIT_APPLIED else sys.stderr)
    return verdict.code


def add_parser(sub: argparse._SubParsersAction, state_dir_arg) -> None:  # type: ignore[type-arg]
    ctl = sub.add_parser("ctl", help="change or read the running engine's intent", description=__doc__)
    state_dir_arg(ctl)
    ctl.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the engine's acknowledgement")
    verbs = ctl.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("pause", help="no new entries anywhere (open positions still resolve)")
    verbs.add_parser("resume", help="allow entries again")
    for name, text in (("pause-slot", "pause one slot"), ("resume-slot", "resume one slot")):
        p = verbs.add_parser(name, help=text)
        p.add_argument("slot", help="slot id, e.g. BTC-5m")
    p = verbs.add_parser("set", help="override strategy parameters, all or nothing")
    p.add_argument("assignments", nargs="+", metavar="KEY=VALUE", help="VALUE is JSON (5, 0.7, true, [\"BTC\"]) or a plain string")
    p = verbs.add_parser("unset", help="drop overrides, back to the strategy's defaults")
    p.add_argument("keys", nargs="+", metavar="KEY")
    reload = verbs.add_parser("reload", help="load the strategy code on disk into the running engine (waits through its probation)")
    rollback = verbs.add_parser("rollback", help="return to the previously loaded strategy code, or a kept one (--to)")
    ctl_versions.add_arguments(reload, rollback)
    ctl_versions.add_versions_verb(verbs)
    verbs.add_parser("check", help="would the code on disk load? (no swap)")
    p = verbs.add_parser("status", help="print the engine's status")
    p.add_argument("--wait", action="store_true", help="wait for a fresh status with no pending control change")
    p.add_argument("--json", action="store_true", help="print status.json as JSON")


from engine import ctl_versions  # noqa: E402 - it imports this module's helpers
