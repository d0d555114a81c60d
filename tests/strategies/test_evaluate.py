"""strategy.evaluate: the gates, the direction, and the shape of every decision."""

import dataclasses
import math
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import strategy
from strategies.strategy import Decision, Params, evaluate
from tests.support.market_views import View, make_view
from tests.support.strategy_inputs import params, prices, views

DEFAULTS = Params()


def test_decision_has_exactly_the_documented_fields() -> None:
    names = [f.name for f in dataclasses.fields(Decision)]
    assert names == ["direction", "confidence", "path", "enter", "prob_up", "edge", "reason"]
    d = evaluate(make_view(), DEFAULTS)
    assert d is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.enter = False  # type: ignore[misc]


def test_market_view_protocol_matches_the_engine_view() -> None:
    from engine.strategy_api.market_view import MarketView as EngineView

    protocol_members = [
        name for name, value in vars(strategy.MarketView).items() if isinstance(value, property)
    ]
    assert protocol_members == list(EngineView._fields) == list(View._fields)
    view = EngineView(**{name: getattr(make_view(), name) for name in View._fields})
    d = evaluate(view, DEFAULTS)
    assert d is not None and d.enter


@pytest.mark.parametrize("time_left", [250.0, 60.0, 5.0])
def test_the_engines_history_with_its_log_returns_gives_the_same_decision(time_left: float) -> None:
    from engine.strategy_api.market_view import History
    from strategies import ta_engine

    view = make_view(time_left=time_left)
    prices = view.history
    measured = view._replace(history=History.of(prices, ta_engine.log_returns(prices)))
    assert evaluate(measured, DEFAULTS) == evaluate(view, DEFAULTS) is not None


@pytest.mark.parametrize(("move", "direction"), [(0.003, "up"), (-0.003, "down")])
def test_large_move_late_with_lagging_ask_enters_its_direction(move: float, direction: str) -> None:
    d = evaluate(make_view(move=move, time_left=30), DEFAULTS)
    assert d is not None
    assert d.enter, d.reason
    assert d.direction == direction
    assert d.confidence > 0.95
    assert d.edge == pytest.approx(d.confidence - 0.62)
    assert d.prob_up == pytest.approx(d.confidence if direction == "up" else 1 - d.confidence)


def test_tiny_move_is_not_confident() -> None:
    d = evaluate(make_view(move=0.0), DEFAULTS)
    assert d is not None and not d.enter
    assert abs(d.prob_up - 0.5) < 0.01
    assert d.reason.startswith("confidence")


def test_confidence_grows_as_time_runs_out() -> None:
    confidences = [evaluate(make_view(move=0.0005, time_left=t), DEFAULTS).confidence for t in (250, 90, 30, 5)]
    assert confidences == sorted(confidences)


def test_too_little_history_means_no_opinion() -> None:
    view = make_view()
    short = view._replace(history=view.history[-(DEFAULTS.min_history - 1) :])
    assert evaluate(short, DEFAULTS) is None
    assert evaluate(view._replace(history=view.history[-DEFAULTS.min_history :]), DEFAULTS) is not None


# A moderate move late in the window with a lagging ask: every gate open.
OPEN = {"move": 0.0005, "time_left": 30.0}


def test_the_open_case_enters() -> None:
    d = evaluate(make_view(**OPEN), DEFAULTS)
    assert d is not None and d.enter, d
    assert 0.75 < d.confidence < 0.9  # so the threshold and margin cases below bite


@pytest.mark.parametrize(
    ("view_changes", "param_changes", "reason"),
    [
        ({"time_left": 91.0}, {}, "outside snipe window"),
        ({"time_left": 0.0}, {}, "window closed"),
        ({"in_cooldown": True}, {}, "cooldown"),
        ({"has_position": True}, {}, "has position"),
        ({}, {"assets": ["ETH", "SOL"]}, "asset filtered"),
        ({"open_positions": 8}, {}, "max open positions"),
        ({}, {"max_open_positions": 0}, "max open positions"),
        ({}, {"confidence_threshold": 0.95}, "confidence"),
        ({"up_ask": 0.82}, {}, "edge"),
        ({}, {"edge_margin": 0.3}, "edge"),
    ],
)
def test_each_gate_blocks_entry_with_a_reason(view_changes: dict, param_changes: dict, reason: str) -> None:
    d = evaluate(make_view(**{**OPEN, **view_changes}), Params(**param_changes))
    assert d is not None
    assert not d.enter
    assert d.reason.startswith(reason), d.reason
    assert d.direction == "up"  # a gate never changes the opinion, only the entry


