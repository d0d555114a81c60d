"""Shadow deploys: a candidate version beside the running one, on the same market, never trading.

After the live decisions of a cycle are taken (and only if the cycle has room left
for it), the candidate trades its own paper book (engine/shadow/book.py) with the
same Trader code, on the same market, under its own time budget per call. The
running code's decisions are always the ones that trade (GitHub's Scientist: the
control's result is the one used). Compared each cycle, per slot and in total:
the decisions, the entries each side took, the P&L of the bets each side settled.

- A/A (`aa`): the running code against itself, to measure its noise first.
- A shadow that fails (raises, times out, returns garbage) is dropped by itself
  with the reason; its failure is never the running version's.
- Promote swaps the checked candidate in (`ReloadManager.promote`); drop ends it.
- After `cycles`, or once ended any way, its report stays until the next shadow.

A check's preview (engine/shadow/preview.py) is armed here too: the cycle after a check
passed records the views of the live decisions and asks the candidate about them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from engine.contract.models import CodePreview, CodeStatus, ShadowSlot, ShadowStatus, utc_now_iso
from engine.events import EventLog
from engine.reload.guard import Budgets
from engine.reload.manager import Preparation, ReloadManager
from engine.reload.module_loader import SharedModules, shared_change, shared_modules
from engine.shadow import preview
from engine.shadow.book import ShadowBook
from engine.shadow.candidate import CandidateEvaluator, RecordingEvaluator
from engine.shadow.decision_brief import brief, same
from engine.trading.params_hash import params_hash
from engine.trading.state import SignalRecord, SlotRecord, StateManager
from engine.trading.trader import CycleOutcome, Trader

# By default the shadow runs only if it fits in this share of the cycle interval, by its last cost.
ROOM = 0.8
SKIP_DECAY = 0.9  # see Shadow.expected_cost


@dataclass
class _Tally:
    compared: int = 0
    differ: int = 0
    entries_live: int = 0
    entries_shadow: int = 0
    pnl_live: float = 0.0
    pnl_shadow: float = 0.0

    @property
    def quiet(self) -> bool:
        """Only compared, never differing, no entry: its status row would say nothing new."""
        return not (self.differ or self.entries_live or self.entries_shadow or self.pnl_live or self.pnl_shadow)


@dataclass
class Shadow:
    """One shadow: its candidate, its book and its figures."""

    candidate: CandidateEvaluator
    preparation: Preparation | None  # None for A/A: nothing to promote
    base: Any  # the running CodeVersion it is compared with
    book: ShadowBook
    report: ShadowStatus
    params: BaseModel
    overrides: dict[str, Any]
    tallies: dict[str, _Tally] = field(default_factory=dict)
    live_pnl0: float = 0.0
    live_resolved0: int = 0
    # Per slot, the live and the candidate's decision of the last cycle the candidate evaluated:
    # what status.json compares, so a cycle it skipped never sets new live decisions against old ones.
    compared: dict[str, tuple[SignalRecord | None, SignalRecord | None]] = field(default_factory=dict)
    cost_s: float = 0.0  # what its last evaluation took
    skips: int = 0  # cycles it skipped since
    # The running code's own module objects the candidate reuses (none for A/A: it is the running
    # code): what it assigns into them at run time is put back after each of its cycles.
    shared: dict[str, ModuleType] = field(default_factory=dict)

    def expected_cost(self) -> float:
        """What its evaluation is expected to take: its last cost, trusted 10 % less for each
        cycle skipped since, so that one evaluation slowed by a stall of the host skips a few
        cycles rather than every cycle after it (skipping, it is never measured again)."""
        return self.cost_s * SKIP_DECAY**self.skips


class ShadowRunner:
    def __init__(
        self, reloader: ReloadManager, manager: StateManager, trader: Trader, events: EventLog, interval_s: float,
        *, room: float = ROOM,
    ) -> None:
        self.reloader = reloader
        self.manager = manager
        self.trader = trader
        self.events = events
        self.interval_s = interval_s
        self.room_s = room * interval_s
        self.current: Shadow | None = None  # the running shadow
        self.last_report: ShadowStatus | None = None  # the one that ended, until the next starts
        self.preview: CodePreview | None = None
        self._preview_wanted: tuple[list[str], Preparation] | None = None
        self._recorder: RecordingEvaluator | None = None

    # ---------------------------------------------------------------- commands

    @property
    def active(self) -> Shadow | None:
        return self.current

    def budgets(self) -> Budgets:
        return self.reloader.budgets

    def start(self, preparation: Preparation | None, *, aa: bool, cycles: int | None, overrides: dict[str, Any]) -> str:
        """Begin a shadow of `preparation`'s version (None with `aa`: the running code itself)."""
        if self.active is not None:
            self.finish("ended", f"replaced by a new shadow at cycle {self.manager.state.cycle}")
        base = self.reloader.registry.current
        control = self.last_report if self.last_report is not None and self.last_report.aa else None
        version = base if preparation is None else preparation.version
        assert version is not None
        candidate = CandidateEvaluator(version, self.reloader.guard, self.budgets())
        params, dropped = candidate.params(overrides)
        state = self.manager.state
        report = ShadowStatus(
            version=version.version,
            base_version=base.version,
            aa=aa,
            started_at=utc_now_iso(),
            started_cycle=state.cycle,
            cycles_limit=cycles,
            params_hash=params_hash(params),
            aa_control=_control_line(control) if control is not None and control.version == base.version and not aa else None,
        )
        self.last_report = None
        self.current = Shadow(
            candidate, preparation, base, ShadowBook(self.trader.specs, self.manager, self.trader.market), report, params,
            dict(overrides), live_pnl0=state.pnl, live_resolved0=state.resolved,
            shared={} if aa else shared_modules(version.modules, base.modules),
        )  # fmt: skip
        what = f"A/A control: {version.version} against itself" if aa else f"{version.version} beside {base.version}"
        limit = f" for {cycles} cycles" if cycles else " until promoted or dropped"
        note = f" (its Params drop: {'; '.join(dropped)})" if dropped else ""
        return f"shadowing {what}{limit}; it never trades{note}"

    def finish(self, state: str, reason: str) -> None:
        shadow = self.active
        if shadow is None:
            return
        shadow.report.slots = self._status(shadow).slots  # the last comparison, kept with the report
        shadow.report.state = state  # type: ignore[assignment]
        shadow.report.reason = reason
        shadow.report.ended_at = utc_now_iso()
        # Only the report stays: the candidate's code and its book are let go.
        self.current, self.last_report = None, shadow.report
        self.events.emit("shadow", f"shadow {shadow.report.version} {state}: {reason}", **self._totals(shadow))

    def want_preview(self, command_ids: list[str]) -> None:
        """A check passed at this boundary: preview its candidate on this cycle's live decisions."""
        prepared = self.reloader.checked
        if prepared is not None and prepared.version is not None:
            self._preview_wanted = (list(command_ids), prepared)

    # ------------------------------------------------------------------ cycle

    def live_evaluator(self, registry: Any) -> Any:
        """What the live evaluation calls this cycle: the registry, recorded when a preview waits."""
        if self._preview_wanted is None and self.active is None:
            return registry
        self._recorder = RecordingEvaluator(registry)
        return self._recorder

    def after_live(
        self, live: CycleOutcome, cycle_started: float, gate: Callable[[Mapping[str, SlotRecord], float], Callable[[str], bool]],
        overrides: dict[str, Any],
    ) -> None:
        """`gate(slots, stake)`: which of its book's slots may enter this cycle (the engine's pauses
        and risk limits, judged on that book)."""
        recorder, self._recorder = self._recorder, None
        if self._preview_wanted is not None and recorder is not None:
            self._build_preview(recorder, overrides)
        shadow = self.active
        if shadow is None:
            return
        if self.reloader.registry.current is not shadow.base:
            self.finish("dropped", f"the running code changed to {self.reloader.registry.version}: shadow it again")
            return
        self._book_live(shadow, live)
        if overrides != shadow.overrides:  # the operator's values changed: the candidate follows
            shadow.overrides = dict(overrides)
            shadow.params, _ = shadow.candidate.params(overrides)
            shadow.report.params_hash = params_hash(shadow.params)
        report = shadow.report
        report.cycles += 1
        started = time.perf_counter()
        if started + shadow.expected_cost() > cycle_started + self.room_s:
            report.skipped += 1
            shadow.skips += 1
            self._book_shadow(shadow, shadow.book.settle(shadow.params))
        else:
            shadow.skips = 0
            shadow.candidate.new_cycle()
            shared = SharedModules(shadow.shared) if shadow.shared else None
            may_enter = gate(shadow.book.slots, float(getattr(shadow.params, "stake", 5.0)))
            outcome = shadow.book.trade(
                shadow.candidate, shadow.params, may_enter, report.version, report.params_hash,
                recorder.views if recorder is not None else {},
            )
            touched = shared.restore() if shared is not None else []
            shadow.cost_s = time.perf_counter() - started
            report.last_ms = round(shadow.cost_s * 1000, 3)
            if touched:
                report.failures += 1
                self.finish("dropped", f"the candidate {shared_change(touched)} before the next live cycle")
                return
            if outcome.errors:
                report.failures += len(outcome.errors)
                self.finish("dropped", f"the candidate failed ({outcome.kinds[0]}): {outcome.errors[0]}")
                return
            self._book_shadow(shadow, outcome)
            self._compare(shadow)
        if report.cycles_limit is not None and report.cycles >= report.cycles_limit:
            self.finish("ended", f"ran its {report.cycles_limit} cycles")

    def _book_live(self, shadow: Shadow, live: CycleOutcome) -> None:
        tallies = shadow.tallies
        for slot_id in live.entered:
            tallies.setdefault(slot_id, _Tally()).entries_live += 1
        for result in live.resolutions:
            tallies.setdefault(result["slot"], _Tally()).pnl_live += result["pnl"]
        report = shadow.report
        report.entries_live += len(live.entered)
        state = self.manager.state
        report.bets_live = state.resolved - shadow.live_resolved0
        report.pnl_live = round(state.pnl - shadow.live_pnl0, 6)

    def _book_shadow(self, shadow: Shadow, outcome: CycleOutcome) -> None:
        tallies = shadow.tallies
        for slot_id in outcome.entered:
            tallies.setdefault(slot_id, _Tally()).entries_shadow += 1
        for result in outcome.resolutions:
            tallies.setdefault(result["slot"], _Tally()).pnl_shadow += result["pnl"]
        report = shadow.report
        report.entries_shadow += len(outcome.entered)
        report.bets_shadow = shadow.book.resolved
        report.pnl_shadow = round(shadow.book.pnl, 6)

    def _compare(self, shadow: Shadow) -> None:
        live_slots = self.manager.state.slots
        book = shadow.book.slots
        report = shadow.report
        shadow.compared = {}
        for slot_id in self.trader.slot_ids:
            live, candidate = live_slots[slot_id].signal, book[slot_id].signal
            shadow.compared[slot_id] = (live, candidate)
            if live is None and candidate is None:
                continue
            tally = shadow.tallies.get(slot_id)
            if tally is None:
                tally = shadow.tallies[slot_id] = _Tally()
            tally.compared += 1
            report.compared += 1
            if not same(live, candidate):
                tally.differ += 1
                report.differ += 1

    def _build_preview(self, recorder: RecordingEvaluator, overrides: dict[str, Any]) -> None:
        assert self._preview_wanted is not None
        commands, prepared = self._preview_wanted
        self._preview_wanted = None
        assert prepared.version is not None
        candidate = CandidateEvaluator(prepared.version, self.reloader.guard, self.budgets())
        params, _ = candidate.params(overrides)
        running = self.reloader.registry.current
        shared = SharedModules(shared_modules(prepared.version.modules, running.modules))
        self.preview = preview.build(commands, self.manager.state.cycle, running, candidate, recorder, params, self.manager.state.slots)
        touched = shared.restore()
        if touched:  # its checks never met this: a reload of it is the operator's to judge, told
            self.preview.summary += f"; on the live market the candidate {shared_change(touched)}"
        for ack in self.manager.state.acks[-len(commands) - 5 :]:
            if ack.id in commands:
                ack.detail = f"{ack.detail}; {self.preview.summary}"

    # ----------------------------------------------------------------- status

    def book_slots(self) -> dict[str, SlotRecord] | None:
        """The running shadow's book, whose decisions status.json shows beside the live ones."""
        return self.current.book.slots if self.current is not None else None

    def code_status(self, code: CodeStatus) -> CodeStatus:
        """status.json's `code` with the shadow's report and the last preview."""
        shadow = self.current
        code.shadow = self._status(shadow) if shadow is not None else self.last_report
        code.preview = self.preview
        return code

    def _status(self, shadow: Shadow) -> ShadowStatus:
        report = shadow.report
        rows = []
        blank = _Tally()
        for slot_id in self.trader.slot_ids:
            tally = shadow.tallies.get(slot_id) or blank
            live, candidate = shadow.compared.get(slot_id, (None, None))
            differs = not same(live, candidate)
            if not differs and tally.quiet:
                continue  # nothing to tell beyond its decisions, which the slot rows carry (shadow_signal)
            rows.append(
                ShadowSlot.model_construct(  # from the engine's own records: see decision_brief.brief
                    slot=slot_id, live=brief(live), shadow=brief(candidate), differs=differs,
                    compared=tally.compared, differ=tally.differ, entries_live=tally.entries_live,
                    entries_shadow=tally.entries_shadow, pnl_live=round(tally.pnl_live, 6), pnl_shadow=round(tally.pnl_shadow, 6),
                )
            )  # fmt: skip
        return report.model_copy(update={"slots": rows})

    @staticmethod
    def _totals(shadow: Shadow) -> dict[str, Any]:
        r = shadow.report
        return dict(
            version=r.version, aa=r.aa, cycles=r.cycles, compared=r.compared, differ=r.differ, entries_live=r.entries_live,
            entries_shadow=r.entries_shadow, pnl_live=r.pnl_live, pnl_shadow=r.pnl_shadow, failures=r.failures, skipped=r.skipped,
        )  # fmt: skip


def _control_line(aa: ShadowStatus) -> str:
    """The A/A run before a candidate's shadow, in one line."""
    pnl = "equal P&L" if aa.pnl_live == aa.pnl_shadow and aa.bets_live == aa.bets_shadow else (
        f"P&L live {aa.pnl_live:+.2f} over {aa.bets_live} bets, shadow {aa.pnl_shadow:+.2f} over {aa.bets_shadow}"
    )  # fmt: skip
    noise = "deterministic" if aa.differ == 0 else "NOT deterministic: part of the candidate's differences is noise"
    return f"A/A control over {aa.cycles} cycles: {aa.differ} of {aa.compared} decisions differed, {pnl} ({noise})"
