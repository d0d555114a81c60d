"""Random strategy inputs for property tests (hypothesis): market views and parameter sets."""

from __future__ import annotations

from hypothesis import strategies as st

from strategies.strategy import ASSETS, Params
from tests.support.market_views import View, market_view

prices = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
probabilities = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def views(draw: st.DrawFn) -> View:
    start = draw(st.floats(min_value=0, max_value=1e7))
    window_s = draw(st.sampled_from([300, 900]))
    price = draw(prices)
    history = tuple(draw(st.lists(prices, min_size=0, max_size=119))) + (price,)
    return market_view(
        slot_id="X",
        asset=draw(st.sampled_from(ASSETS)),
        window_s=window_s,
        now=start + draw(st.floats(min_value=0, max_value=window_s)),
        window_start=start,
        open_price=draw(prices),
        history=history,
        history_step_s=draw(st.sampled_from([0.5, 1.0, 2.0, 5.0, 30.0])),
        up_ask=draw(probabilities),
        down_ask=draw(probabilities),
        in_cooldown=draw(st.booleans()),
        has_position=draw(st.booleans()),
        open_positions=draw(st.integers(min_value=0, max_value=20)),
    )


@st.composite
def params(draw: st.DrawFn) -> Params:
    reactive = draw(st.floats(min_value=0.0, max_value=1.0))
    return Params(
        reactive_weight=reactive,
        predictive_weight=draw(st.floats(min_value=0.0 if reactive > 0 else 0.01, max_value=1.0)),
        min_history=draw(st.integers(min_value=3, max_value=40)),
        snipe_window_s=draw(st.floats(min_value=5, max_value=900)),
        assets=draw(st.lists(st.sampled_from(ASSETS), unique=True)),
        edge_margin=draw(st.floats(min_value=0, max_value=0.5)),
    )
