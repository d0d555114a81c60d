"""The shadow's commands (shadow, promote, drop): run at a cycle boundary, acknowledged once each.

`shadow` goes through every check a reload makes (prepared ahead between cycles like
a check, engine/between_cycles.py) and starts the shadow only if they pass; `promote` swaps
the checked candidate in with a reload's commit, into probation like any new code;
`drop` ends the shadow and changes nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.contract.models import Ack, Command, utc_now_iso

if TYPE_CHECKING:
    from engine.commands import Commands

TYPES = ("shadow", "promote", "drop")


def run(commands: Commands, command: Command, may_defer: bool) -> bool:
    """Run one shadow command; False when its candidate is not prepared yet (the boundary defers it)."""
    if command.type == "shadow":
        answer = _shadow(commands, command, may_defer)
        if answer is None:
            return False
        ok, detail = answer
    elif command.type == "promote":
        return _promote(commands, command)
    else:
        ok, detail = _drop(commands)
    _ack(commands, command, ok, detail)
    return True


def _shadow(commands: Commands, command: Command, may_defer: bool) -> tuple[bool, str] | None:
    overrides = dict(commands.manager.state.applied.overrides)
    shadow = commands.shadow
    if command.aa:
        return True, shadow.start(None, aa=True, cycles=command.cycles, overrides=overrides)
    reloader = commands.reloader
    outcome = reloader.swap_if_prepared("check", overrides=overrides) if may_defer else reloader.check(overrides=overrides)
    if outcome is None:
        return None
    commands.events.emit("check", f"shadow's check: {outcome.detail}", **outcome.to_event(), commands=[command.id])
    if not outcome.ok:
        return False, f"shadow refused, nothing changed: {outcome.error}"
    prepared = reloader.checked
    assert prepared is not None and prepared.version is not None
    if prepared.version.version == reloader.registry.version:
        # The files on disk are the running code: that is the A/A control, said as such.
        detail = shadow.start(None, aa=True, cycles=command.cycles, overrides=overrides)
        return True, f"the files on disk are the running code; {detail}"
    return True, shadow.start(prepared, aa=False, cycles=command.cycles, overrides=overrides)


def _drop(commands: Commands) -> tuple[bool, str]:
    shadow = commands.shadow.active
    if shadow is None:
        return False, "no shadow is running: nothing to drop"
    version = shadow.report.version
    commands.shadow.finish("dropped", "dropped by an operator")
    return True, f"shadow {version} dropped; nothing else changed, {commands.reloader.registry.version} keeps running"


def _promote(commands: Commands, command: Command) -> bool:
    shadow = commands.shadow.active
    if shadow is None or shadow.preparation is None:
        why = "no shadow is running: start one (foresight ctl shadow)" if shadow is None else (
            "the running shadow is the A/A control (the running code itself): nothing to promote"
        )  # fmt: skip
        _ack(commands, command, False, why)
        return True
    outcome = commands.reloader.promote(shadow.preparation)
    commands.events.emit("reload", f"promote: {outcome.detail}", **outcome.to_event(), commands=[command.id])
    if not outcome.ok:
        _ack(commands, command, False, outcome.detail)
        return True
    commands.adopt_params()
    commands.between.collect_pending = True
    report = shadow.report
    commands.shadow.finish("promoted", f"promoted after {report.cycles} cycles ({report.differ} of {report.compared} decisions differed)")
    commands.settle_probation("replaced by a later swap before its probation ended")
    probation = commands.reloader.probation_left > 0
    commands.manager.record_ack(
        Ack(id=command.id, type=command.type, result="applied", at=utc_now_iso(), detail=outcome.detail, final=not probation),
        command.issued_at,
    )
    if probation:
        commands.probation_ack_ids.append(command.id)
    return True


def _ack(commands: Commands, command: Command, ok: bool, detail: str) -> None:
    commands.manager.record_ack(
        Ack(id=command.id, type=command.type, result="applied" if ok else "rejected", at=utc_now_iso(), detail=detail),
        command.issued_at,
    )
    commands.events.emit("shadow", f"{command.type} {command.id}: {detail}", command=command.id, ok=ok)
