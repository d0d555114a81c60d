"""`foresight ctl`: steer a running engine from a shell or a script.

Each change is written to the engine's control file and followed until the
engine answers: exit 0 when applied (or a check passed), 1 when refused, rolled
back or a check failed (with the engine's reason), 2 on bad input (nothing
written), 3 when no engine answers (none runs there, or it did not answer in
time). Options go before or after the verb.
"""

# A verb is one `Verb` in `VERBS`: its name, its help, its arguments and the function that runs it.

from __future__ import annotations

import argparse
import difflib
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from engine.contract import param_schema
from engine.contract.control_writer import ControlWriter, WriteResult
from engine.contract.fileio import describe_validation_error, read_model
from engine.contract.liveness import gone_from_here, lock_holder
from engine.contract.models import CONTROL_FILE, Control, SlotStatus, Status
from engine.ctl import books as ctl_books
from engine.ctl import risk as ctl_risk
from engine.ctl import shadow as ctl_shadow
from engine.ctl import versions as ctl_versions
from engine.ctl.answers import (
    EXIT_APPLIED,
    EXIT_REFUSED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    NoEngine,
    engine_absent,
    follow,
    no_engine,
    read_status,
    timeout_message,
    unreadable_status,
)


def parse_assignments(pairs: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        if key in values:
            raise ValueError(f"{key} is given twice ({pair!r} after {key}={json.dumps(values[key])}): give each once, nothing written")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


def check_known(state_dir: Path, keys: list[str]) -> None:
    _check_known(read_status(state_dir), keys)


def _check_known(status: Status | None, keys: list[str]) -> None:
    if status is None:
        return  # the engine validates in any case
    known = set(status.params.schema_.get("properties", {})) | set(status.control.applied.overrides)
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; the running strategy declares: {', '.join(sorted(known))}")


def _uncheckable(state_dir: Path, what: str) -> ValueError:
    """With no status.json and no engine, names cannot be checked: a queued one the engine refuses
    at start would take the whole file with it, a pause queued beside it included."""
    return ValueError(
        f"no engine has run in {state_dir}, so {what} cannot be checked against what it runs; one the engine "
        "refused at start would take the whole control file with it (a pause queued beside it too). Start the "
        "engine first (queued pause, resume and risk limits need no check), nothing written"
    )


def check_values(state_dir: Path, values: dict[str, object]) -> None:
    """Names, types, bounds and choices against the running strategy's schema, before anything
    is written (rules across parameters are the engine's to judge)."""
    status = read_status(state_dir)
    if status is None and lock_holder(state_dir) is None:
        raise _uncheckable(state_dir, ", ".join(values))
    _check_known(status, list(values))
    if status is None:
        return
    problems = param_schema.check_values(param_schema.param_specs(status.params.schema_), dict(values))
    if problems:
        said = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        raise ValueError(f"refused before writing: {said}")


def check_slot(state_dir: Path, slot_id: str) -> None:
    status = read_status(state_dir)
    if status is None and lock_holder(state_dir) is None:
        raise _uncheckable(state_dir, f"the slot {slot_id}")
    if status is None or any(slot.id == slot_id for slot in status.slots):
        return
    ids = [slot.id for slot in status.slots]
    same_letters = [i for i in ids if i.lower() == slot_id.lower()]
    near = same_letters or difflib.get_close_matches(slot_id, ids, n=1, cutoff=0.75)
    if near:
        raise ValueError(f"no slot {slot_id!r} in this engine, nothing written; did you mean {near[0]}?")
    shown = ", ".join(ids[:16]) + (f" and {len(ids) - 16} more" if len(ids) > 16 else "")
    raise ValueError(f"no slot {slot_id!r} in this engine, nothing written; it runs {shown}")


def summary(status: Status, state_dir: Path) -> str:
    e, s, c = status.engine, status.stats, status.code
    rate = f"{s.win_rate:.0%}" if s.win_rate is not None else "n/a"
    # The last status of a process killed (or crashed) still says running: the pid says otherwise.
    down = not e.stopped_at and gone_from_here(e.host, e.pid)
    state = "STOPPED" if e.stopped_at else "DOWN" if down else e.state.upper()
    feed = "simulated" if e.feed == "sim" else e.feed
    if e.stopped_at:
        age_note = f" (the engine stopped at {e.stopped_at})"
    elif down:
        age_note = f" (its process is gone without a clean stop; start it again: foresight engine --state-dir {state_dir})"
    else:
        age_note = " (STALE)" if status.is_stale() else ""
    trip = status.risk.tripped
    lines = [
        f"engine   {state} pid {e.pid}@{e.host} cycle {e.cycle} ({e.last_cycle_ms:.1f} ms, every {e.cycle_interval_s:g}s, worst {e.worst_cycle_ms:.1f} ms, {e.overruns} overruns)",
        f"market   paper bets, {feed} prices at x{e.speed:g}{feed_trouble(status)}",
        *([f"risk     TRIPPED {trip.limit}: {trip.message}"
           + ("" if "ctl risk resume" in trip.message else "; resume with foresight ctl risk resume")] if trip else []),  # fmt: skip
        f"status   written {status.age_s():.1f}s ago{age_note}",
        *([f"disk     NOT PERSISTING: {e.persist_error or 'a write failed'}; trading goes on from memory"] if not e.persist_ok else []),
        f"control  observed generation {status.control.observed_generation}, rejected {status.control.rejected_generation}",
        f"code     {c.version}, {c.reloads} reloads"
        + (f", last {c.last_reload.kind} {'ok' if c.last_reload.ok else 'refused'} {c.last_reload.duration_ms:.2f} ms" if c.last_reload else ""),
        f"stats    open {s.open_positions}, resolved {s.resolved}, win rate {rate} (last {s.win_rate_window}), P&L {s.pnl:+.2f}",
        f"params   {json.dumps(status.params.values, separators=(',', ':'))}",
        f"overrides {json.dumps(status.control.applied.overrides, separators=(',', ':'))}",
    ]
    lines += ctl_versions.code_lines(status)
    lines += [f"warning  {w}" for w in status.control.warnings]
    lines += ["", slot_table(status.slots, status.engine.sim_time, tripped=trip is not None)]
    return "\n".join(lines)


def feed_trouble(status: Status) -> str:
    """The feed's trouble for the market line ('' while every asset's prices arrive): the assets
    that take no entries, with their last price's age, and the connection's last error."""
    feed = status.feed
    troubled = [f"{asset} {a.state}" + (f" ({a.price_age_s:.0f}s old)" if a.price_age_s is not None else "")
                for asset, a in feed.assets.items() if a.state != "connected"]  # fmt: skip
    if feed.state == "connected" and not troubled:
        return ""
    error = f"; last error: {feed.last_error}" if feed.last_error and feed.state != "connected" else ""
    return f"; feed {feed.state}: {', '.join(troubled) or 'every asset'}, no new entries there{error}"


def slot_row(slot: SlotStatus, now: float, *, tripped: bool = False) -> list[str]:
    signal = slot.signal
    now_text = f"{signal.direction} {signal.confidence:.0%}" if signal else "-"
    pos = slot.position
    bet = f"{pos.side} ${pos.stake:.2f} @ {pos.odds:.2f}" if pos else "-"
    left = max(0.0, slot.window_end - now) if now else 0.0
    # What stops an entry before the strategy's own reason does: the engine's gates first.
    if pos:
        why = ""
    elif slot.feed and slot.feed != "connected":
        why = f"no new entries: {slot.asset}'s feed is {slot.feed}"
    elif tripped:
        why = "no new entries: a risk limit tripped"
    else:
        why = "" if signal is None or signal.enter else signal.reason
    return [slot.id, slot.state + (" paused" if slot.paused else ""), f"{slot.price:.6g}",
            f"{int(left) // 60}:{int(left) % 60:02d}", now_text, bet, slot.error or why]  # fmt: skip


def slot_table(slots: list[SlotStatus], now: float, *, tripped: bool = False) -> str:
    head = ["slot", "state", "price", "left", "signal now", "bet held", "why not entering"]
    rows = [head] + [slot_row(slot, now, tripped=tripped) for slot in slots]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ).rstrip()


