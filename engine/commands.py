"""The event-like commands (reload, check, rollback): run once each, acknowledged once each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from engine import supervision
from engine.contract.models import Ack, Command, utc_now_iso
from engine.reload.manager import ReloadOutcome
from engine.strategy_api.params import revalidate

if TYPE_CHECKING:
    from engine.loop import Engine
    from engine.trading.trader import CycleOutcome

# The commands whose costly part is prepared between cycles (engine/between_cycles.py); a boundary swaps them.
PREPARED_AHEAD = ("reload", "check")


def run_commands(engine: Engine, commands: tuple[Command, ...]) -> None:
    manager = engine.manager
    stale = [c for c in commands if manager.too_old(c.issued_at)]
    for command in stale:
        detail = (
            f"issued at {command.issued_at}, before the oldest command id this engine still remembers: it may have "
            "run already, so it is not run (send it again if still wanted)"
        )
        manager.record_ack(Ack(id=command.id, type=command.type, result="rejected", at=utc_now_iso(), detail=detail))
        engine.events.emit("command", f"{command.type} {command.id} refused: {detail}", command=command.id)
    if stale:
        commands = tuple(c for c in commands if c not in stale)
    # Write-ahead: the ids are on disk as started before anything runs, so a crash in the
    # middle never runs a command twice; the restarted engine refuses it instead (at most once).
    for command in commands:
        engine.manager.mark_started(command.id, command.type)
    engine.persist(durable=True)
    if engine.persist_error is not None:
        _refuse_undurable(engine, commands, engine.persist_error)
        return
    _run(engine, commands, may_defer=True)


def _refuse_undurable(engine: Engine, commands: tuple[Command, ...], error: str) -> None:
    """The write-ahead mark did not reach the disk: running now could run a command twice after
    a crash, so none runs; each is acknowledged rejected (the ack is persisted with the next
    checkpoint that succeeds; a crash before it leaves the command never run, still pending)."""
    detail = f"not run: its write-ahead mark could not be made durable ({error}); send it again once the disk has room"
    for command in commands:
        engine.manager.state.started_commands.pop(command.id, None)
        engine.manager.record_ack(Ack(id=command.id, type=command.type, result="rejected", at=utc_now_iso(), detail=detail))
        engine.events.emit("command", f"{command.type} {command.id} {detail}", command=command.id)


def run_deferred(engine: Engine) -> bool:
    """The commands the last boundary left for this one, prepared in the wait since. True if any ran."""
    commands, engine.deferred_commands = engine.deferred_commands, ()
    if not commands:
        return False
    _run(engine, commands, may_defer=False)
    return True


def _run(engine: Engine, commands: tuple[Command, ...], *, may_defer: bool) -> None:
    # Several reloads (or checks) queued in one cycle are one reload, each id acknowledged.
    outcomes: dict[str, ReloadOutcome] = {}
    for index, command in enumerate(commands):
        if command.type not in outcomes or command.type == "rollback":
            same = [c.id for c in commands if c.type == command.type] if command.type != "rollback" else [command.id]
            outcome = _execute(engine, command.type, same, may_defer, command.version)
            if outcome is None:
                # Not prepared yet: it is prepared in the wait after this cycle and swapped at the
                # next boundary, so the loop never stands still for a preparation. What follows it
                # waits too, to keep the operator's order.
                engine.deferred_commands = commands[index:]
                engine.between.prepare_soon(engine.manager.state.applied.overrides)
                return
            outcomes[command.type] = outcome
        outcome = outcomes[command.type]
        # A swap into code in probation is not final: its ack may still become rolled_back.
        probation = outcome.swapped and engine.reloader.probation_left > 0
        engine.manager.record_ack(
            Ack(id=command.id, type=command.type, result=outcome.ack_result, at=utc_now_iso(), detail=outcome.detail, final=not probation),  # type: ignore[arg-type]
            command.issued_at,
        )
        if outcome.swapped:
            # Every id the swap answered (two reloads at one boundary are one swap) shares its fate;
            # an earlier swap's ids are settled by this one (it replaced their code).
            if outcomes.get("_swap") is not outcome:
                _settle_probation(engine, "replaced by a later swap before its probation ended")
                outcomes["_swap"] = outcome
            if probation:
                engine.probation_ack_ids.append(command.id)


def interrupted(engine: Engine) -> None:
    """Commands a previous run started but never finished: acknowledged, never run again."""
    for command_id, kind in list(engine.manager.state.started_commands.items()):
        detail = "the engine stopped while running this command; it was not run again (send it again if still wanted)"
        engine.manager.record_ack(Ack(id=command_id, type=kind, result="rejected", at=utc_now_iso(), detail=detail))
        engine.events.emit("command", f"{kind} {command_id} interrupted by an engine stop; not run again", command=command_id)


def _execute(engine: Engine, kind: str, ids: list[str], may_defer: bool, target: str | None = None) -> ReloadOutcome | None:
    reloader = engine.reloader
    overrides = dict(engine.manager.state.applied.overrides)
    try:
        # The new code is smoke-tested with the operator's overrides too, not only its defaults.
        if may_defer and kind in PREPARED_AHEAD:
            ready = reloader.swap_if_prepared(kind, overrides=overrides)  # type: ignore[arg-type]
            if ready is None:
                return None
            outcome = ready
        elif kind == "check":
            outcome = reloader.check(overrides=overrides)
        elif kind == "reload":
            outcome = reloader.reload(overrides=overrides)
        elif target is not None:
            outcome = reloader.rollback_to(target, overrides=overrides)
        else:
            outcome = reloader.rollback()
    except Exception as exc:  # the reload manager promises outcomes; a bug in it must not stop trading
        version = reloader.code_status().version
        outcome = ReloadOutcome(
            ok=False, kind=kind, at=utc_now_iso(), duration_ms=0.0, changed=(), error=f"internal error: {exc!r}", version=version  # type: ignore[arg-type]
        )
    engine.events.emit("reload" if kind != "check" else "check", f"{kind}: {outcome.detail}", **outcome.to_event(), commands=ids)
    if outcome.swapped:
        _adopt_params(engine)
        # The replaced version is garbage now; collecting it before the next reload (cheap:
        # everything older is frozen) keeps reloads from fragmenting the heap, which is what grew
        # RSS reload after reload. It runs in the wait after this cycle, not in the cycle.
        engine.between.collect_pending = True
    return outcome


def _adopt_params(engine: Engine) -> None:
    """The new code's parameters are in force: keep the overrides it accepts, drop (and say) the rest."""
    model = engine.reloader.registry.params_model
    params, kept, dropped = revalidate(model, dict(engine.manager.state.applied.overrides))
    engine.set_params(params, kept)
    for warning in dropped:
        engine.warn(warning)


