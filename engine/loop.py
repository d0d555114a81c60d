"""The cycle loop. Each step is a call into the module named for it:

    read control -> apply intent and commands -> advance the market ->
    evaluate the slots -> resolve ended windows -> record bets in the ledger ->
    judge the risk limits -> persist state -> write status

State is persisted before status is written, so nothing an operator sees in
status.json (a new position, a resolution) can be undone by a crash.
"""

from __future__ import annotations

import gc
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping

from pydantic import BaseModel

from engine import collector
from engine.between_cycles import BetweenCycles
from engine.commands import Commands
from engine.config import EngineConfig
from engine.contract.control_writer import user_name
from engine.contract.fileio import clean_temp_files
from engine.contract.ledger_schema import LEDGER_FILE
from engine.contract.models import ENGINE_LOCK, EVENTS_FILE, STATE_FILE, STATUS_FILE, AppliedIntent, EngineInfo, utc_now_iso
from engine.control_intake import ControlIntake, Intake
from engine.disk_trouble import DiskTrouble
from engine.events import EventLog
from engine.market.feed_events import FeedWatch
from engine.market.makers import describe as describe_maker
from engine.market.market import Market
from engine.market.replay_feed import ReplayFeed
from engine.market_setup import feed_for, maker_for, market_source
from engine.ops.alerts import EngineAlerts
from engine.ops.sd_notify import SdNotify
from engine.process_guard import AlreadyRunning, EngineLock, StopSignal
from engine.reload import boot
from engine.reload.guard import StrategyStopped
from engine.reload.manager import ReloadManager, StrategyLoadError
from engine.reload.version_store import VersionStore
from engine.shadow.runner import ShadowRunner
from engine.startup_errors import EXIT_ALREADY_RUNNING, EXIT_FILESYSTEM
from engine.state_dir import prepare_state_dir
from engine.status_file import StatusFile
from engine.status_report import LoopFigures, render_status
from engine.strategy_api.params import revalidate
from engine.supervision import Supervision
from engine.trading.feed_change import market_change
from engine.trading.ledger import Ledger
from engine.trading.risk import RiskGuard
from engine.trading.slot_coverage import check_coverage
from engine.trading.slot_errors import SlotErrorLog
from engine.trading.slots import parse_window, slot_set
from engine.trading.state import SlotRecord, StateManager, TradingState
from engine.trading.trader import Trader