# --------------------------------------------------------------------- verbs


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    run: Callable[[argparse.Namespace, ControlWriter], int]
    arguments: Callable[[argparse.ArgumentParser], object] = lambda parser: None
    writes: bool = True  # checks first that an engine runs there (unless --queue)


def _follow(args: argparse.Namespace, result: WriteResult) -> int:
    return follow(args.state_dir, result, queue=args.queue, timeout=args.timeout)


def _command(kind: str) -> Callable[[argparse.Namespace, ControlWriter], int]:
    """reload, check, rollback: followed to the outcome that stands (through a reload's probation)."""
    return lambda args, writer: ctl_versions.run_command(writer, args.state_dir, kind, args)


def _versions(args: argparse.Namespace, writer: ControlWriter) -> int:
    return ctl_versions.versions_command(args.state_dir, args)


def _follow_switch(args: argparse.Namespace, write: Callable[[], WriteResult]) -> int:
    """A pause or resume, which nothing can refuse: refused, the file carried another writer's
    change the engine refused (it builds on the file, as every write does, to lose no update).
    Written once more, it builds on the intent the engine runs, without that change."""
    code = _follow(args, write())
    if code != EXIT_REFUSED:
        return code
    print("note: refused for a change another writer had put in control.json; written again on the engine's applied intent", file=sys.stderr)
    return _follow(args, write())


