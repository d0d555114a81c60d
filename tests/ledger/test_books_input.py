"""Input `ctl risk set` and `ctl trades` must refuse for what it is, not for a side effect."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.contract.ledger_schema import LEDGER_FILE, SCHEMA
from tests.support.engine_proc import ctl


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_limit_that_is_no_finite_number_is_refused_as_such(tmp_path: Path, value: str) -> None:
    done = ctl(tmp_path / "s", "risk", "set", f"max_daily_loss={value}")
    assert done.returncode == 2, done.stderr
    assert "must be a finite number" in done.stderr, done.stderr
    assert not (tmp_path / "s" / "control.json").exists()


def test_a_losing_streak_longer_than_the_results_kept_is_refused_saying_why(tmp_path: Path) -> None:
    done = ctl(tmp_path / "s", "risk", "set", "max_consecutive_losses=1001")
    assert done.returncode == 2, done.stderr
    assert "1000" in done.stderr and "could never trip" in done.stderr, done.stderr
    assert not (tmp_path / "s" / "control.json").exists()


def test_a_since_duration_too_long_to_count_is_refused_not_printed_as_invalid_json(tmp_path: Path) -> None:
    state_dir = tmp_path / "s"
    state_dir.mkdir()
    db = sqlite3.connect(state_dir / LEDGER_FILE)
    db.executescript(SCHEMA)
    db.close()
    done = ctl(state_dir, "trades", "--json", "--since", "9" * 400 + "s")
    assert done.returncode == 2, done.stdout
    assert "-Infinity" not in done.stdout and "too long" in done.stderr, done.stderr
