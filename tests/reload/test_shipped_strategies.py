"""The reload manager on a copy of the real strategies/ (edits are appended, so they
hold whatever the strategy modules contain)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.reload.manager import ReloadManager
from engine.reload.smoke import snapshot
from tests.reload.helpers import V2_REASON, append, strategy_modules
from tests.support.market_views import view

# Quadruple the volatility estimate: the predictive path's probability moves towards 1/2.
WRAP_VOLATILITY = """

_sample_volatility_before = sample_volatility


def sample_volatility(returns):
    value = _sample_volatility_before(returns)
    return None if value is None else value * 4.0
"""


def loaded(directory: Path) -> ReloadManager:
    m = ReloadManager(directory)
    outcome = m.load_initial()
    assert outcome.ok and outcome.smoke is not None
    return m


def test_shipped_strategies_load_and_pass_the_smoke_evaluation(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    outcome = m.last_outcome
    assert outcome.smoke.evaluations == len(snapshot())
    assert outcome.smoke.decisions > 0 and outcome.smoke.entries > 0  # the snapshot reaches the snipe window
    assert m.check().changed == ()
    assert m.reload().swapped is False


def test_changed_entry_module_is_running_after_reload(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    v = view(move=0.003, left_s=30.0)
    before = m.registry.evaluate(v, m.registry.params_model())
    append(shipped_dir / "strategy.py", V2_REASON)
    outcome = m.reload()
    assert outcome.ok and outcome.changed == ("strategy",)
    after = m.registry.evaluate(v, m.registry.params_model())
    assert after.reason == "v2: " + before.reason
    assert m.rollback().ok
    assert m.registry.evaluate(v, m.registry.params_model()).reason == before.reason


def test_change_in_ta_engine_alone_reaches_the_decisions(shipped_dir: Path) -> None:
    m = loaded(shipped_dir)
    v = view(move=0.001, left_s=30.0, noise=0.0001)
    before = m.registry.evaluate(v, m.registry.params_model())
    append(shipped_dir / "ta_engine.py", WRAP_VOLATILITY)
    outcome = m.reload()
    assert outcome.ok and outcome.changed == ("ta_engine",)
    after = m.registry.evaluate(v, m.registry.params_model())
    assert before.prob_up > 0.5 and 0.5 < after.prob_up < before.prob_up


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("strategy.py", "def broken(:\n", "SyntaxError"),
        ("momentum_strategy.py", "LATE = 1\nraise ImportError('late failure')\n", "ImportError: late failure"),
        ("strategy.py", "del evaluate\n", "evaluate(view, params) is missing"),
    ],
)
def test_broken_shipped_code_is_refused(shipped_dir: Path, file: str, text: str, expected: str) -> None:
    m = loaded(shipped_dir)
    before = strategy_modules()
    current = m.registry.current
    line = append(shipped_dir / file, text)
    outcome = m.reload()
    assert not outcome.ok and expected in outcome.error
    assert outcome.error_file == str(shipped_dir / file)
    if expected != "evaluate(view, params) is missing":
        assert outcome.error_line == line + text.count("\n") - 1
    assert m.registry.current is current
    assert all(sys.modules[k] is v for k, v in before.items())