def _pause(paused: bool) -> Callable[[argparse.Namespace, ControlWriter], int]:
    return lambda args, writer: _follow_switch(args, lambda: writer.set_paused(paused))


def _resume(args: argparse.Namespace, writer: ControlWriter) -> int:
    def write() -> WriteResult:
        result = writer.set_paused(False)
        # Also the risk limit that paused entries, if one did: the operator said resume.
        return ctl_risk.resume_trip(args.state_dir, writer) or result

    return _follow_switch(args, write)


def _pause_slot(paused: bool) -> Callable[[argparse.Namespace, ControlWriter], int]:
    def run(args: argparse.Namespace, writer: ControlWriter) -> int:
        check_slot(args.state_dir, args.slot)
        return _follow_switch(args, lambda: writer.set_slot_paused(args.slot, paused))

    return run


def _set(args: argparse.Namespace, writer: ControlWriter) -> int:
    values = parse_assignments(args.assignments)
    check_values(args.state_dir, values)
    return _follow(args, writer.set_overrides(values))


def _unset(args: argparse.Namespace, writer: ControlWriter) -> int:
    check_known(args.state_dir, list(args.keys))
    status = read_status(args.state_dir)
    if status is not None:
        in_force = status.control.applied.overrides
        if not any(key in in_force for key in args.keys):
            print(f"nothing to do: {', '.join(args.keys)} not overridden (already the strategy's default)")
            return EXIT_APPLIED
    return _follow(args, writer.set_overrides({}, unset=tuple(args.keys)))


def _status(args: argparse.Namespace, writer: ControlWriter) -> int:
    return status_command(args.state_dir, args)


def _forget_here(args: argparse.Namespace, writer: ControlWriter) -> int:
    # Run over NATS by engine/ctl/remote.py; a state directory of this host has no keys to forget.
    print("foresight ctl: forget removes a retired engine's keys from NATS: foresight ctl --nats URL --engine NAME "
          "forget. A state directory on this host is retired by stopping its engine (nothing written).",
          file=sys.stderr)  # fmt: skip
    return EXIT_USAGE


def _slot_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slot", help="slot id, e.g. BTC-5m")


def _set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="+", metavar="KEY=VALUE",
                        help='VALUE is JSON (5, 0.7, true, ["BTC"]) or a plain string')  # fmt: skip


def _unset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("keys", nargs="+", metavar="KEY", help="a parameter now overridden")


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="wait until the engine has taken every change written")
    parser.add_argument("--json", action="store_true", help="print status.json as it is")


VERBS: list[Verb] = [
    Verb("pause", "stop new bets everywhere (open bets still settle)", _pause(True)),
    Verb("resume", "allow new bets again (and after a tripped risk limit)", _resume),
    Verb("pause-slot", "stop new bets on one slot", _pause_slot(True), _slot_argument),
    Verb("resume-slot", "allow new bets on one slot again", _pause_slot(False), _slot_argument),
    Verb("set", "change strategy parameters (all or nothing)", _set, _set_arguments),
    Verb("unset", "put parameters back to the strategy's defaults", _unset, _unset_arguments),
    Verb("reload", "load the strategy code on disk into the running engine (waits through its probation)",
         _command("reload"), lambda p: ctl_versions.add_reload_arguments(p)),
    Verb("rollback", "go back to the strategy code that ran before, or to a kept version (--to)",
         _command("rollback"), lambda p: ctl_versions.add_rollback_arguments(p)),
    Verb("check", "would the strategy code on disk load, and what would it decide now? (nothing is swapped)",
         lambda args, writer: ctl_shadow.check(args, writer), lambda p: ctl_shadow.add_check_arguments(p)),
    Verb("shadow", "run the code on disk beside the running code, never trading (--aa: the running code against itself)",
         lambda args, writer: ctl_shadow.shadow(args, writer), lambda p: ctl_shadow.add_shadow_arguments(p), writes=False),
    Verb("promote", "swap the shadowed code in (waits through its probation)",
         lambda args, writer: ctl_shadow.promote(args, writer), lambda p: ctl_versions.add_reload_arguments(p)),
    Verb("drop", "end the shadow; nothing else changes", lambda args, writer: ctl_shadow.drop(args, writer)),
    Verb("versions", "the kept strategy versions and how each ended", _versions,
         lambda p: p.add_argument("--json", action="store_true", help="print them as JSON"), writes=False),
    Verb("status", "what the engine is doing: state, code, bets, every slot", _status, _status_arguments, writes=False),
    Verb("forget", "over NATS (--engine NAME): remove a retired engine's keys, so --all and the fleet view stop counting it",
         _forget_here, writes=False),
]


