"""The shadow's commands (shadow, promote, drop): run at a cycle boundary, acknowledged once each.

`shadow` goes through every check a reload makes (prepared ahead between cycles like
a check, engine/idle.py) and starts the shadow only if they pass; `promote` swaps
the checked candidate in with a reload's commit, into probation like any new code;
`drop` ends the shadow and changes nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import command_runner
from engine.contract import Ack, Command, utc_now_iso

if TYPE_CHECKING:
    from engine.loop import Engine

TYPES = ("shadow", "promote", "drop")


def run(engine: Engine, command: Command, may_defer: bool) -> bool:
    """Run one shadow command; False when its candidate is not prepared yet (the boundary defers it)."""
    if command.type == "shadow":
        answer = _shadow(engine, command, may_defer)
        if answer is None:
            return False
        ok, detail = answer
    elif command.type == "promote":
        return _promote(engine, command)
    else:
        ok, detail = _drop(engine)
    _ack(engine, command, ok, detail)
    return True


def _shadow(engine: Engine, command: Command, may_defer: bool) -> tuple[bool, str] | None:
    overrides = dict(engine.manager.state.applied.overrides)
    shadow = engine.shadow
    if command.aa:
        return True, shadow.start(None, aa=True, cycles=command.cycles, overrides=overrides)
    reloader = engine.reloader
    outcome = reloader.swap_if_prepared("check", overrides=overrides) if may_defer else reloader.check(overrides=overrides)
    if outcome is None:
        return None
    engine.events.emit("check", f"shadow's check: {outcome.detail}", **outcome.to_event(), commands=[command.id])
    if not outcome.ok:
        return False, f"shadow refused, nothing changed: {outcome.error}"
    prepared = reloader.checked
    assert prepared is not None and prepared.version is not None
    if prepared.version.version == reloader.registry.version:
        # The files on disk are the running code: that is the A/A control, said as such.
        detail = shadow.start(None, aa=True, cycles=command.cycles, overrides=overrides)
        return True, f"the files on disk are the running code; {detail}"
    return True, shadow.start(prepared, aa=False, cycles=command.cycles, overrides=overrides)


def _drop(engine: Engine) -> tuple[bool, str]:
    shadow = engine.shadow.active
    if shadow is None:
        return False, "no shadow is running: nothing to drop"
    version = shadow.report.version
    engine.shadow.finish("dropped", "dropped by an operator")
    return True, f"shadow {version} dropped; nothing else changed, {engine.reloader.registry.version} keeps running"


def _promote(engine: Engine, command: Command) -> bool:
    shadow = engine.shadow.active
    if shadow is None or shadow.preparation is None:
        why = "no shadow is running: start one (foresight ctl shadow)" if shadow is None else (
            "the running shadow is the A/A control (the running code itself): nothing to promote"
        )  # fmt: skip
        _ack(engine, command, False, why)
        return True
    outcome = engine.reloader.promote(shadow.preparation)
    engine.events.emit("reload", f"promote: {outcome.detail}", **outcome.to_event(), commands=[command.id])
    if not outcome.ok:
        _ack(engine, command, False, outcome.detail)
        return True
    command_runner._adopt_params(engine)
    engine.between.collect_pending = True
    report = shadow.report
    engine.shadow.finish("promoted", f"promoted after {report.cycles} cycles ({report.differ} of {report.compared} decisions differed)")
    command_runner._settle_probation(engine, "replaced by a later swap before its probation ended")
    probation = engine.reloader.probation_left > 0
    engine.manager.record_ack(
        Ack(id=command.id, type=command.type, result="applied", at=utc_now_iso(), detail=outcome.detail, final=not probation),
        command.issued_at,
    )
    if probation:
        engine.probation_ack_ids.append(command.id)
    return True


def _ack(engine: Engine, command: Command, ok: bool, detail: str) -> None:
    engine.manager.record_ack(
        Ack(id=command.id, type=command.type, result="applied" if ok else "rejected", at=utc_now_iso(), detail=detail),
        command.issued_at,
    )
    engine.events.emit("shadow", f"{command.type} {command.id}: {detail}", command=command.id, ok=ok)
