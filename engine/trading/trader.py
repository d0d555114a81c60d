"""Paper trading for every slot: evaluate through the registry, enter, resolve, cool down."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from engine.contract.models import Direction, Position, SlotState
from engine.market.market import Market
from engine.market.quotes import Quote
from engine.reload.guard import StrategyStopped
from engine.strategy_api.market_view import HISTORY_POINTS, History, MarketView
from engine.trading.slots import SlotSpec
from engine.trading.state import SignalRecord, SlotRecord, StateManager


class Evaluator(Protocol):
    """The registry, as the trader uses it. It may also have `analyse_history(history,
    history_step_s, params)`, the strategy's optional per-asset step (None when the running
    strategy has none), whose result the views of that asset carry as `history_analysis`."""

    def evaluate(self, view: MarketView, params: BaseModel) -> Any: ...

    def describe_error(self, exc: BaseException) -> str: ...


@dataclass
class CycleOutcome:
    errors: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # per error: timeout, exit, invalid, exception
    entered: list[str] = field(default_factory=list)
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    rolled: int = 0  # slots whose window ended and whose next window opened
    held: list[str] = field(default_factory=list)  # bets newly held past their window end: no price yet


def _slot_failed(outcome: CycleOutcome, slot_id: str, slot: SlotRecord, kind: str, message: str) -> None:
    """The slot shows its error and no signal; counted as the version's failure unless the engine's stop caused it."""
    slot.error = message
    slot.signal = None
    if kind != StrategyStopped.kind:
        outcome.errors.append(f"{slot_id}: {message}")
        outcome.kinds.append(kind)


def _kind(exc: Exception) -> str:
    """How a strategy call failed: the guard's kinds (timeout, exit, stopped), invalid, exception."""
    kind = getattr(exc, "kind", None)
    if isinstance(kind, str):
        return kind
    return "invalid" if type(exc).__name__ == "InvalidDecision" else "exception"


def window_start(now: float, length: int) -> float:
    return math.floor(now / length) * length


