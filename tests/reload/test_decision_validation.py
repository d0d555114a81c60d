"""What the registry accepts from a strategy for one slot, and what it refuses with a reason."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from engine.strategy_api.decision import InvalidDecision, validate_decision


@dataclasses.dataclass(frozen=True)
class Decision:
    direction: Any = "up"
    confidence: Any = 0.7
    path: Any = "snipe"
    enter: Any = True
    prob_up: Any = 0.6
    edge: Any = 0.05
    reason: Any = "trend up"


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"direction": "down", "enter": False},
        {"confidence": 0.0, "prob_up": 1.0, "edge": -3.5},
        {"confidence": 1, "prob_up": 0},  # ints are numbers too
        {"reason": ""},
    ],
)
def test_well_formed_decisions_pass(fields: dict[str, Any]) -> None:
    validate_decision(Decision(**fields))
    validate_decision(None)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"direction": "UP"}, "direction='UP'"),
        ({"direction": None}, "direction=None"),
        ({"confidence": 1.5}, "confidence=1.5"),
        ({"confidence": math.nan}, "confidence=nan"),
        ({"confidence": True}, "confidence=True"),
        ({"prob_up": -0.1}, "prob_up=-0.1"),
        ({"edge": math.inf}, "edge=inf"),
        ({"edge": "0.1"}, "edge='0.1'"),
        ({"enter": 1}, "enter=1"),
        ({"path": ""}, "path=''"),
        ({"path": "x" * 65}, "path="),
        ({"reason": "x" * 501}, "reason is not a str"),
    ],
)
def test_malformed_decisions_are_refused_with_what_is_wrong(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidDecision) as caught:
        validate_decision(Decision(**fields))
    assert says in str(caught.value)


def test_a_decision_missing_a_field_is_refused() -> None:
    @dataclasses.dataclass
    class Partial:
        direction: str = "up"
        confidence: float = 0.5

    with pytest.raises(InvalidDecision, match="has no field 'path'"):
        validate_decision(Partial())


def test_a_dict_is_refused_as_a_dict_not_as_missing_its_keys() -> None:
    with pytest.raises(InvalidDecision) as caught:
        validate_decision({"direction": "up", "confidence": 0.6})
    said = str(caught.value)
    assert "returned a dict (keys direction, confidence)" in said and "has no field" not in said
