"""Arbitrary JSON and arbitrary bytes at the control and status readers: never a crash, always a reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.contract.fileio import read_model
from engine.contract.models import CONTROL_FILE, SCHEMA_VERSION, STATUS_FILE, Status
from engine.control_intake import ControlIntake
from strategies.strategy import Params

SLOTS = frozenset({"BTC-5m", "ETH-15m"})
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
# Documents shaped like control.json, so the fuzzing reaches past the first field.
control_like = st.fixed_dictionaries(
    {"schema_version": st.sampled_from([SCHEMA_VERSION, 0, 2, "1"]), "generation": st.integers(-3, 10)},
    optional={
        "paused": json_values,
        "paused_slots": st.lists(st.sampled_from(["BTC-5m", "ETH-15m", "DOGE-1h", "x"]) | st.text(max_size=8), max_size=4),
        "overrides": st.dictionaries(st.sampled_from(["stake", "cooldown_s", "assets", "nope"]), json_values, max_size=3),
        "commands": st.lists(st.fixed_dictionaries({"id": st.text(max_size=8), "type": st.sampled_from(["reload", "check", "rm -rf"]), "issued_at": st.text(max_size=5)}), max_size=3),
        "extra": json_values,
    },
)

counts = {"control": 0, "status": 0}


@pytest.fixture(scope="module", autouse=True)
def record_counts(figures: dict):
    yield
    figures["fuzzed_inputs"] = dict(counts)


def check_intake(directory: Path, data: bytes) -> None:
    path = directory / CONTROL_FILE
    path.write_bytes(data)
    os.chmod(path, 0o600)
    result = ControlIntake(directory, SLOTS).read(0, Params, lambda _: False)
    counts["control"] += 1
    assert result.kind in ("none", "new", "refused")
    if result.kind == "refused":
        assert result.warnings and all(result.warnings)
        assert result.control is None and result.params is None and not result.new_commands
    if result.kind == "new":
        assert result.control is not None and result.params is not None
        assert isinstance(result.params, Params)


@FUZZ
@given(doc=json_values | control_like)
def test_control_reader_on_arbitrary_json(tmp_path_factory, doc) -> None:
    check_intake(tmp_path_factory.mktemp("c"), json.dumps(doc).encode())


@FUZZ
@given(data=st.binary(max_size=300))
def test_control_reader_on_arbitrary_bytes(tmp_path_factory, data: bytes) -> None:
    check_intake(tmp_path_factory.mktemp("b"), data)


@FUZZ
@given(doc=json_values | st.binary(max_size=200))
def test_status_reader_never_crashes(tmp_path_factory, doc) -> None:
    path = tmp_path_factory.mktemp("s") / STATUS_FILE
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    result = read_model(path, Status)
    counts["status"] += 1
    assert (result.value is None) != (result.reason is None)