def after_cycle(engine: Engine, outcome: CycleOutcome) -> ReloadOutcome | None:
    """After the slots were evaluated: slot error events, the version's probation or its
    failure rate (engine/reload/manager.py), the acks that waited on it. The rollback, if any."""
    supervision.keep_signals(engine)
    state = engine.manager.state
    for event in engine.slot_errors.observe(outcome.errors, state.cycle, engine.reloader.registry.version):
        engine.events.emit(event.kind, event.message, **event.detail)
    failed = engine.reloader.last_failure
    rolled = engine.reloader.report_cycle(outcome.errors, outcome.kinds)
    if engine.reloader.last_failure is not failed and rolled is None:
        failure = engine.reloader.last_failure
        assert failure is not None
        engine.events.emit(
            "reload",
            f"version {failure.version} is failing ({failure.how} in {', '.join(failure.slots)}) and there is no "
            "earlier version to roll back to; it keeps running: fix the files and reload",
            version=failure.version,
            how=failure.how,
            slots=list(failure.slots),
            error=failure.error,
        )
    if rolled is not None:
        after_auto_rollback(engine, rolled)
    elif engine.reloader.proven is not None:
        proven = engine.reloader.proven
        _settle_probation(engine, f"{proven} passed its probation of {engine.reloader.probation_cycles} cycles")
        engine.events.emit("reload", f"version {proven} passed its probation; it is the last good version", version=proven)
    return rolled


def _settle_probation(engine: Engine, note: str, result: str | None = None) -> None:
    """The acks waiting on a probation get their final answer."""
    ids = set(engine.probation_ack_ids)
    engine.probation_ack_ids = []
    if not ids:
        return
    for ack in engine.manager.state.acks:
        if ack.id in ids:
            if result is not None:
                ack.result = result  # type: ignore[assignment]
                engine.manager.state.handled_commands[ack.id] = result
                ack.detail = note
            else:
                ack.detail = f"{ack.detail}; {note}"
            ack.final = True


def settle_after_restart(engine: Engine, boot_version: str) -> None:
    """Acks a previous run left waiting on a probation: the restart decided their fate."""
    for ack in engine.manager.state.acks:
        if not ack.final:
            ack.final = True
            if boot_version not in ack.detail:
                ack.result = "rolled_back"
                ack.detail = f"the engine stopped during this code's probation; it restarted on {boot_version}"
                engine.manager.state.handled_commands[ack.id] = "rolled_back"


def current_params(engine: Engine, params: BaseModel | None) -> BaseModel:
    """The parameters a boundary puts in force: the control file's, unless they were validated
    against code a deferred reload has just replaced, in which case they are validated again."""
    if params is None:
        return engine.params
    model = engine.reloader.registry.params_model
    if isinstance(params, model):
        return params
    validated, kept, dropped = revalidate(model, dict(engine.manager.state.applied.overrides))
    engine.set_params(validated, kept)
    for warning in dropped:
        engine.warn(warning)
    return validated


def after_auto_rollback(engine: Engine, outcome: ReloadOutcome) -> None:
    engine.events.emit("reload", f"auto rollback: {outcome.detail}", **outcome.to_event())
    _adopt_params(engine)
    engine.between.collect_pending = True  # the failed version is garbage now, as after any swap
    # The reload that brought the failing code is amended in place: its id keeps one ack.
    _settle_probation(engine, outcome.detail, "rolled_back")
