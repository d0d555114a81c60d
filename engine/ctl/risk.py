"""`foresight ctl risk set|unset|resume|show`: the engine's risk limits, through control.json.

`set` and `unset` validate the whole resulting set of limits before writing (all or
nothing, exit 2 and nothing written on a bad value), then wait for the engine like
every ctl write. `resume` names the tripped limit shown in status.json, so only a
trip the operator has seen is cleared; `foresight ctl resume` does the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from engine.contract.control_writer import ControlWriter, resume_trip
from engine.contract.fileio import describe_validation_error
from engine.contract.finite import not_finite
from engine.contract.models import RiskLimits
from engine.ctl.answers import (
    EXIT_REFUSED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    engine_absent,
    follow,
    no_engine,
    read_status,
    unreadable_status,
)

LIMITS = tuple(RiskLimits.model_fields)


def add_verb(verbs: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:  # type: ignore[type-arg]
    """The `risk` verb; returns its parsers, which take ctl's common options too."""
    risk = verbs.add_parser("risk", help="engine-level risk limits: set, unset, resume, show")
    actions = risk.add_subparsers(dest="risk_action", required=True, metavar="ACTION")
    p = actions.add_parser("set", help=f"set limits, all or nothing ({', '.join(LIMITS)})")
    p.add_argument("assignments", nargs="+", metavar="LIMIT=VALUE")
    p = actions.add_parser("unset", help="remove limits")
    p.add_argument("names", nargs="+", metavar="LIMIT")
    resume = actions.add_parser("resume", help="allow entries again after a tripped limit")
    show = actions.add_parser("show", help="the limits in force, their figures and a trip")
    show.add_argument("--json", action="store_true")
    return [risk, resume, show, *(actions.choices[name] for name in ("set", "unset"))]


def run(state_dir: Path, args: argparse.Namespace) -> int:
    writer = ControlWriter(state_dir, tool="ctl")
    action = args.risk_action
    if action == "show":
        return show(state_dir, args.json)
    try:  # bad input is refused as bad input, engine or not
        values = parse_limits(args.assignments) if action == "set" else {}
        unknown = [n for n in getattr(args, "names", []) if n not in LIMITS]
        if unknown:
            raise ValueError(f"unknown risk limit {unknown[0]!r}; the limits are: {', '.join(LIMITS)}")
        RiskLimits.model_validate(values)
    except (ValidationError, ValueError) as exc:
        return _bad_input(exc)
    if not args.queue and (absent := engine_absent(state_dir)) is not None:
        return no_engine(state_dir, absent)  # as every other writing verb
    try:
        if action == "resume":
            result = resume_trip(state_dir, writer)
            if result is None:
                print("foresight ctl: no risk limit is tripped (status.json shows none); nothing to resume", file=sys.stderr)
                return EXIT_REFUSED
        else:
            result = writer.update(lambda c: _replace(c, values, tuple(getattr(args, "names", ()))))
    except (ValidationError, ValueError, OSError) as exc:
        return _bad_input(exc)
    return follow(state_dir, result, queue=args.queue, timeout=args.timeout)


def _bad_input(exc: Exception) -> int:
    if isinstance(exc, ValidationError):
        print(f"foresight ctl: refused before writing: {describe_validation_error(exc, 'risk limits')}", file=sys.stderr)
    else:
        print(f"foresight ctl: {exc}", file=sys.stderr)
    return EXIT_USAGE

def parse_limits(pairs: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"expected LIMIT=VALUE, got {pair!r}")
        if key not in LIMITS:
            raise ValueError(f"unknown risk limit {key!r}; the limits are: {', '.join(LIMITS)}")
        if key in values:
            raise ValueError(f"{key} is given twice ({values[key]} and {raw.strip()}): give each limit once, nothing written")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError(f"{key}={raw!r}: expected a number") from None
        if (problem := not_finite(values[key], key)) is not None:  # json.loads takes NaN and Infinity
            raise ValueError(problem)
    RiskLimits.model_validate(values)  # all or nothing, before anything is written
    return values


def _replace(control, values: dict[str, object], unset: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    merged = {**control.risk.model_dump(), **values}
    for name in unset:
        merged[name] = None
    control.risk = RiskLimits.model_validate(merged)


def show(state_dir: Path, as_json: bool) -> int:
    status = read_status(state_dir)
    if status is None:
        print(f"foresight ctl: {unreadable_status(state_dir)}", file=sys.stderr)
        return EXIT_TIMEOUT
    risk = status.risk
    if as_json:
        print(risk.model_dump_json(indent=2))
        return 0
    f = risk.figures
    print("limits   " + (", ".join(f"{k}={v:g}" for k, v in risk.limits.items()) or "none"))
    print(f"figures  day {f.day} P&L {f.daily_pnl:+.2f}, {f.consecutive_losses} losses in a row, "
          f"drawdown {f.drawdown:.2f} (peak {f.peak_pnl:+.2f}), open stake {f.open_stake:.2f}")  # fmt: skip
    print(f"tripped  {risk.tripped.message} (id {risk.tripped.id})" if risk.tripped else "tripped  no")
    if risk.skipped_entries:
        print(f"skipped  {risk.skipped_entries} entries by max_open_stake")
    return 0