def test_edge_gate_reports_the_numbers() -> None:
    d = evaluate(make_view(move=0.003, up_ask=0.99), DEFAULTS)
    assert d is not None and not d.enter
    assert d.reason == f"edge {d.edge:.3f} < margin 0.030"


def test_path_follows_the_weights() -> None:
    view = make_view(move=0.001)
    assert evaluate(view, Params(reactive_weight=0, predictive_weight=1)).path == "predictive"
    assert evaluate(view, Params(reactive_weight=1, predictive_weight=0)).path == "reactive"
    assert evaluate(view, Params(reactive_weight=0.5, predictive_weight=0.5)).path in ("blend", "predictive", "reactive")


def test_predictive_probability_is_the_normal_cdf_of_the_scaled_move() -> None:
    year = 365 * 24 * 3600.0
    # sigma 0.8 over 60 s: 0.8 * sqrt(60 / year) = 0.0011035; a move of exactly that is z ~ 1
    spread = 0.8 * math.sqrt(60 / year)
    p = strategy.predictive_prob_up(open_price=100.0, price=100.0 * math.exp(spread), sigma_annual=0.8, time_left_s=60)
    assert p == pytest.approx(0.8413, abs=1e-3)  # Phi(1) = 0.8413
    assert strategy.predictive_prob_up(open_price=100.0, price=100.0, sigma_annual=0.8, time_left_s=60) == pytest.approx(0.5, abs=1e-3)
    # at the last instant the answer is (almost) decided, and finite
    assert strategy.predictive_prob_up(open_price=100.0, price=100.1, sigma_annual=0.8, time_left_s=0) == pytest.approx(1.0, abs=1e-9)
    assert strategy.predictive_prob_up(open_price=100.0, price=99.9, sigma_annual=0.8, time_left_s=-5) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(view=views(), p=params())
def test_decisions_on_random_views_are_valid(view: View, p: Params) -> None:
    d = evaluate(view, p)
    if d is None:
        return
    assert d.direction in typing.get_args(strategy.Direction)
    assert d.path in ("reactive", "predictive", "blend")
    assert isinstance(d.enter, bool) and isinstance(d.reason, str) and d.reason
    for value in (d.confidence, d.prob_up, d.edge):
        assert isinstance(value, float) and math.isfinite(value)
    assert 0.0 <= d.prob_up <= 1.0
    assert 0.5 <= d.confidence <= 1.0
    assert d.confidence == max(d.prob_up, 1 - d.prob_up)
    assert d.direction == ("up" if d.prob_up >= 0.5 else "down")
    assert d.edge == pytest.approx(d.confidence - (view.up_ask if d.direction == "up" else view.down_ask))
    if d.enter:
        time_left = view.window_end - view.now
        assert 0 < time_left <= p.snipe_window_s
        assert view.asset in p.assets
        assert not view.in_cooldown and not view.has_position
        assert view.open_positions < p.max_open_positions
        assert d.confidence >= p.confidence_threshold
        assert d.edge >= p.edge_margin


@settings(max_examples=100, deadline=None)
@given(view=views(), p=params())
def test_outside_the_snipe_window_never_enters(view: View, p: Params) -> None:
    if view.window_end - view.now <= p.snipe_window_s:
        view = view._replace(now=view.window_end - p.snipe_window_s - 1.0)
    d = evaluate(view, p)
    assert d is None or not d.enter


@settings(max_examples=100, deadline=None)
@given(
    history=st.lists(st.one_of(st.just(0.0), st.just(-1.0), st.just(math.nan), st.just(math.inf), prices), min_size=0, max_size=40),
    step=st.sampled_from([0.0, -1.0, math.nan, 1.0]),
)
def test_malformed_views_give_no_opinion_instead_of_raising(history: list[float], step: float) -> None:
    view = make_view()._replace(history=tuple(history) or (1.0,), history_step_s=step)
    d = evaluate(view, DEFAULTS)
    sane = step == 1.0 and all(x > 0 and math.isfinite(x) for x in view.history)
    assert d is None or sane