def run(args: argparse.Namespace) -> int:
    if args.verb in ctl_books.VERBS:
        return ctl_books.run(args.state_dir, args)
    verb = next(v for v in VERBS if v.name == args.verb)
    writer = ControlWriter(args.state_dir, tool="ctl")
    try:
        if verb.writes and not args.queue:
            absent = engine_absent(args.state_dir)
            if absent is not None:
                raise NoEngine(absent)
        return verb.run(args, writer)
    except NoEngine as exc:
        return no_engine(args.state_dir, str(exc))
    except ValidationError as exc:
        print(f"foresight ctl: refused before writing: {describe_validation_error(exc, 'control')}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        raise  # the reader of our output went away (engine/cli.py): not bad input
    except (ValueError, OSError) as exc:
        print(f"foresight ctl: {exc}", file=sys.stderr)
        return EXIT_USAGE


def status_command(state_dir: Path, args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    since = time.time()
    while True:
        status = read_status(state_dir)
        fresh = status is not None and status.age_s() < (time.time() - since)
        settled = status is not None and _settled(state_dir, status)
        if status is not None and (not args.wait or (fresh and settled)):
            print(status.model_dump_json(by_alias=True, indent=2) if args.json else summary(status, state_dir))
            return EXIT_APPLIED
        if time.monotonic() > deadline:
            print(f"foresight ctl: {timeout_message(state_dir, 'a settled status', args.timeout)}", file=sys.stderr)
            return EXIT_TIMEOUT
        if not args.wait and status is None:
            print(f"foresight ctl: {unreadable_status(state_dir)}", file=sys.stderr)
            return EXIT_TIMEOUT
        time.sleep(0.05)


def _settled(state_dir: Path, status: Status) -> bool:
    # Read as the engine reads it: a file it refuses unread (not trusted, a link) has its answer
    # already, the refusal among the status's warnings; it will never be applied to wait for.
    control = read_model(state_dir / CONTROL_FILE, Control, trusted=True).value
    if control is None:
        return True
    seen = max(status.control.observed_generation, status.control.rejected_generation)
    return seen >= control.generation


def _common_options(parser: argparse.ArgumentParser, state_dir_arg: Callable[[argparse.ArgumentParser], None],
                    *, on_verb: bool) -> None:  # fmt: skip
    """--state-dir, --timeout and --queue, before the verb and after it alike. After the verb they
    default to SUPPRESS, so an option given before the verb is not reset by the verb's parser."""
    scratch = argparse.ArgumentParser(add_help=False)
    state_dir_arg(scratch)
    [action] = [a for a in scratch._actions if "--state-dir" in a.option_strings]
    parser.add_argument("--state-dir", type=action.type or str, help=action.help,
                        default=argparse.SUPPRESS if on_verb else None)  # fmt: skip
    parser.add_argument("--timeout", type=_wait_seconds, default=argparse.SUPPRESS if on_verb else 15.0,
                        help="seconds to wait for the engine's answer (default 15)")  # fmt: skip
    parser.add_argument("--queue", action="store_true", default=argparse.SUPPRESS if on_verb else False,
                        help="write even when no engine runs there: the next engine started there acts on it")  # fmt: skip


def _wait_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text}: expected seconds above 0 (default 15)")
    return value


def add_parser(sub: argparse._SubParsersAction, state_dir_arg) -> None:  # type: ignore[type-arg]
    ctl = sub.add_parser(
        "ctl", help="steer the running engine: pause, resume, set parameters, reload code, status",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    _common_options(ctl, state_dir_arg, on_verb=False)
    verbs = ctl.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in VERBS:
        parser = verbs.add_parser(verb.name, help=verb.help, description=verb.help)
        verb.arguments(parser)
        _common_options(parser, state_dir_arg, on_verb=True)
    for parser in ctl_books.add_verbs(verbs):
        _common_options(parser, state_dir_arg, on_verb=True)
