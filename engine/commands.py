"""The event-like commands (reload, check, rollback; shadow, promote, drop): run once each, acknowledged once each.

`Commands` owns what outlives one boundary: the commands a boundary left for the
next one (prepared in the wait between), and the acks that wait on a swapped
version's probation. The engine calls it at its boundaries and after each cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.between_cycles import PREPARED_AHEAD, BetweenCycles
from engine.contract.models import Ack, Command, utc_now_iso
from engine.events import EventLog
from engine.reload.manager import ReloadManager, ReloadOutcome
from engine.shadow.commands import TYPES as SHADOW_TYPES
from engine.shadow.commands import ShadowCommands
from engine.shadow.runner import ShadowRunner
from engine.trading.state import StateManager
from engine.trading.trader import CycleOutcome


@dataclass
class Commands:
    manager: StateManager
    reloader: ReloadManager
    events: EventLog
    between: BetweenCycles
    persist: Callable[[], str | None]  # the trading state durable now: why it could not be, or None
    adopt_params: Callable[[], None]  # new code runs: its parameters are put in force
    shadow: ShadowRunner
    deferred: tuple[Command, ...] = ()  # left by a boundary for the next one
    probation_ack_ids: list[str] = field(default_factory=list)
    shadow_commands: ShadowCommands = field(init=False)

    def __post_init__(self) -> None:
        self.shadow_commands = ShadowCommands(self.manager, self.reloader, self.events, self.shadow, self._promoted)

    def run(self, commands: tuple[Command, ...]) -> None:
        """The new commands a boundary found: marked started (durably) first, then run."""
        manager = self.manager
        stale = [c for c in commands if manager.too_old(c.issued_at)]
        for command in stale:
            detail = (
                f"issued at {command.issued_at}, before the oldest command id this engine still remembers: it may have "
                "run already, so it is not run (send it again if still wanted)"
            )
            manager.record_ack(Ack(id=command.id, type=command.type, result="rejected", at=utc_now_iso(), detail=detail))
            self.events.emit("command", f"{command.type} {command.id} refused: {detail}", command=command.id)
        if stale:
            commands = tuple(c for c in commands if c not in stale)
        # Write-ahead: the ids are on disk as started before anything runs, so a crash in the
        # middle never runs a command twice; the restarted engine refuses it instead (at most once).
        for command in commands:
            self.manager.mark_started(command.id, command.type)
        error = self.persist()
        if error is not None:
            self._refuse_undurable(commands, error)
            return
        self._run(commands, may_defer=True)

    def _refuse_undurable(self, commands: tuple[Command, ...], error: str) -> None:
        """The write-ahead mark did not reach the disk: running now could run a command twice after
        a crash, so none runs; each is acknowledged rejected (the ack is persisted with the next
        checkpoint that succeeds; a crash before it leaves the command never run, still pending)."""
        detail = f"not run: its write-ahead mark could not be made durable ({error}); send it again once the disk has room"
        for command in commands:
            self.manager.state.started_commands.pop(command.id, None)
            self.manager.record_ack(Ack(id=command.id, type=command.type, result="rejected", at=utc_now_iso(), detail=detail))
            self.events.emit("command", f"{command.type} {command.id} {detail}", command=command.id)

    def run_deferred(self) -> bool:
        """The commands the last boundary left for this one, prepared in the wait since. True if any ran."""
        commands, self.deferred = self.deferred, ()
        if not commands:
            return False
        self._run(commands, may_defer=False)
        return True

    def _run(self, commands: tuple[Command, ...], *, may_defer: bool) -> None:
        # Several reloads (or checks) queued in one cycle are one reload, each id acknowledged.
        outcomes: dict[str, ReloadOutcome] = {}
        last_swap: ReloadOutcome | None = None
        for index, command in enumerate(commands):
            if command.type in SHADOW_TYPES:
                if not self.shadow_commands.run(command, may_defer):
                    self.deferred = commands[index:]
                    self.between.prepare_soon(self.manager.state.applied.overrides)
                    return
                continue
            if command.type not in outcomes or command.type == "rollback":
                same = [c.id for c in commands if c.type == command.type] if command.type != "rollback" else [command.id]
                outcome = self._execute(command.type, same, may_defer, command.version)
                if outcome is None:
                    # Not prepared yet: it is prepared in the wait after this cycle and swapped at the
                    # next boundary, so the loop never stands still for a preparation. What follows it
                    # waits too, to keep the operator's order.
                    self.deferred = commands[index:]
                    self.between.prepare_soon(self.manager.state.applied.overrides)
                    return
                outcomes[command.type] = outcome
            outcome = outcomes[command.type]
            # A swap into code in probation is not final: its ack may still become rolled_back.
            probation = outcome.swapped and self.reloader.probation_left > 0
            self.manager.record_ack(
                Ack(id=command.id, type=command.type, result=outcome.ack_result, at=utc_now_iso(), detail=outcome.detail, final=not probation),  # type: ignore[arg-type]
                command.issued_at,
            )
            if outcome.swapped:
                # Every id the swap answered (two reloads at one boundary are one swap) shares its fate;
                # an earlier swap's ids are settled by this one (it replaced their code).
                if last_swap is not outcome:
                    self.settle_probation("replaced by a later swap before its probation ended")
                    last_swap = outcome
                if probation:
                    self.probation_ack_ids.append(command.id)

    def _promoted(self, command: Command, outcome: ReloadOutcome) -> None:
        """A shadow promoted: its candidate runs now, in probation like any swapped-in code."""
        self.adopt_params()
        self.between.collect_pending = True
        self.settle_probation("replaced by a later swap before its probation ended")
        probation = self.reloader.probation_left > 0
        self.manager.record_ack(
            Ack(id=command.id, type=command.type, result="applied", at=utc_now_iso(), detail=outcome.detail, final=not probation),
            command.issued_at,
        )
        if probation:
            self.probation_ack_ids.append(command.id)

    def interrupted(self) -> None:
        """Commands a previous run started but never finished: acknowledged, never run again."""
        for command_id, kind in list(self.manager.state.started_commands.items()):
            detail = "the engine stopped while running this command; it was not run again (send it again if still wanted)"
            self.manager.record_ack(Ack(id=command_id, type=kind, result="rejected", at=utc_now_iso(), detail=detail))
            self.events.emit("command", f"{kind} {command_id} interrupted by an engine stop; not run again", command=command_id)

    def _execute(self, kind: str, ids: list[str], may_defer: bool, target: str | None = None) -> ReloadOutcome | None:
        reloader = self.reloader
        overrides = dict(self.manager.state.applied.overrides)
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
        self.events.emit("reload" if kind != "check" else "check", f"{kind}: {outcome.detail}", **outcome.to_event(), commands=ids)
        if kind == "check" and outcome.ok:
            self.shadow.want_preview(ids)  # this cycle's decisions, the candidate's beside them
        if outcome.swapped:
            # The version store learns of the swap before the new code's first cycle (a version that
            # kills the process in it must be on record as the one in probation): after the pause.
            reloader.flush_store()
            self.adopt_params()
            # The replaced version is garbage now; collecting it before the next reload (cheap:
            # everything older is frozen) keeps reloads from fragmenting the heap, which is what grew
            # RSS reload after reload. It runs in the wait after this cycle, not in the cycle.
            self.between.collect_pending = True
        return outcome

    def after_cycle(self, outcome: CycleOutcome) -> ReloadOutcome | None:
        """After the slots were evaluated: the version's probation or its failure rate
        (engine/reload/manager.py), the acks that waited on it. The rollback, if any."""
        failed = self.reloader.last_failure
        rolled = self.reloader.report_cycle(outcome.errors, outcome.kinds)
        if self.reloader.last_failure is not failed and rolled is None:
            failure = self.reloader.last_failure
            assert failure is not None
            self.events.emit(
                "reload",
                f"version {failure.version} is failing ({failure.how} in {', '.join(failure.slots)}) and there is no "
                "earlier version to roll back to; it keeps running: fix the files and reload",
                version=failure.version,
                how=failure.how,
                slots=list(failure.slots),
                error=failure.error,
            )
        if rolled is not None or self.reloader.proven is not None:
            # Rare (a version proven or failed): on record before this cycle's status says so.
            self.reloader.flush_store()
        if rolled is not None:
            self.after_auto_rollback(rolled)
        elif self.reloader.proven is not None:
            proven = self.reloader.proven
            self.settle_probation(f"{proven} passed its probation of {self.reloader.probation_cycles} cycles")
            self.events.emit("reload", f"version {proven} passed its probation; it is the last good version", version=proven)
        return rolled

    def settle_probation(self, note: str, result: str | None = None) -> None:
        """The acks waiting on a probation get their final answer."""
        ids = set(self.probation_ack_ids)
        self.probation_ack_ids = []
        if not ids:
            return
        for ack in self.manager.state.acks:
            if ack.id in ids:
                if result is not None:
                    ack.result = result  # type: ignore[assignment]
                    self.manager.state.handled_commands[ack.id] = result
                    ack.detail = note
                else:
                    ack.detail = f"{ack.detail}; {note}"
                ack.final = True

    def settle_after_restart(self, boot_version: str) -> None:
        """Acks a previous run left waiting on a probation: the restart decided their fate."""
        for ack in self.manager.state.acks:
            if not ack.final:
                ack.final = True
                if boot_version not in ack.detail:
                    ack.result = "rolled_back"
                    ack.detail = f"the engine stopped during this code's probation; it restarted on {boot_version}"
                    self.manager.state.handled_commands[ack.id] = "rolled_back"

    def after_auto_rollback(self, outcome: ReloadOutcome) -> None:
        self.events.emit("reload", f"auto rollback: {outcome.detail}", **outcome.to_event())
        self.adopt_params()
        self.between.collect_pending = True  # the failed version is garbage now, as after any swap
        # The reload that brought the failing code is amended in place: its id keeps one ack.
        self.settle_probation(outcome.detail, "rolled_back")
