"""The declared parameters: defaults, bounds, the schema the engine publishes."""

import pytest
from pydantic import ValidationError

from strategies.strategy import ASSETS, Params

SCHEMA = Params.model_json_schema()
PROPERTIES = SCHEMA["properties"]
NUMERIC = sorted(name for name, prop in PROPERTIES.items() if prop["type"] in ("number", "integer"))


def test_defaults_construct_with_the_documented_values() -> None:
    p = Params()
    assert p.stake == 5.0
    assert p.snipe_window_s == 90
    assert p.confidence_threshold == pytest.approx(0.6)
    assert p.edge_margin == pytest.approx(0.03)
    assert p.cooldown_s == 60
    assert p.max_open_positions == 8
    assert p.win_rate_window == 50
    assert tuple(p.assets) == ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "ADA", "AVAX") == ASSETS


def test_engine_read_parameters_are_declared() -> None:
    assert {"stake", "cooldown_s", "max_open_positions", "win_rate_window"} <= set(PROPERTIES)


def test_schema_has_default_bounds_and_description_for_every_field() -> None:
    assert SCHEMA.get("additionalProperties") is False
    defaults = Params().model_dump(mode="json")
    assert set(PROPERTIES) == set(defaults)
    for name, prop in PROPERTIES.items():
        assert prop["default"] == defaults[name], name
        assert prop.get("description"), name
        if name in NUMERIC:
            assert prop["minimum"] <= prop["default"] <= prop["maximum"], name
        else:
            assert prop["type"] == "array", name
            assert "minItems" in prop and "maxItems" in prop, name
            assert prop["items"]["enum"] == list(ASSETS)


@pytest.mark.parametrize("name", NUMERIC)
def test_out_of_bounds_rejected_and_bounds_accepted(name: str) -> None:
    low, high = PROPERTIES[name]["minimum"], PROPERTIES[name]["maximum"]
    for edge in (low, high):
        try:
            Params.model_validate({name: edge})
        except ValidationError as exc:
            # only the cross-field rules may refuse a bound (e.g. fast EMA >= slow EMA)
            assert "Value error" in str(exc), exc
    step = 1 if PROPERTIES[name]["type"] == "integer" else 1e-6
    for bad in (low - step, high + step):
        with pytest.raises(ValidationError):
            Params.model_validate({name: bad})


def test_unknown_name_rejected() -> None:
    with pytest.raises(ValidationError):
        Params.model_validate({"stak": 5.0})


def test_overrides_validate_all_or_nothing() -> None:
    with pytest.raises(ValidationError):
        Params.model_validate({"stake": 10.0, "cooldown_s": -1})
    p = Params.model_validate({"stake": 10.0, "assets": ["BTC", "ETH"], "max_open_positions": 3})
    assert (p.stake, tuple(p.assets), p.max_open_positions) == (10.0, ("BTC", "ETH"), 3)


@pytest.mark.parametrize("assets", [["BTC", "LTC"], ["btc"], ["BTC", "BTC"], "BTC", list(ASSETS) + ["ETH"]])
def test_bad_asset_filters_rejected(assets: object) -> None:
    with pytest.raises(ValidationError):
        Params.model_validate({"assets": assets})


def test_empty_asset_filter_means_watch_only() -> None:
    assert tuple(Params(assets=[]).assets) == ()


def test_cross_field_rules() -> None:
    with pytest.raises(ValidationError, match="both be 0"):
        Params(reactive_weight=0, predictive_weight=0)
    with pytest.raises(ValidationError, match="fast_ema_period"):
        Params(fast_ema_period=20, slow_ema_period=20)
    assert Params(reactive_weight=0).predictive_weight > 0