class Engine:
    def __init__(self, config: EngineConfig) -> None:
        config.validate()
        self.config = config
        self.dir = prepare_state_dir(config.state_dir)
        self.lock = EngineLock(self.dir)
        self.stop = StopSignal()
        self.events = EventLog(self.dir / EVENTS_FILE, echo=config.echo_events)
        self.boot_id = uuid.uuid4().hex
        self.started_at = utc_now_iso()
        self.figures = LoopFigures(cycle_interval_s=config.cycle_interval_s)
        self.warnings: list[str] = []
        self.persist_error: str | None = None
        self._store_behind: str | None = None  # the version store's error last reported
        self.trouble = DiskTrouble(self.events)
        self.stopped_at: str | None = None  # set for the last status.json, after a clean stop
        self.exit_code = 0  # not 0 when the engine stopped by itself (directory_gone)
        self.feed_watch = FeedWatch()
        self.alerts = EngineAlerts.start(config.notify, self.events, str(self.dir))  # None without --notify
        self.slot_errors = SlotErrorLog()
        self.notifier = SdNotify.from_environment()
        self.status_file = StatusFile(self.dir / STATUS_FILE)
        self.user = user_name()  # the process's user, looked up once rather than in every status
        self._market_afresh = False  # resumed on another feed than the state's (trading/feed_change.py)

    # ------------------------------------------------------------------ start

    def open(self) -> None:
        """Everything before the first cycle: lock, leftovers, code, state, market."""
        self.lock.acquire()
        here = os.stat(self.dir)
        self._dir_identity = (here.st_dev, here.st_ino)
        leftovers = clean_temp_files(self.dir)
        self.specs = slot_set(self.config.assets, self.config.windows)
        booted = self._open_code()
        self.supervision = Supervision(self.reloader, self.store, self.stop, self.events, self.notifier)
        self.manager = StateManager.open(self.dir / STATE_FILE, accept_loss=self.config.accept_loss)
        state = self.manager.state
        check_coverage(state, self.specs)
        self._open_market(state)
        self.trader = Trader(self.specs, self.manager, self.market)
        self.trader.ensure_slots()
        self.shadow = ShadowRunner(
            self.reloader, self.manager, self.trader, self.events, self.config.cycle_interval_s, room=self.config.shadow_room
        )
        self._open_commands(booted, state)
        for loss in self.manager.losses:
            self.events.emit("loss", loss)
        self._open_books(state)
        if self._market_afresh:  # durable now: a crash before the next checkpoint must not resume the old market
            self.persist(durable=True)
        if self.manager.resumed:
            self.events.emit(
                "engine",
                f"resumed state.json at cycle {state.cycle}: {self.manager.open_positions()} open positions, "
                f"P&L {state.pnl:+.2f}, {'paused' if state.applied.paused else 'running'}",
                cycle=state.cycle,
            )
        # Everything loaded so far lives as long as the process: keep the collector off it, so
        # old code versions dropped by reloads are collected cheaply and the heap stays compact.
        gc.collect()
        gc.freeze()
        self.events.emit(
            "engine",
            f"engine started pid {os.getpid()} on {len(self.specs)} slots, code {self.reloader.code_status().version}",
            boot_id=self.boot_id,
            cleaned_temp_files=len(leftovers),
            boot=booted.why,
        )
        self.notifier.ready(f"cycling on code {booted.version}")

    def _open_code(self) -> boot.Boot:
        """The version store and the code it names (the boot decides which version runs)."""
        self.store = VersionStore(self.dir, keep=self.config.keep_versions, background_sync=True)
        self.reloader = ReloadManager(
            self.config.strategies_path,
            probation_cycles=self.config.probation_cycles,
            budgets=self.config.budgets,
            store=self.store,
        )
        booted = boot.load_code(self.reloader, self.store, from_disk=self.config.load_from_disk)
        self.reloader.boot = booted.why
        self.store.mark_started()
        return booted

    def _open_market(self, state: TradingState) -> None:
        """The feed and the paper market, resumed where the state left them."""
        assets = tuple(dict.fromkeys(spec.asset for spec in self.specs))
        source = market_source(self.config)
        changed = market_change(state, source) if self.manager.resumed else None  # refused before a long read
        files = self.config.replay_files
        if files:  # a recording of months takes seconds to read: say so before, and what came of it after
            size = sum(path.stat().st_size for path in files if path.is_file())
            self.events.emit("feed", f"replay: reading {', '.join(map(str, files))} ({size / 2**20:.1f} MiB)")
        started = time.monotonic()
        feed = feed_for(
            self.config, assets, stopping=lambda: self.stop.requested is not None, announce=self._feed_note
        )
        if isinstance(feed, ReplayFeed):
            self.events.emit("feed", f"replay: read {feed.summary()} in {time.monotonic() - started:.1f} s")
        self.market = Market(
            feed, assets, (parse_window(w) for w in self.config.windows), self.config.step_s, self.config.seed, maker_for(self.config)
        )
        self.market.source = source
        if self.manager.resumed and changed is None:
            self.market.restore(state.market, state.sim_time)
        else:
            start = feed.start_time() or float(round(time.time()))
            state.sim_time = start
            self.market.start(start)
        for note in self.market.health.notes if self.market.health else ():
            self.warn(note)  # e.g. the gaps of a recording
        if changed is not None:
            self.warn(changed)
            self._market_afresh = True

    def _feed_note(self, text: str) -> None:
        self.events.emit("feed", text)

    def _open_commands(self, booted: boot.Boot, state: TradingState) -> None:
        """The control intake and the commands, settled after a restart; the overrides in force revalidated."""
        self.intake = ControlIntake(self.dir, frozenset(spec.id for spec in self.specs), applied_digest=state.applied_digest)
        self.between = BetweenCycles(
            self.intake, self.reloader, self.stop, lambda: self.manager.state.last_generation, self.manager.is_handled
        )
        self.commands = Commands(
            self.manager, self.reloader, self.events, self.between, persist=self.persist_durably, adopt_params=self.adopt_params,
            shadow=self.shadow,
        )
        self.commands.interrupted()
        self.commands.settle_after_restart(booted.version)
        for warning in booted.warnings:
            self.warn(warning)
        self.params, kept, dropped = revalidate(self.reloader.registry.params_model, dict(state.applied.overrides))
        state.applied = AppliedIntent(paused=state.applied.paused, paused_slots=state.applied.paused_slots, overrides=kept)
        for warning in dropped:
            self.warn(warning)

    def _open_books(self, state: TradingState) -> None:
        """The ledger reconciled with the state (events.jsonl imported once), and the risk limits on it."""
        self.ledger = Ledger(self.dir / LEDGER_FILE, self.boot_id, self.events)
        events_files = [self.dir / (EVENTS_FILE + ".1"), self.dir / EVENTS_FILE]
        books = self.ledger.reconcile(state, self.manager.resumed, self.ledger.provenance(self.reloader.registry.current.version, self.params), events_files)
        self.events.emit("ledger", f"{LEDGER_FILE} book {books.book[:8]}: {books.summary()}", **vars(books))
        for note in books.notes:
            self.warn(note)
        self.risk = RiskGuard(self.manager, self.ledger, self.events)
        self.between.chores += [self.ledger.checkpoint, self.status_file.prepare]

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        del self.warnings[:-10]
        self.events.emit("warning", message)

    # ------------------------------------------------------------------- loop

    def run(self) -> int:
        self.stop.install()
        try:
            self.open()
        except (StrategyStopped, StrategyLoadError):
            if self.stop.requested is None:
                raise
            # A stop asked while starting (the first-price wait, a long replay read): every
            # strategy call after it is refused, which is the stop's doing, not the code's.
            self._close_unstarted()
            return self.exit_code
        interval = self.config.cycle_interval_s
        deadline = time.monotonic()
        try:
            while self.stop.requested is None:
                if (gone := self.directory_gone()) is not None:
                    self.stop.requested, self.exit_code = gone  # said in "engine stopped (...)" too
                    break
                started = time.perf_counter()
                self.cycle()
                elapsed = time.perf_counter() - started
                self.record_timing(elapsed)
                self.notifier.heartbeat(self.manager.state.cycle, self.reloader.registry.version)
                if self.config.max_cycles is not None and self.manager.state.cycle >= self.config.max_cycles:
                    break
                deadline += interval
                now = time.monotonic()
                if now > deadline:
                    deadline = now  # overran: start the next cycle at once, counted, not drifted silently
                self.between.wait_until(deadline)
        finally:
            self.notifier.stopping()
            self.persist()
            self._close(f"engine stopped ({self.stop.requested or 'finished'}) at cycle {self.manager.state.cycle}", started=True)
        return self.exit_code

    def _close_unstarted(self) -> None:
        """What open() had opened, closed; nothing has traded and no status was written."""
        self._close(f"engine stopped ({self.stop.requested}) while starting, before its first cycle", started=False)

    def _close(self, said: str, *, started: bool) -> None:
        """The way out, after a run or a start cut short: each part open() had made is closed
        (a start cut short made only some), `said` in the event log, and the lock let go last.
        A run that started also writes its last status, saying STOPPED."""
        if hasattr(self, "market"):
            self.market.close()
        if hasattr(self, "ledger"):
            self.ledger.close()
        if hasattr(self, "supervision"):
            self.supervision.stopped()
        self.events.emit("engine", said)
        if started:
            self.stopped_at = utc_now_iso()
            self.write_status()  # says STOPPED: a reader need not wait for it to go stale
        self.status_file.close()
        if self.alerts is not None:
            self.alerts.close()
        self.lock.release()

    @property
    def exit_reason(self) -> str | None:
        """Why the engine stopped by itself (its exit code is then not 0), or None."""
        return self.stop.requested if self.exit_code else None

    def directory_gone(self) -> tuple[str, int] | None:
        """Why the state directory is no longer this engine's alone, with the exit code, or None.

        Removed or replaced, it took the lock with it: going on would trade with nothing
        persisted and nothing shown, while a second engine could start in a new directory at
        the same path. A lock file deleted under the engine is taken again at once, unless
        another engine was quicker."""
        try:
            now = os.stat(self.dir)
        except FileNotFoundError:
            return f"its state directory {self.dir} was removed while the engine ran", EXIT_FILESYSTEM
        except OSError:
            return None  # unreadable for a moment: the writes say what the disk does
        if (now.st_dev, now.st_ino) != self._dir_identity:
            return f"its state directory {self.dir} was replaced by another while the engine ran", EXIT_FILESYSTEM
        if self.lock.lost():
            try:
                self.lock.retake()
            except AlreadyRunning as exc:
                return f"{ENGINE_LOCK} was replaced while the engine ran, and {exc}", EXIT_ALREADY_RUNNING
            except OSError:
                return None  # looked at again next cycle
            self.warn(f"{ENGINE_LOCK} was deleted or replaced under the engine; locked again, so no second engine can start here")
        return None

    def record_timing(self, elapsed_s: float) -> None:
        ms = elapsed_s * 1000
        self.figures.last_cycle_ms = round(ms, 3)
        self.figures.worst_cycle_ms = round(max(self.figures.worst_cycle_ms, ms), 3)
        if elapsed_s > self.config.cycle_interval_s:
            self.figures.overruns += 1

    def cycle(self) -> None:
        # The cyclic collector waits for the wait after the cycle (BetweenCycles.wait_until): a
        # cycle's objects die by reference counting once its status is written, while collections
        # set off in the middle of it would examine the live ones (and add their jitter); after
        # it, a young collection finds almost nothing left (benchmarks/findings.md). A live feed's
        # thread waits for the cycle's end too, rather than take turns with it at the GIL.
        with collector.held(), self.market.feed_held():
            self._cycle()

    def _cycle(self) -> None:
        started = time.perf_counter()
        state = self.manager.state
        intake = self.intake.read(state.last_generation, self.reloader.registry.params_model, self.manager.is_handled)
        rejected = state.rejected_generation
        self.apply(intake)
        state.cycle += 1
        state.sim_time = self.market.next_time(state.sim_time, self.config.step_s)
        self.market.advance(state.sim_time)
        for message in self.feed_watch.changes(self.market.health):
            self.events.emit("feed", message)
        self.trader.ensure_slots()
        self.risk.before_entries(self.params)
        outcome = self.trader.evaluate(self.shadow.live_evaluator(self.reloader.registry), self.params, self.may_enter)
        self.trader.resolve(self.params, outcome)
        self.ledger.record(state, outcome, self.reloader.registry.current.version, self.params)  # before state: see ledger.py
        if self.ledger.repair_note is not None:
            self.warn(self.ledger.repair_note)
            self.events.emit("engine", f"{LEDGER_FILE} written again; the ledger caught up")
            self.ledger.repair_note = None
        self.risk.after_resolutions(outcome)
        provenance = self.ledger.provenance(self.reloader.registry.current.version, self.params)
        with self.events.batched():  # in events.jsonl before the state's persist, as each one alone
            for slot_id in outcome.entered:
                position = state.slots[slot_id].position
                assert position is not None
                position.code_version, position.params_hash = provenance.code_version, provenance.params_hash
                self.events.emit(
                    "entry", f"{slot_id} bought {position.side} ${position.stake:g} at {position.odds:.2f}", slot=slot_id,
                    code_version=position.code_version, params_hash=position.params_hash,
                )  # fmt: skip
            for result in outcome.resolutions:
                self.events.emit("resolution", f"{result['slot']} {result['side']} {result['result']} {result['pnl']:+.2f}", **result)
            for slot_id in outcome.held:
                asset = state.slots[slot_id].asset
                self.events.emit("feed", f"{slot_id}: its window ended with no live {asset} price in this process (the engine was down, "
                                 f"or the exchange is out of reach): the bet is held and settles at {asset}'s first live price", slot=slot_id)  # fmt: skip
        self.supervision.keep_signals()
        for event in self.slot_errors.observe(outcome.errors, state.cycle, self.reloader.registry.version):
            self.events.emit(event.kind, event.message, **event.detail)
        rolled = self.commands.after_cycle(outcome)
        self.shadow.after_live(outcome, started, self.book_may_enter, dict(state.applied.overrides))
        if self.alerts is not None:
            self.alerts.cycle(outcome.errors)
        # One line appended to state.journal (a window boundary's prices in it), with the trading
        # state when it changed, fsync'd when money or intent moved; a checkpoint of everything
        # (state.json) after a failed write, or when the journal is long.
        durable = bool(outcome.entered or outcome.resolutions or rolled or intake.kind == "new")
        changed = durable or bool(outcome.rolled) or state.rejected_generation != rejected
        if self.persist_error is not None or self.manager.checkpoint_due():
            self.persist(durable=durable)
        else:
            try:
                self.manager.journal(*self.market.journal_entry(), trading=changed, durable=durable)
            except OSError as exc:
                self._disk_trouble(f"cannot persist state.json: {exc.strerror or exc}; trading continues from memory")
        self.write_status()

    # ------------------------------------------------------------ the steps

    def apply(self, intake: Intake) -> None:
        if self.commands.run_deferred():
            self.persist_durably()  # their acks must survive a crash, like any command's
        state = self.manager.state
        if intake.kind == "refused":
            if intake.generation is None or intake.generation >= state.rejected_generation:
                state.rejected_reason = "; ".join(intake.warnings)
            state.rejected_generation = max(state.rejected_generation, intake.generation or 0)
            for warning in intake.warnings:
                self.warn(warning)
            return
        if intake.kind != "new" or intake.control is None:
            return
        control = intake.control
        self.manager.pending_commands = {c.id: c.type for c in control.commands}
        previous = state.applied
        state.applied = AppliedIntent(paused=control.paused, paused_slots=list(control.paused_slots), overrides=dict(control.overrides))
        state.last_generation = control.generation
        state.applied_digest = intake.digest
        self.params = self.current_params(intake.params)
        self.risk.apply(control)
        self.warnings.clear()
        changes = describe_changes(previous, state.applied)
        self.events.emit(
            "control",
            f"control generation {control.generation} applied" + (f": {changes}" if changes else ""),
            generation=control.generation,
            by=control.updated_by,
        )
        if intake.new_commands:
            self.commands.run(intake.new_commands)
            self.persist_durably()  # a handled command id must survive a crash right after it ran

    def may_enter(self, slot_id: str) -> bool:
        applied = self.manager.state.applied
        return not applied.paused and slot_id not in applied.paused_slots and self.risk.allows_entry()

    def book_may_enter(self, slots: Mapping[str, SlotRecord], stake: float) -> Callable[[str], bool]:
        """`may_enter` for a shadow's book this cycle: the same pauses and limits, on its own figures."""
        applied = self.manager.state.applied
        allows = self.risk.gate_for(slots, stake)
        return lambda slot_id: not applied.paused and slot_id not in applied.paused_slots and allows()

    def set_params(self, params: BaseModel, kept: dict) -> None:
        self.params = params
        applied = self.manager.state.applied
        self.manager.state.applied = AppliedIntent(paused=applied.paused, paused_slots=applied.paused_slots, overrides=kept)

    def adopt_params(self) -> None:
        """New code runs: its parameters are in force, with the overrides it accepts; the rest dropped (and said)."""
        params, kept, dropped = revalidate(self.reloader.registry.params_model, dict(self.manager.state.applied.overrides))
        self.set_params(params, kept)
        for warning in dropped:
            self.warn(warning)

    def current_params(self, params: BaseModel | None) -> BaseModel:
        """The parameters a boundary puts in force: the control file's, unless they were validated
        against code a deferred reload has just replaced, in which case they are validated again."""
        if params is None:
            return self.params
        if isinstance(params, self.reloader.registry.params_model):
            return params
        self.adopt_params()
        return self.params

    def persist_durably(self) -> str | None:
        """The trading state durable now (a command's write-ahead mark, its ack): why it could not
        be, or None. One journal line when the journal is healthy, else a checkpoint."""
        if self.persist_error is None and not self.manager.checkpoint_due():
            try:
                self.manager.mark()
                return None
            except OSError:
                pass  # the journal is closed: a checkpoint says whether the disk takes anything
        self.persist(durable=True)
        return self.persist_error

    def engine_info(self) -> EngineInfo:
        state = self.manager.state
        return EngineInfo(
            pid=os.getpid(),
            host=socket.gethostname(),
            user=self.user,
            started_at=self.started_at,
            boot_id=self.boot_id,
            state="paused" if state.applied.paused or self.risk.tripped else "running",
            cycle=state.cycle,
            cycle_interval_s=self.config.cycle_interval_s,
            last_cycle_ms=self.figures.last_cycle_ms,
            worst_cycle_ms=self.figures.worst_cycle_ms,
            overruns=self.figures.overruns,
            speed=self.config.speed,
            sim_time=state.sim_time,
            feed=self.config.feed,
            maker=describe_maker(self.market.maker),
            strategies_path=str(self.config.strategies_path),
            persist_ok=self.persist_error is None and self.events.write_error is None and self.reloader.store_error is None
            and self.ledger.trouble is None,
            persist_error=self.persist_error or self.events.write_error or self.reloader.store_error or self.ledger.trouble,
            stopped_at=self.stopped_at,
        )

    def write_status(self) -> None:
        if self.events.write_error is not None:
            self.events.flush()  # events wait in memory: try the disk again each cycle
        self._report_store()
        registry = self.reloader.registry
        # A few objects per slot (4,000 at 1,024 slots) that die by reference counting once
        # written (the cycle holds the collector meanwhile: see cycle()).
        status = render_status(
            engine=self.engine_info(),
            manager=self.manager,
            trader=self.trader,
            code=self.shadow.code_status(self.reloader.code_status()),
            params=self.params,
            params_schema=registry.params_schema,
            warnings=self.warnings,
            events=self.events.recent,
            risk=self.risk.status(),
            shadow_slots=self.shadow.book_slots(),
        )
        try:
            self.status_file.write(status)
        except OSError as exc:
            self._disk_trouble(f"cannot write status.json: {exc.strerror or exc}")
            return
        if self.trouble.failures and self.persist_error is None:  # every write of this cycle went through
            self.events.emit("engine", self.trouble.recovered())

    def persist(self, durable: bool = True) -> None:
        if not hasattr(self, "manager"):
            return
        self.manager.state.market = self.market.record()
        try:
            self.manager.persist(durable)
        except OSError as exc:
            self._disk_trouble(f"cannot persist state.json: {exc.strerror or exc}; trading continues from memory")
            return
        self.persist_error = None
        if self.manager.repair_note is not None:
            self.warn(self.manager.repair_note)
            self.manager.repair_note = None

    def _report_store(self) -> None:
        """Once when the version store's record falls behind the code that runs, once when it caught up."""
        error = self.reloader.store_error
        if (error is None) == (self._store_behind is None):
            return
        if error is not None:
            running = self.reloader.registry.version if self.reloader.registry.loaded else "?"
            named = self.store.manifest.running
            self.events.emit(
                "warning",
                f"{error}; version {running} runs but is not on record: a restart now would run "
                f"{named or 'the strategies on disk'}. Free the disk; the record is written again every cycle until then"
            )
        else:
            self.events.emit("engine", f"version store written again: {self.store.manifest.running} is on record")
        self._store_behind = error

    def _disk_trouble(self, message: str) -> None:
        self.trouble.failed(message)
        self.persist_error = message


def describe_changes(before: AppliedIntent, after: AppliedIntent) -> str:
    parts = []
    if before.paused != after.paused:
        parts.append("paused" if after.paused else "resumed")
    for slot in sorted(set(after.paused_slots) - set(before.paused_slots)):
        parts.append(f"paused {slot}")
    for slot in sorted(set(before.paused_slots) - set(after.paused_slots)):
        parts.append(f"resumed {slot}")
    for key in sorted(set(before.overrides) | set(after.overrides)):
        old, new = before.overrides.get(key), after.overrides.get(key)
        if old != new:
            parts.append(f"{key} unset" if key not in after.overrides else f"{key}={new!r}")
    return ", ".join(parts)

