"""Strategy code whose defaults, or whose top level, would change what runs without saying so.

A Params default outside its own bounds, or a stake the engine cannot bet (NaN, negative), is
refused at load like any other broken API; a candidate that assigns into a module it shares
with the running code (the modules before the first changed one are reused as they are) is
refused too, and the running code is left exactly as it was, whether the check passed or not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from engine.reload.manager import ReloadManager
from engine.strategy_api.params import OverrideError, validate_overrides
from tests.reload.helpers import append, edit
from tests.support.market_views import view

STAKE_LINE = 'stake: float = Field(5.0, ge=0.5, le=100.0, description="USD per bet")'


def manager(directory: Path) -> ReloadManager:
    m = ReloadManager(directory)
    m.load_initial()
    return m


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        ('stake: float = Field(-5.0, ge=0.5, le=100.0, description="USD per bet")', "stake: Input should be greater than or equal to 0.5"),
        ('stake: float = Field(float("nan"), ge=0.5, le=100.0, description="USD per bet")', "stake: must be a finite number, not nan"),
        ('stake: float = float("nan")', "stake: must be a finite number, not nan"),
        ("stake: float = 0.0", "stake: the engine bets it, so it must be a positive finite amount, not 0.0"),
        ("stake: float = -5.0", "stake: the engine bets it, so it must be a positive finite amount, not -5.0"),
    ],
)
def test_a_default_the_engine_cannot_trade_on_is_refused_at_reload(fixture_dir: Path, declared: str, said: str) -> None:
    m = manager(fixture_dir)
    running = m.registry.version
    edit(fixture_dir / "strategy.py", STAKE_LINE, declared)
    outcome = m.reload()
    assert not outcome.ok and m.registry.version == running
    assert outcome.error is not None and "default" in outcome.error and said in outcome.error, outcome.error
    assert m.registry.params_model().stake == 5.0


def test_an_override_the_engine_cannot_bet_is_refused_even_when_params_allow_it() -> None:
    class Loose(BaseModel):
        stake: float = 5.0
        cooldown_s: float = 0.0
        max_open_positions: int = 8
        win_rate_window: int = Field(50)

    with pytest.raises(OverrideError, match="stake: the engine bets it, so it must be a positive finite amount, not -5.0"):
        validate_overrides(Loose, {"stake": -5.0})
    with pytest.raises(OverrideError, match="max_open_positions: must be a whole number >= 0"):
        validate_overrides(Loose, {"max_open_positions": -1})
    assert validate_overrides(Loose, {"stake": 7.5}).stake == 7.5  # type: ignore[attr-defined]


@pytest.mark.parametrize("then", ['raise RuntimeError("not ready yet")', "pass"])
def test_a_candidate_that_assigns_into_a_shared_module_never_changes_the_running_code(fixture_dir: Path, then: str) -> None:
    m = manager(fixture_dir)
    running = m.registry.version
    before = m.registry.evaluate(view(), m.registry.params_model())
    ta_engine = m.registry.current.module("ta_engine")
    tilt = ta_engine.tilt
    append(fixture_dir / "strategy.py", f"\nta_engine.tilt = lambda: 0.4\nta_engine.TILT = 0.4\n{then}\n")
    outcome = m.check()
    assert not outcome.ok
    assert outcome.error is not None and "ta_engine" in outcome.error and "shares with the running code" in outcome.error, outcome.error
    assert ta_engine.tilt is tilt and ta_engine.TILT == 0.0
    assert m.registry.version == running
    assert m.registry.evaluate(view(), m.registry.params_model()) == before
    assert not m.reload().ok and ta_engine.tilt is tilt


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('raise SystemExit("bye")', "its message could not be read: SystemExit"),
        ("while True:\n            pass", "its message could not be read: timed out"),
        ("return 42", "its message could not be read: TypeError"),
    ],
)
def test_an_exception_whose_message_misbehaves_is_the_strategys_failure_not_the_engines(
    fixture_dir: Path, body: str, said: str
) -> None:
    m = manager(fixture_dir)
    running = m.registry.version
    append(fixture_dir / "strategy.py", f"\nclass Boom(Exception):\n    def __str__(self):\n        {body}\n\n\nraise Boom()\n")
    outcome = m.check()  # neither SystemExit nor a hang leaves it
    assert not outcome.ok and m.registry.version == running
    assert outcome.error is not None and "Boom" in outcome.error and said in outcome.error, outcome.error


def test_a_fifo_in_place_of_a_module_is_refused_at_once_not_waited_on(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    module = fixture_dir / "momentum_strategy.py"
    module.unlink()
    os.mkfifo(module)  # nothing ever writes to it: a blocking read would wait for good
    outcome = m.check()
    assert not outcome.ok and outcome.error is not None
    assert "momentum_strategy" in outcome.error and "not a regular file" in outcome.error, outcome.error
