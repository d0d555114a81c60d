"""`foresight ctl` verbs of shadow deploys: `check` with its preview, `shadow`, `promote`, `drop`.

`check` waits for the ack, then prints the preview the engine took on that cycle's
market (the differing slots first), the parameter changes and the source diff;
`--json` prints them as one object with a `preview` list. `shadow` starts a shadow
(after the same checks as a reload), `promote` swaps it in (waited through its
probation like a reload), `drop` ends it; `ctl shadow --report` prints the report.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from engine.contract.control_writer import ControlWriter
from engine.contract.models import MAX_SHADOW_CYCLES, CodePreview, Command, Control, DecisionBrief, ShadowStatus, utc_now_iso
from engine.ctl.answers import EXIT_APPLIED, EXIT_TIMEOUT, EXIT_USAGE, engine_absent, read_status, unreadable_status
from engine.ctl.versions import run_command, wait_for_outcome


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the outcome and the preview as JSON")
    parser.add_argument("--no-diff", action="store_true", help="leave the source diff out")


def add_shadow_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cycles", type=int, default=None, help="end the shadow after N cycles (its report stays)")
    parser.add_argument("--aa", action="store_true", help="shadow the running code against itself first (A/A: 0 differences expected)")
    parser.add_argument("--report", action="store_true", help="print the current shadow's report and send nothing")
    parser.add_argument("--json", action="store_true", help="with --report: print it as JSON")


def check(args: argparse.Namespace, writer: ControlWriter) -> int:
    result, command = writer.send_command("check")
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    code, message = wait_for_outcome(args.state_dir, command.id, args.timeout)
    preview = _preview_of(args.state_dir, command.id)
    if args.json:
        print(json.dumps({"exit": code, "outcome": message, **(_preview_json(preview) if preview else {"preview": []})}, indent=2))
        return code
    print(message, file=sys.stdout if code == EXIT_APPLIED else sys.stderr)
    if preview is not None:
        print(render_preview(preview, diff=not args.no_diff))
    return code


def shadow(args: argparse.Namespace, writer: ControlWriter) -> int:
    if args.report:
        return report(args.state_dir, as_json=args.json)
    absent = None if args.queue else engine_absent(args.state_dir)
    if absent is not None:  # the verb table's own check, after --report (which reads only)
        print(
            f"foresight ctl: {absent}: nothing written. Start one (foresight engine --state-dir {args.state_dir}), "
            "or add --queue to leave the shadow for the next engine that starts there.",
            file=sys.stderr,
        )
        return EXIT_TIMEOUT
    if args.cycles is not None and not 1 <= args.cycles <= MAX_SHADOW_CYCLES:
        print(f"foresight ctl: --cycles must be between 1 and {MAX_SHADOW_CYCLES}, nothing written", file=sys.stderr)
        return EXIT_USAGE
    command = Command(id=f"shadow-{uuid.uuid4().hex[:12]}", type="shadow", issued_at=utc_now_iso(), cycles=args.cycles, aa=args.aa)

    def mutate(c: Control) -> None:
        c.commands = [*c.commands, command]

    result = writer.update(mutate)
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    if args.queue and engine_absent(args.state_dir) is not None:
        print(f"queued: shadow {command.id}; the next engine started in {args.state_dir} starts it")
        return EXIT_APPLIED
    code, message = wait_for_outcome(args.state_dir, command.id, args.timeout)
    print(message, file=sys.stdout if code == EXIT_APPLIED else sys.stderr)
    return code


def promote(args: argparse.Namespace, writer: ControlWriter) -> int:
    return run_command(writer, args.state_dir, "promote", args)


def drop(args: argparse.Namespace, writer: ControlWriter) -> int:
    return run_command(writer, args.state_dir, "drop", args)


def report(state_dir: Path, *, as_json: bool) -> int:
    status = read_status(state_dir)
    if status is None:
        print(f"foresight ctl: {unreadable_status(state_dir)}", file=sys.stderr)
        return EXIT_TIMEOUT
    shadow = status.code.shadow
    if as_json:
        print(shadow.model_dump_json(indent=2) if shadow else "null")
        return EXIT_APPLIED
    print(render_shadow(shadow) if shadow else "no shadow has run since the engine started (foresight ctl shadow)")
    return EXIT_APPLIED


def _preview_of(state_dir: Path, command_id: str) -> CodePreview | None:
    status = read_status(state_dir)
    preview = status.code.preview if status else None
    return preview if preview is not None and command_id in preview.commands else None


def _preview_json(preview: CodePreview) -> dict:
    data = preview.model_dump(mode="json")
    data["preview"] = [
        {"slot": r["slot"], "live": r["live"], "candidate": r["candidate"], "differs": r["differs"]} for r in data.pop("rows")
    ]
    return data


def _decision(d: DecisionBrief | None) -> str:
    if d is None:
        return "-"
    return f"{d.direction} {d.confidence:.0%} {'ENTER' if d.enter else 'wait'}" + (f" ({d.reason})" if d.reason else "")


def render_preview(preview: CodePreview, *, diff: bool = True) -> str:
    lines = [f"preview at cycle {preview.cycle}: {preview.candidate} {preview.summary} (running {preview.running})"]
    if preview.error:
        lines.append(f"the candidate failed on live data: {preview.error}")
    width = max((len(r.slot) for r in preview.rows), default=4)
    for row in preview.rows:
        mark = "*" if row.differs else " "
        lines.append(f"{mark} {row.slot.ljust(width)}  live {_decision(row.live):<40}  candidate {_decision(row.candidate)}")
    if preview.params:
        lines.append("parameters:")
        for change in preview.params:
            if change.change == "new":
                lines.append(f"  + {change.name} (new, default {change.new!r})")
            elif change.change == "removed":
                lines.append(f"  - {change.name} (removed; its default was {change.old!r})")
            else:
                lines.append(f"  ~ {change.name} default {change.old!r} -> {change.new!r}")
    else:
        lines.append("parameters: no change")
    if diff:
        lines.append(preview.diff.rstrip("\n") if preview.diff else "source: no change")
    return "\n".join(lines)


def render_shadow(shadow: ShadowStatus) -> str:
    kind = "A/A control" if shadow.aa else f"beside {shadow.base_version}"
    limit = f" of {shadow.cycles_limit}" if shadow.cycles_limit else ""
    lines = [f"control  {shadow.aa_control}"] if shadow.aa_control else []
    lines += [
        f"shadow   {shadow.version} {kind}: {shadow.state.upper()}" + (f" ({shadow.reason})" if shadow.reason else ""),
        f"cycles   {shadow.cycles}{limit} since cycle {shadow.started_cycle} ({shadow.skipped} skipped for lack of room, {shadow.failures} failures)",
        f"compared {shadow.compared} decisions, {shadow.differ} differ",
        f"entries  live {shadow.entries_live}, shadow {shadow.entries_shadow}",
        f"P&L      live {shadow.pnl_live:+.2f} over {shadow.bets_live} bets, shadow {shadow.pnl_shadow:+.2f} over {shadow.bets_shadow}",
    ]
    most = sorted((s for s in shadow.slots if s.differ), key=lambda s: -s.differ)[:8]
    for s in most:
        lines.append(f"  {s.slot:<10} differs {s.differ}/{s.compared}  live {_decision(s.live)}  shadow {_decision(s.shadow)}")
    return "\n".join(lines)
