"""Engine-level risk limits: the engine pauses its own entries when one trips.

The limits come from control.json (`Control.risk`, validated all or nothing with the
rest of the file). The figures they are judged on, and a trip, live in the trading
state (`TradingState.risk`), so they persist and replay with it: a tripped limit
stays tripped across restarts until an operator resumes (`Control.risk_resume`
names the trip). Each trip is also a row of the ledger's `risk_trips` and a `risk`
line of events.jsonl.

Limits are judged at the cycle boundary after the resolutions: a trip stops the
entries of the next cycle on. After a resume the same figure trips again only when
a new resolution makes it worse, so resuming is never undone behind the operator's
back. `max_open_stake` is a cap, not a trip: an entry that would take the open
stake beyond it is skipped (and counted).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from engine.contract.models import Control, RiskFigures, RiskStatus, RiskTrip
from engine.trading.state import RiskRecord, SlotRecord, StateManager

if TYPE_CHECKING:
    from engine.events import EventLog
    from engine.trading.ledger import Ledger
    from engine.trading.trader import CycleOutcome


def market_day(sim_time: float) -> str:
    return datetime.fromtimestamp(sim_time, UTC).strftime("%Y-%m-%d")


def consecutive_losses(results: list[bool]) -> int:
    count = 0
    for won in reversed(results):
        if won:
            break
        count += 1
    return count


class RiskGuard:
    """Applies the operator's limits, judges them after each cycle's resolutions, gates entries."""

    def __init__(self, manager: StateManager, ledger: Ledger, events: EventLog) -> None:
        self.manager = manager
        self.ledger = ledger
        self.events = events
        self.skipped_entries = 0
        self._recheck = bool(self.record.limits)
        self._open_stake = 0.0
        self._stake = 0.0
        self._cap: float | None = None
        self._unmatched_resume = ""  # a resume naming another trip, said once

    @property
    def record(self) -> RiskRecord:
        return self.manager.state.risk

    @property
    def tripped(self) -> bool:
        return self.record.tripped is not None

    # -------------------------------------------------------------- control

    def apply(self, control: Control) -> None:
        """A new control generation: its limits, and a resume of the trip it names."""
        record = self.record
        limits = control.risk.model_dump(exclude_none=True)
        if limits != record.limits:
            record.limits = limits
            shown = ", ".join(f"{k}={v:g}" for k, v in limits.items()) or "none"
            self.events.emit("risk", f"risk limits now: {shown}", limits=limits)
            self._recheck = True
        trip = record.tripped
        wanted = control.risk_resume
        if trip is not None and wanted and wanted != trip.get("id") and wanted != self._unmatched_resume:
            # An id left from an earlier resume, or typed by hand: the trip in force stays.
            self._unmatched_resume = wanted
            self.events.emit("warning", f"risk_resume names {wanted!r}, but the tripped limit is {trip['limit']} "
                             f"(id {trip.get('id')!r}, status risk.tripped.id): entries stay paused; "
                             "foresight ctl risk resume (or r in Mission Control) names it")  # fmt: skip
        if trip is not None and wanted and wanted == trip.get("id"):
            record.tripped = None
            record.resumed_at = {name: figure for name, figure, _ in self._figures()}
            self.ledger.clear_trip(str(trip["id"]), control.updated_by)
            self.events.emit("risk", f"resumed after {trip['limit']} by {control.updated_by or 'an operator'}: entries allowed again", trip=trip)

    # --------------------------------------------------------------- cycle

    def before_entries(self, params: BaseModel) -> None:
        """At the start of the evaluation: the open stake the cap counts from."""
        self._cap = self.record.limits.get("max_open_stake")
        if self._cap is not None:
            self._stake = float(getattr(params, "stake", 5.0))
            self._open_stake = self.open_stake()

    def allows_entry(self) -> bool:
        """The last gate before an entry: True means the bet is taken (and counted against the cap)."""
        if self.record.tripped is not None:
            return False
        if self._cap is not None:
            if self._open_stake + self._stake > self._cap + 1e-9:
                self.skipped_entries += 1
                return False
            self._open_stake += self._stake
        return True

    def gate_for(self, slots: Mapping[str, SlotRecord], stake: float) -> Callable[[], bool]:
        """`allows_entry` for another book (a shadow's), for one cycle: a trip stops it as it stops
        the live book, and the cap counts that book's own open stake, never the live one's (nor
        its skipped entries)."""
        cap = self.record.limits.get("max_open_stake")
        held = [sum(s.position.stake for s in slots.values() if s.position is not None)]

        def allows() -> bool:
            if self.record.tripped is not None:
                return False
            if cap is None:
                return True
            if held[0] + stake > cap + 1e-9:
                return False
            held[0] += stake
            return True

        return allows

    def after_resolutions(self, outcome: CycleOutcome) -> None:
        """Book this cycle's resolutions into the day and the peak, then judge the limits."""
        state = self.manager.state
        record = self.record
        if outcome.resolutions:
            day = market_day(state.sim_time)
            if day != record.day:
                record.day, record.day_pnl = day, 0.0
            record.day_pnl = round(record.day_pnl + sum(r["pnl"] for r in outcome.resolutions), 6)
            record.peak_pnl = max(record.peak_pnl, state.pnl)
        elif not self._recheck:
            return
        self._recheck = False
        if record.tripped is None and record.limits:
            self._judge()

    def _figures(self) -> list[tuple[str, float, str]]:
        """Each tripping limit's figure now, with how the trip message says it."""
        state = self.manager.state
        record = self.record
        today = market_day(state.sim_time)
        day_loss = -record.day_pnl if record.day == today else 0.0
        losses = consecutive_losses(state.results)
        drawdown = record.peak_pnl - state.pnl
        return [
            ("max_daily_loss", day_loss, f"lost {day_loss:.2f} on {today}"),
            ("max_consecutive_losses", float(losses), f"{losses} losses in a row"),
            ("max_drawdown", drawdown, f"P&L {state.pnl:+.2f} is {drawdown:.2f} below its peak {record.peak_pnl:+.2f}"),
        ]

    def _judge(self) -> None:
        state = self.manager.state
        record = self.record
        limits = record.limits
        today = market_day(state.sim_time)
        for name, figure, what in self._figures():
            threshold = limits.get(name)
            if threshold is None or figure < threshold - 1e-9:
                record.resumed_at.pop(name, None)
                continue
            if figure <= record.resumed_at.get(name, float("-inf")):
                continue  # the operator resumed at this figure already
            trip = RiskTrip(
                id=uuid.uuid4().hex[:12],
                limit=name,
                figure=round(figure, 6),
                threshold=threshold,
                message=f"{name}={threshold:g} reached: {what}; new entries paused until an operator resumes (foresight ctl risk resume)",
                at=state.sim_time,
                day=today,
                cycle=state.cycle,
            )
            record.tripped = trip.model_dump()
            self.ledger.record_trip(trip)
            self.events.emit("risk", trip.message, **trip.model_dump())
            return

    # --------------------------------------------------------------- status

    def open_stake(self) -> float:
        return round(sum(s.position.stake for s in self.manager.state.slots.values() if s.position is not None), 6)

    def status(self) -> RiskStatus:
        state = self.manager.state
        record = self.record
        today = market_day(state.sim_time)
        return RiskStatus(
            limits=dict(record.limits),
            figures=RiskFigures(
                day=today,
                daily_pnl=record.day_pnl if record.day == today else 0.0,
                consecutive_losses=consecutive_losses(state.results),
                peak_pnl=record.peak_pnl,
                drawdown=round(max(record.peak_pnl - state.pnl, 0.0), 6),
                open_stake=self.open_stake(),
            ),
            tripped=RiskTrip.model_validate(record.tripped) if record.tripped else None,
            skipped_entries=self.skipped_entries,
        )