class Trader:
    def __init__(self, specs: tuple[SlotSpec, ...], state: StateManager, market: Market) -> None:
        self.specs = specs
        # SlotSpec.id is computed on every access; every cycle reads it for every slot, more than once.
        self.slot_ids = tuple(spec.id for spec in specs)
        self.manager = state
        self.market = market
        self.held: set[str] = set()  # slots whose bet waits past its window end for a live price

    @property
    def slots(self) -> dict[str, SlotRecord]:
        return self.manager.state.slots

    def ensure_slots(self) -> None:
        """Open a record for every configured slot the state does not know yet."""
        now = self.market.now
        slots = self.slots
        for spec, slot_id in zip(self.specs, self.slot_ids, strict=True):
            if slot_id not in slots:
                start = window_start(now, spec.window_s)
                slots[slot_id] = SlotRecord(
                    id=slot_id,
                    asset=spec.asset,
                    window_s=spec.window_s,
                    window_start=start,
                    open_price=self.market.price_at_boundary(start, spec.asset),
                )

    def evaluate(
        self,
        evaluator: Evaluator,
        params: BaseModel,
        may_enter: Callable[[str], bool],
        histories: Mapping[str, tuple[float, ...]] | None = None,
        asks: Mapping[str, Quote] | None = None,
    ) -> CycleOutcome:
        """One decision per slot whose window is still open; a failing slot never stops the others.

        `histories`: asset histories already built this cycle on this market (a shadow's book
        takes those of the live views), shown as they are instead of being built again.
        `asks`: quotes already made this cycle, by slot id (a shadow's book takes the live
        slots'), used instead of asking the market again."""
        outcome = CycleOutcome()
        market = self.market
        slots = self.slots
        now = market.now
        step_s = market.step_s
        open_positions = self.manager.open_positions()
        stake = float(getattr(params, "stake", 5.0))
        max_open = int(getattr(params, "max_open_positions", 1_000_000))
        # Slots of one asset (one per window length) see the same history and its log returns:
        # one copy per asset per cycle, and the strategy's per-asset step runs once on it.
        # An asset whose step raised keeps the error for each of its slots instead.
        per_asset_inputs: dict[str, tuple[tuple[float, ...], Any, tuple[str, str] | None]] = {}
        analyse = getattr(evaluator, "analyse_history", None)
        prices = market.prices
        quote = market.quote
        for spec, slot_id in zip(self.specs, self.slot_ids, strict=True):
            slot = slots[slot_id]
            window_end = slot.window_start + slot.window_s
            if window_end <= now:
                continue  # resolved below, then it opens its next window
            asset = spec.asset
            q = asks.get(slot_id) if asks is not None else None
            if q is None:
                q = quote(asset, slot.open_price, window_end)
            per_asset = per_asset_inputs.get(asset)
            if per_asset is None:
                per_asset = per_asset_inputs[asset] = self._analysed_history(
                    asset, evaluator, analyse, step_s, params, histories.get(asset) if histories is not None else None
                )
            history, analysis, error = per_asset
            if error is not None:
                _slot_failed(outcome, slot_id, slot, *error)
                continue
            in_cooldown = slot.cooldown_until is not None and slot.cooldown_until > now
            view = MarketView(
                slot_id=slot_id,
                asset=asset,
                window_s=spec.window_s,
                now=now,
                window_start=slot.window_start,
                window_end=window_end,
                open_price=slot.open_price,
                price=prices[asset],
                history=history,
                history_step_s=step_s,
                up_ask=q.up_ask,
                down_ask=q.down_ask,
                in_cooldown=in_cooldown,
                has_position=slot.position is not None,
                open_positions=open_positions,
                history_analysis=analysis,
            )
            try:
                decision = evaluator.evaluate(view, params)
            except Exception as exc:  # a strategy bug in one slot must not stop the loop
                _slot_failed(outcome, slot_id, slot, _kind(exc), evaluator.describe_error(exc)[:300])
                continue
            if slot.error is not None:
                slot.error = None
            slot.up_ask, slot.down_ask = q.up_ask, q.down_ask
            if decision is None:
                if slot.signal is not None:
                    slot.signal = None
                continue
            slot.signal = SignalRecord(
                direction=decision.direction,
                confidence=float(decision.confidence),
                path=str(decision.path),
                prob_up=float(decision.prob_up),
                edge=float(decision.edge),
                enter=bool(decision.enter),
                reason=str(decision.reason),
            )
            if (
                decision.enter
                and slot.position is None
                and open_positions < max_open
                and not in_cooldown
                and market.may_enter(asset, slot.window_start)  # fresh prices, a real open price
                and may_enter(slot_id)  # last: the risk cap counts what it lets through
            ):
                self._enter(slot, decision.direction, q, stake, now)
                open_positions += 1
                outcome.entered.append(slot_id)
        return outcome

    def _enter(self, slot: SlotRecord, side: Direction, q: Quote, stake: float, now: float) -> None:
        """A paper bet of `stake` on `side` at its ask."""
        odds = q.up_ask if side == "up" else q.down_ask
        slot.position = Position(side=side, stake=stake, odds=odds, shares=round(stake / odds, 6), entered_at=now)
        self.manager.state.staked = round(self.manager.state.staked + stake, 6)

    def _analysed_history(
        self,
        asset: str,
        evaluator: Evaluator,
        analyse: Callable[..., Any] | None,
        step_s: float,
        params: BaseModel,
        history: tuple[float, ...] | None,
    ) -> tuple[tuple[float, ...], Any, tuple[str, str] | None]:
        """The asset's history this cycle (`history` when given), what the strategy's per-asset
        step made of it (None without one), and the step's error (described as `evaluate`'s
        would be) if it raised."""
        if history is None:
            history = self._history(asset)
        if analyse is None:
            return history, None, None
        try:
            return history, analyse(history, step_s, params), None
        except Exception as exc:  # a strategy bug in one asset must not stop the loop
            return history, None, (_kind(exc), evaluator.describe_error(exc)[:300])

    def _history(self, asset: str) -> History:
        """What the views of `asset` show of its history this cycle, with its log returns."""
        points: Sequence[float] = self.market.history[asset]
        returns: Sequence[float] = self.market.returns[asset]
        if len(points) > HISTORY_POINTS:
            points = tuple(points)[-HISTORY_POINTS:]
        if len(returns) >= len(points):
            returns = tuple(returns)[1 - len(points) :] if len(points) > 1 else ()
        return History.of(points, returns)

    def resolve(self, params: BaseModel, outcome: CycleOutcome) -> None:
        """Settle every window that has ended at its boundary price, then open the next window."""
        now = self.market.now
        cooldown = float(getattr(params, "cooldown_s", 0.0))
        slots = self.slots
        for spec, slot_id in zip(self.specs, self.slot_ids, strict=True):
            slot = slots[slot_id]
            window_end = slot.window_start + slot.window_s
            if window_end > now:
                continue
            position = slot.position
            if position is not None and spec.asset in self.market.waiting:
                # Its window ended with no price of this process to settle on (the engine was
                # down, the exchange is out of reach): held, it settles at the first live price.
                if slot_id not in self.held:
                    self.held.add(slot_id)
                    outcome.held.append(slot_id)
                continue
            self.held.discard(slot_id)
            close = self.market.price_at_boundary(window_end, spec.asset)
            if position is not None:
                went_up = close >= slot.open_price
                won = went_up == (position.side == "up")
                pnl = round(position.shares - position.stake if won else -position.stake, 6)
                self.manager.record_result(won, pnl)
                slot.position = None
                slot.last_result = "won" if won else "lost"
                slot.last_pnl = pnl
                slot.cooldown_until = window_end + cooldown
                # Show the result for a while before the slot reads as merely cooling down.
                slot.result_until = window_end + max(cooldown / 2, self.market.step_s)
                outcome.resolutions.append(
                    {
                        "slot": slot_id,
                        "side": position.side,
                        "result": slot.last_result,
                        "pnl": pnl,
                        "open": slot.open_price,
                        "close": close,
                        "code_version": position.code_version,
                        "params_hash": position.params_hash,
                    }
                )
            start = window_start(now, spec.window_s)
            outcome.rolled += 1
            slot.window_start = start
            slot.open_price = self.market.price_at_boundary(start, spec.asset)
            slot.signal = None

    def slot_state(self, slot: SlotRecord) -> SlotState:
        now = self.market.now
        if slot.position is not None:
            return "entered"
        if slot.result_until is not None and now < slot.result_until and slot.last_result:
            return slot.last_result
        if slot.cooldown_until is not None and now < slot.cooldown_until:
            return "cooldown"
        return "watching"
