"""Preparing a reload between cycles (`ReloadManager.prepare`): the boundary only commits,
and the result is exactly what an inline reload would have given."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.reload.manager import ReloadManager
from tests.reload.helpers import edit, line_of, strategy_modules
from tests.support.market_views import view


def loaded(directory: Path) -> ReloadManager:
    m = ReloadManager(directory)
    m.load_initial()
    return m


def confidence(m: ReloadManager) -> float:
    return m.registry.evaluate(view(), m.registry.params_model()).confidence


def test_prepare_changes_nothing_until_the_reload_commits(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    running, before = m.registry.current, strategy_modules()
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")

    prepared = m.prepare()

    assert prepared is not None and prepared.ok and prepared.elapsed_ms > 0
    after = strategy_modules()
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    assert m.registry.current is running and confidence(m) == pytest.approx(0.6)
    assert m.code_status().last_reload.kind == "initial"  # nothing reported until a command uses it

    outcome = m.reload()

    assert outcome.ok and outcome.swapped and outcome.changed == ("strategy",)
    assert outcome.prepared_ms == pytest.approx(prepared.elapsed_ms)
    assert outcome.version == prepared.candidate and outcome.smoke is prepared.smoke
    assert "prepared in" in outcome.detail and "between cycles" in outcome.detail
    assert m.code_status().last_reload.prepared_ms == pytest.approx(prepared.elapsed_ms, abs=1e-3)
    assert sys.modules["strategies.strategy"] is m.registry.current.strategy
    assert confidence(m) == pytest.approx(0.7)
    # The pause is the re-read and the swap, not the preparation
    assert set(outcome.phases) == {"read", "commit"}


def test_an_edit_after_the_preparation_is_prepared_again(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    assert m.prepare() is not None
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.7", "BASE_CONFIDENCE = 0.8")

    outcome = m.reload()

    assert outcome.ok and outcome.prepared_ms is None and "smoke" in outcome.phases
    assert confidence(m) == pytest.approx(0.8)


def test_a_prepared_failure_is_refused_at_the_boundary_with_its_place(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    path = fixture_dir / "momentum_strategy.py"
    edit(path, "move = price /", "move = = price /")
    prepared = m.prepare()
    assert prepared is not None and not prepared.ok

    outcome = m.reload()

    assert not outcome.ok and outcome.ack_result == "rejected" and outcome.prepared_ms is not None
    assert outcome.error_file == str(path) and outcome.error_line == line_of(path, "move = = price")
    assert outcome.phase == "compile" and "SyntaxError" in outcome.error
    assert confidence(m) == pytest.approx(0.6) and m.code_status().reloads == 0


def test_a_check_uses_the_preparation_and_leaves_it_for_the_reload(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    m.prepare()

    check = m.check()
    reload = m.reload()

    assert check.ok and not check.swapped and check.prepared_ms is not None
    assert reload.ok and reload.swapped and reload.prepared_ms is not None
    assert confidence(m) == pytest.approx(0.7)


def test_other_overrides_or_another_running_version_are_prepared_again(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    m.prepare(overrides={})
    assert m.reload(overrides={"stake": 7.0}).prepared_ms is None  # smoke-tested with other values

    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.7", "BASE_CONFIDENCE = 0.8")
    m.prepare()
    assert m.rollback().ok  # the running version changed under the preparation
    outcome = m.reload()
    assert outcome.ok and outcome.prepared_ms is None and confidence(m) == pytest.approx(0.8)


def test_only_the_swap_is_done_when_prepared_and_nothing_otherwise(fixture_dir: Path) -> None:
    m = loaded(fixture_dir)
    assert m.swap_if_prepared("reload").ok  # the files are the running code: nothing to prepare
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    last = m.last_outcome

    assert m.swap_if_prepared("reload") is None and m.swap_if_prepared("check") is None
    assert m.last_outcome is last and confidence(m) == pytest.approx(0.6)  # nothing done, nothing recorded

    m.prepare()
    check = m.swap_if_prepared("check")
    reload = m.swap_if_prepared("reload")
    assert check is not None and check.ok and not check.swapped
    assert reload is not None and reload.swapped and reload.prepared_ms is not None
    assert confidence(m) == pytest.approx(0.7)
