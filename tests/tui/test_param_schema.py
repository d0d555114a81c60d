"""The override form's client-side checks, against the JSON Schema of a pydantic model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from engine.contract.param_schema import check_value, check_values, format_value, param_specs, parse_value

from .conftest import DemoParams


class Extra(BaseModel):
    weights: list[float] = Field(default_factory=lambda: [0.5, 0.5], min_length=1, max_length=3)
    threshold: float | None = Field(None, gt=0, lt=1)


def specs(model=DemoParams):
    return {spec.name: spec for spec in param_specs(model.model_json_schema())}


def test_specs_read_types_bounds_enum_defaults():
    s = specs()
    assert s["stake"].kind == "number" and s["stake"].minimum == 0.5 and s["stake"].maximum == 100
    assert s["cooldown_s"].kind == "integer" and s["cooldown_s"].default == 60
    assert s["mode"].enum == ("reactive", "predictive", "blend")
    assert s["allow_entries"].kind == "boolean"
    e = specs(Extra)
    assert e["weights"].kind == "array" and e["weights"].items.kind == "number" and e["weights"].max_items == 3
    assert e["threshold"].nullable and e["threshold"].exclusive_minimum == 0


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("stake", "7.5", None),
        ("stake", "0.1", "must be >= 0.5"),
        ("stake", "abc", "a number is required"),
        ("stake", "nan", "a finite number is required"),
        ("cooldown_s", "1.5", "a whole number is required"),
        ("cooldown_s", "3601", "must be <= 3600"),
        ("allow_entries", "maybe", "true or false is required"),
    ],
)
def test_parse_and_check(name, text, problem):
    spec = specs()[name]
    try:
        found = check_value(spec, parse_value(spec, text))
    except ValueError as exc:
        found = str(exc)
    assert found == problem


def test_arrays_and_nullable():
    e = specs(Extra)
    assert parse_value(e["weights"], "0.2, 0.8") == [0.2, 0.8]
    assert check_value(e["weights"], parse_value(e["weights"], "1,2,3,4")) == "takes at most 3 items"
    assert check_value(e["weights"], ["x"]) == "item 1: a number is required"
    assert parse_value(e["threshold"], "") is None and check_value(e["threshold"], None) is None
    assert check_value(e["threshold"], 1.0) == "must be < 1"
    assert format_value(e["weights"], [0.25, 1.0]) == "0.25, 1"


def test_check_values_names_unknown_parameters():
    assert check_values(list(specs().values()), {"stake": 5.0, "nope": 1}) == {"nope": "not a parameter of the running strategy"}


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_client_check_agrees_with_pydantic(value):
    spec = specs()["stake"]
    client_ok = check_value(spec, parse_value(spec, format_value(spec, value))) is None
    try:
        DemoParams.model_validate({"stake": parse_value(spec, format_value(spec, value))})
        server_ok = True
    except ValidationError:
        server_ok = False
    assert client_ok == server_ok
