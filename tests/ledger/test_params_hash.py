"""The parameter hash every ledger row carries (and shadow deploys compare): stable, order-free, exact."""

from __future__ import annotations

from pydantic import BaseModel

from engine.trading.params_hash import params_hash


class Params(BaseModel):
    stake: float = 5.0
    confidence_threshold: float = 0.6
    assets: list[str] = ["BTC"]


def test_the_same_values_hash_the_same_whatever_their_order_or_source() -> None:
    assert params_hash(Params()) == params_hash({"assets": ["BTC"], "confidence_threshold": 0.6, "stake": 5.0})
    assert len(params_hash(Params())) == 16


def test_any_changed_value_changes_the_hash() -> None:
    base = params_hash(Params())
    assert params_hash(Params(stake=7.5)) != base
    assert params_hash(Params(confidence_threshold=0.6000001)) != base
    assert params_hash(Params(assets=["BTC", "ETH"])) != base
