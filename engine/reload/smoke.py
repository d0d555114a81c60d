"""The smoke evaluation a new strategy version must pass before it is swapped in.

A fixed, deterministic market snapshot that sees every asset x 5m/15m window
(every slot kind) twice: just after the open with almost no history, and at
one of three later key instants (mid-window falling, inside the snipe window
rising, a few seconds before the close fallen), rotating from slot to slot so
that each window is seen at each of those instants by at least two assets. In
each window the second slot seen at an instant carries the slot's own state:
cooling down (mid-window), many bets open (snipe window), holding a bet (close).
32 views. The candidate's `evaluate` must return a valid decision (or None) for
every view, within a time budget for the whole snapshot. A strategy with the
optional per-asset step (`analyse_history`) has it run on every view's history
too, and `evaluate` given its result (`view.history_analysis`, as the engine
hands it) must return the same decision, field for field, as without it.

The budget is enforced twice: the elapsed time is checked after every
evaluation, and each call runs under the guard (engine/reload/guard.py) with what is
left of the budget, so a strategy that never returns (an endless loop, a long
sleep, a retry loop around a bare `except:`) is interrupted at the deadline.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.reload.code_version import ANALYSE
from engine.reload.guard import StrategyGuard, StrategyTimeout
from engine.reload.module_loader import StrategyLoadError, describe_exception, locate
from engine.strategy_api.decision import DECISION_FIELDS, InvalidDecision, validate_decision
from engine.strategy_api.market_view import HISTORY_POINTS, MarketView

ASSETS = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX")
WINDOWS_S = (300, 900)
HISTORY_STEP_S = 2.5
# Rough levels and annualised volatilities, so moves have each asset's scale.
_LEVEL = {"BTC": 64000.0, "ETH": 3100.0, "SOL": 145.0, "XRP": 0.52, "DOGE": 0.12, "BNB": 580.0, "ADA": 0.45, "AVAX": 28.0}
_ANNUAL_VOL = {"BTC": 0.5, "ETH": 0.65, "SOL": 0.9, "XRP": 0.8, "DOGE": 1.0, "BNB": 0.55, "ADA": 0.85, "AVAX": 0.95}
_SECONDS_PER_YEAR = 365.0 * 24 * 3600
# (seconds before the window's end, or None and a fraction of the window; move in sigmas; history points).
_OPENED = (None, 0.05, 0.5, 3)  # just opened: almost no history; every slot is seen here
_LATER: tuple[tuple[float | None, float, float, int], ...] = (
    (None, 0.5, -1.2, HISTORY_POINTS),  # mid-window, falling
    (30.0, 0.0, 1.5, HISTORY_POINTS),  # inside the snipe window, rising
    (8.0, 0.0, -2.0, HISTORY_POINTS),  # seconds before the close, fallen
)
# The slot's own state carried by the second slot of a window seen at each later instant.
_STATE: tuple[dict[str, Any], ...] = (
    {"in_cooldown": True, "open_positions": 1},  # mid-window: cooling down after a resolution
    {"open_positions": 64},  # snipe window: many bets open elsewhere
    {"has_position": True, "open_positions": 3},  # before the close: holding a bet
)


def snapshot(assets: Sequence[str] = ASSETS, windows_s: Sequence[int] = WINDOWS_S) -> tuple[MarketView, ...]:
    """The fixed market snapshot: same views, same order, every time.

    Every slot (asset x window) once just after the open, then once at one of
    the later instants: slot i of window w at instant (i + w) % 3, so with 8
    assets each window sees each later instant 2 or 3 times."""
    views = []
    for w, window_s in enumerate(windows_s):
        seen = [0] * len(_LATER)
        for index, asset in enumerate(assets):
            before_end, fraction, sigmas, points = _OPENED
            views.append(_view(index, asset, window_s, before_end, fraction, sigmas, points, {}))
            later = (index + w) % len(_LATER)
            seen[later] += 1
            flags = _STATE[later] if seen[later] == 2 else {}
            before_end, fraction, sigmas, points = _LATER[later]
            views.append(_view(index, asset, window_s, before_end, fraction, sigmas, points, flags))
    return tuple(views)


def _view(
    index: int,
    asset: str,
    window_s: int,
    before_end: float | None,
    fraction: float,
    sigmas: float,
    points: int,
    flags: dict[str, Any],
) -> MarketView:
    level = _LEVEL.get(asset, 100.0)
    sigma_s = _ANNUAL_VOL.get(asset, 0.8) / math.sqrt(_SECONDS_PER_YEAR)  # per sqrt(second)
    window_start = 1_700_000_100.0 - 1_700_000_100.0 % window_s + window_s * (index + 1)
    window_end = window_start + window_s
    now = window_end - before_end if before_end is not None else window_start + fraction * window_s
    elapsed = now - window_start
    move = sigmas * sigma_s * math.sqrt(max(elapsed, 1.0))  # relative move since the open
    open_price = level

    def price_at(t: float) -> float:
        # A drift to `move` by `now`, plus a small deterministic wiggle; before the open, a gentle drift in.
        progress = (t - window_start) / elapsed if elapsed > 0 else 1.0
        wiggle = 0.25 * sigma_s * math.sqrt(HISTORY_STEP_S) * math.sin(0.37 * t + index)
        return open_price * (1.0 + move * progress + (wiggle if t < now else 0.0))

    times = [now - (points - 1 - i) * HISTORY_STEP_S for i in range(points)]
    history = tuple(round(price_at(t), 10) for t in times)
    price = history[-1]
    remaining = max(window_end - now, 1.0)
    z = (price / open_price - 1.0) / (sigma_s * math.sqrt(remaining))
    fair_up = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    market_up = 0.5 + 0.7 * (fair_up - 0.5)  # the market lags and blurs the fair probability
    return MarketView(
        slot_id=f"{asset}-{window_s // 60}m",
        asset=asset,
        window_s=window_s,
        now=now,
        window_start=window_start,
        window_end=window_end,
        open_price=open_price,
        price=price,
        history=history,
        history_step_s=HISTORY_STEP_S,
        up_ask=round(min(0.99, max(0.01, market_up + 0.02)), 4),
        down_ask=round(min(0.99, max(0.01, 1.0 - market_up + 0.02)), 4),
        in_cooldown=bool(flags.get("in_cooldown", False)),
        has_position=bool(flags.get("has_position", False)),
        open_positions=int(flags.get("open_positions", 0)),
    )


@dataclass(frozen=True)
class SmokeReport:
    evaluations: int
    decisions: int  # how many were not None
    entries: int  # how many said enter
    elapsed_ms: float


def run_smoke(
    evaluate: Callable[[Any, Any], Any],
    params: Sequence[Any],
    views: Sequence[MarketView],
    *,
    budget_ms: float,
    files: Sequence[str],
    entry_file: str,
    entry_line: int | None = None,
    analyse: Callable[[Any, Any, Any], Any] | None = None,
    analyse_line: int | None = None,
    guard: StrategyGuard | None = None,
) -> SmokeReport:
    """Evaluate every view with every params object; raise `StrategyLoadError` on the first problem.

    With `analyse` (the strategy's per-asset step, defined at `analyse_line`), each view is
    also evaluated with its history's analysis, which must give the same decision."""
    run = _SmokeRun(
        evaluate=evaluate,
        analyse=analyse,
        budget_ms=budget_ms,
        files=files,
        entry_file=entry_file,
        entry_line=entry_line,
        analyse_line=analyse_line,
        guard=guard if guard is not None else StrategyGuard(),
        total=len(views) * len(params),
    )
    try:
        for p in params:
            for view in views:
                run.check(view, p)
    except StrategyTimeout as exc:
        raise run.over_budget(f" (interrupted in {_label(run.view)})", exc) from None
    return SmokeReport(run.done, run.decisions, run.entries, run.elapsed_ms())


@dataclass
class _SmokeRun:
    """One smoke evaluation under way: the code under test, where its errors point, the budget
    left and what was done so far."""

    evaluate: Callable[[Any, Any], Any]
    analyse: Callable[[Any, Any, Any], Any] | None
    budget_ms: float
    files: Sequence[str]
    entry_file: str
    entry_line: int | None
    analyse_line: int | None
    guard: StrategyGuard
    total: int
    view: MarketView | None = None  # the one being evaluated, for the errors
    done: int = 0
    decisions: int = 0
    entries: int = 0
    start: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.deadline = self.start + self.budget_ms / 1000.0

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000.0

    def timed(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.guard.call(max(self.deadline - time.perf_counter(), 0.0), fn, *args, what="load")

    def check(self, view: MarketView, params: Any) -> None:
        """One view with one params object: a valid decision, the same with the analysis, in time."""
        self.view = view
        try:
            decision = self.timed(self.evaluate, view, params)
        except StrategyTimeout:
            raise
        except Exception as exc:
            raise self.failed("evaluation", exc, self.entry_line) from exc
        try:
            validate_decision(decision)
        except InvalidDecision as exc:
            raise StrategyLoadError(
                f"smoke evaluation of {_label(view)} returned an invalid decision: {exc.message}",
                file=self.entry_file,
                line=self.entry_line,
                phase="smoke",
            ) from None
        if self.analyse is not None:
            self.same_with_analysis(view, params, decision, self.analyse)
        self.done += 1
        if decision is not None:
            self.decisions += 1
            self.entries += bool(decision.enter)
        if time.perf_counter() > self.deadline:
            raise self.over_budget(f" (the last one: {_label(view)})", None)

    def same_with_analysis(self, view: MarketView, params: Any, decision: Any, analyse: Callable[[Any, Any, Any], Any]) -> None:
        """`evaluate` of `view` given its history's analysis, as the engine gives it, decides exactly
        as `decision` (the same view without it); raise `StrategyLoadError` otherwise."""
        try:
            analysis = self.timed(analyse, view.history, view.history_step_s, params)
        except StrategyTimeout:
            raise
        except Exception as exc:
            raise self.failed(f"run of {ANALYSE}", exc, self.analyse_line) from exc
        try:
            analysed = self.timed(self.evaluate, view._replace(history_analysis=analysis), params)
        except StrategyTimeout:
            raise
        except Exception as exc:
            raise self.failed(f"evaluation with {ANALYSE}'s result", exc, self.entry_line) from exc
        if decision is None or analysed is None:
            same = decision is analysed
        else:
            same = all(getattr(decision, name) == getattr(analysed, name, _MISSING) for name in DECISION_FIELDS)
        if not same:
            raise StrategyLoadError(
                f"smoke evaluation of {_label(view)} decides otherwise with {ANALYSE}'s result than without it "
                f"(the engine hands it to every view): {_difference(analysed, decision)}",
                file=self.entry_file,
                line=self.entry_line,
                phase="smoke",
            )

    def failed(self, what: str, exc: BaseException, line_default: int | None) -> StrategyLoadError:
        file, line = locate(exc, self.files)
        return StrategyLoadError(
            f"smoke {what} of {_label(self.view)} raised {describe_exception(exc)}",
            file=file or self.entry_file,
            line=line if file else line_default,
            phase="smoke",
        )

    def over_budget(self, where: str, interrupt: BaseException | None) -> StrategyLoadError:
        # Interrupted: point at the strategy line it was stuck on, if it was in strategy code.
        file, line = locate(interrupt, self.files) if interrupt is not None else (None, None)
        return StrategyLoadError(
            f"smoke evaluation over its time budget: it took {self.elapsed_ms():.1f} ms of the {self.budget_ms:g} ms "
            f"allowed (--smoke-budget), after {self.done} of {self.total} evaluations{where}",
            file=file or self.entry_file,
            line=line if file else self.entry_line,
            phase="smoke",
        )


_MISSING = object()  # equal to no decision field


def _difference(analysed: Any, decision: Any) -> str:
    """What differs, for the error: `edge=0.12 instead of 0.13`, or the whole decision against None."""
    if analysed is None or decision is None:
        return f"{analysed!r} instead of {decision!r}"
    return ", ".join(
        f"{name}={getattr(analysed, name, '(missing)')!r} instead of {getattr(decision, name)!r}"
        for name in DECISION_FIELDS
        if getattr(analysed, name, _MISSING) != getattr(decision, name)
    )


def _label(view: MarketView | None) -> str:
    """Which view, for an error: built only when there is one to report."""
    if view is None:
        return "no view"
    return f"{view.slot_id} at {view.now - view.window_start:.0f}s of {view.window_s}s"
