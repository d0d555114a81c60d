"""The optional per-asset step: `evaluate` decides the same, to the bit, with or without it."""

import dataclasses
import math
import random

from hypothesis import given, settings

from engine.strategy_api.market_view import History
from strategies import strategy, ta_engine
from strategies.strategy import Params, analyse_history, evaluate
from tests.support.market_views import gbm_path, make_view
from tests.support.strategy_inputs import params, views

DEFAULTS = Params()


def bits(decision: strategy.Decision | None) -> tuple | None:
    """Every field, floats by their exact bits (so -0.0 and 0.0 or a last-bit change differ)."""
    if decision is None:
        return None
    return tuple(
        value.hex() if isinstance(value, float) else value
        for value in (getattr(decision, f.name) for f in dataclasses.fields(decision))
    )


def with_analysis(view, p: Params):
    return view._replace(history_analysis=analyse_history(view.history, view.history_step_s, p))


def engine_history(prices) -> History:
    return History.of(prices, ta_engine.log_returns(prices))


@settings(max_examples=300, deadline=None)
@given(view=views(), p=params())
def test_random_views_decide_the_same_with_the_analysis(view, p: Params) -> None:
    assert bits(evaluate(with_analysis(view, p), p)) == bits(evaluate(view, p))


@settings(max_examples=200, deadline=None)
@given(view=views(), p=params())
def test_engine_histories_decide_the_same_with_the_analysis(view, p: Params) -> None:
    if not ta_engine.all_positive_finite(view.history):
        return
    view = view._replace(history=engine_history(view.history))
    assert bits(evaluate(with_analysis(view, p), p)) == bits(evaluate(view, p))


def test_both_windows_of_an_asset_share_one_analysis_as_the_engine_gives_it() -> None:
    """Many realistic views, two windows each sharing one history and one analysis, as the engine
    builds them: every decision identical to the bit to the one without the analysis."""
    rng = random.Random(11)
    compared = 0
    for seed in range(400):
        prices = gbm_path(rng, rng.uniform(0.2, 1.5), 2.5, 120, start=rng.uniform(0.05, 70_000))
        history = engine_history(prices)
        analysis = analyse_history(history, 2.5, DEFAULTS)
        for window_s in (300, 900):
            start = 900.0 * seed
            base = make_view(asset=rng.choice(strategy.ASSETS))
            view = base._replace(
                window_s=window_s,
                window_start=start,
                window_end=start + window_s,
                now=start + rng.uniform(0, window_s),
                open_price=prices[-1] * math.exp(rng.gauss(0, 0.004)),
                price=prices[-1],
                history=history,
                history_step_s=2.5,
                up_ask=rng.uniform(0.01, 0.99),
                down_ask=rng.uniform(0.01, 0.99),
            )
            shared = view._replace(history_analysis=analysis)
            assert bits(evaluate(shared, DEFAULTS)) == bits(evaluate(view, DEFAULTS)) is not None
            compared += 1
    assert compared == 800


def test_an_analysis_of_other_inputs_is_not_used() -> None:
    """A view carrying the analysis of another history, spacing or params decides as without it."""
    view = make_view(move=0.003, time_left=30.0)
    other_history = make_view(seed=99).history
    p = Params(vol_lookback=30)
    for analysis in (
        analyse_history(other_history, view.history_step_s, DEFAULTS),
        analyse_history(view.history, view.history_step_s * 2, DEFAULTS),
        analyse_history(view.history, view.history_step_s, p),
        analyse_history(tuple(view.history), view.history_step_s, DEFAULTS),  # equal, not the same object
        "not an analysis",
    ):
        misled = view._replace(history_analysis=analysis)
        assert bits(evaluate(misled, DEFAULTS)) == bits(evaluate(view, DEFAULTS)) is not None


def test_a_view_without_the_field_still_works() -> None:
    """Third-party views (the Protocol's structural type) need not have `history_analysis`."""

    class Plain:
        def __init__(self, view) -> None:
            for name in view._fields:
                if name != "history_analysis":
                    setattr(self, name, getattr(view, name))

    view = make_view()
    assert bits(evaluate(Plain(view), DEFAULTS)) == bits(evaluate(view, DEFAULTS)) is not None


def test_no_opinion_is_analysed_without_raising() -> None:
    short = analyse_history((1.0, 2.0), 1.0, DEFAULTS)
    assert short.step_vol is None
    bad = analyse_history(make_view().history, math.nan, DEFAULTS)
    assert bad.step_vol is None
    assert analyse_history([100.0] * 30, 1.0, DEFAULTS).step_vol == 0.0  # a list is taken too
