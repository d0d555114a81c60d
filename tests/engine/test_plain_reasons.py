"""The engine's reasons reach the operator in the validator's own words, not pydantic's wrapping."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, model_validator

from engine.strategy_api.params import OverrideError, validate_overrides


class Emas(BaseModel):
    fast_ema_period: int = 5
    slow_ema_period: int = 20

    @model_validator(mode="after")
    def _ordered(self) -> Emas:
        if self.fast_ema_period >= self.slow_ema_period:
            raise ValueError("fast_ema_period must be less than slow_ema_period")
        return self


def test_a_cross_field_refusal_says_only_the_rule() -> None:
    with pytest.raises(OverrideError) as caught:
        validate_overrides(Emas, {"fast_ema_period": 30})
    assert str(caught.value) == "overrides refused: fast_ema_period must be less than slow_ema_period"


def test_a_field_refusal_still_names_the_field() -> None:
    with pytest.raises(OverrideError) as caught:
        validate_overrides(Emas, {"slow_ema_period": "soon"})
    assert str(caught.value).startswith("overrides refused: slow_ema_period: Input should be a valid integer")
