"""A reload keeps the module objects of unchanged leaves only while nothing they depend
on changed, and holds the cyclic garbage collector during its pause only."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from engine.reload.manager import ReloadManager
from tests.reload.helpers import append, edit, strategy_modules
from tests.support.market_views import view


def manager(directory: Path, **kwargs) -> ReloadManager:
    m = ReloadManager(directory, **kwargs)
    m.load_initial()
    return m


def objects(m: ReloadManager) -> dict[str, object]:
    return {loaded.name: loaded.module for loaded in m.registry.current}


# ------------------------------------------------- unchanged leaves are kept


def test_a_change_in_the_entry_module_keeps_the_leaves(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    before = objects(m)
    loaded_at = {loaded.name: loaded.loaded_at for loaded in m.registry.current}
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    outcome = m.reload()
    assert outcome.ok and outcome.changed == ("strategy",) and outcome.executed == ("strategy",)
    after = objects(m)
    assert after["ta_engine"] is before["ta_engine"] and after["momentum_strategy"] is before["momentum_strategy"]
    assert after["strategy"] is not before["strategy"]
    # a kept module reports when it was really loaded
    kept = {loaded.name: loaded.loaded_at for loaded in m.registry.current}
    assert kept["ta_engine"] == loaded_at["ta_engine"]
    # the fresh package holds the kept modules, and the new strategy is bound to them
    package = sys.modules["strategies"]
    assert package is m.registry.current.package and package is not m.registry.previous.package
    assert package.ta_engine is before["ta_engine"] and after["strategy"].ta_engine is before["ta_engine"]
    assert m.registry.evaluate(view(), m.registry.params_model()).confidence == pytest.approx(0.7)


def test_every_dependant_of_a_changed_module_runs_again(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    before = objects(m)
    edit(fixture_dir / "momentum_strategy.py", "roc=ta_engine", "roc=0.0 * ta_engine")
    outcome = m.reload()
    assert outcome.executed == ("momentum_strategy", "strategy")
    after = objects(m)
    assert after["ta_engine"] is before["ta_engine"]
    assert after["momentum_strategy"] is not before["momentum_strategy"]
    assert after["strategy"].momentum_strategy is after["momentum_strategy"]

    edit(fixture_dir / "ta_engine.py", "TILT = 0.0", "TILT = 0.1")
    outcome = m.reload()
    assert outcome.executed == ("ta_engine", "momentum_strategy", "strategy")
    assert all(objects(m)[name] is not after[name] for name in after)
    assert m.registry.current.strategy.momentum_strategy.ta_engine is m.registry.current.module("ta_engine")


def test_a_module_holding_the_package_object_is_never_kept(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    # `import strategies.ta_engine` binds the package: the module would reach its siblings
    # through the old package at call time, so it must run again with every new version.
    append(fixture_dir / "momentum_strategy.py", "import strategies.ta_engine\n\n\ndef pkg_tilt():\n    return strategies.ta_engine.tilt()\n")
    assert m.reload().executed == ("momentum_strategy", "strategy")
    assert m.registry.current.module("momentum_strategy").pkg_tilt() == 0.0
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    outcome = m.reload()
    assert outcome.executed == ("momentum_strategy", "strategy")
    assert m.registry.current.module("momentum_strategy").strategies is sys.modules["strategies"]


def test_a_module_that_got_the_package_without_importing_it_is_not_kept(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    append(fixture_dir / "ta_engine.py", "import sys as _sys\n\n_PACKAGE = _sys.modules['strategies']\n")
    assert m.reload().ok
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    assert m.reload().executed == ("ta_engine", "momentum_strategy", "strategy")
    assert m.registry.current.module("ta_engine")._PACKAGE is sys.modules["strategies"]


def test_from_imports_do_not_stop_reuse(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    edit(fixture_dir / "momentum_strategy.py", "from strategies import ta_engine", "from strategies import ta_engine\nfrom strategies.ta_engine import tilt as _tilt")
    assert m.reload().ok
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    assert m.reload().executed == ("strategy",)


def test_a_refused_reload_with_kept_leaves_changes_nothing(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    before = strategy_modules()
    current = m.registry.current
    edit(fixture_dir / "strategy.py", "API_VERSION = 1", "API_VERSION = 1\nraise RuntimeError('at import')")
    outcome = m.reload()
    assert not outcome.ok and outcome.executed == ("strategy",)
    after = strategy_modules()
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    assert m.registry.current is current
    # the running package did not gain or lose anything
    assert sys.modules["strategies"].ta_engine is current.module("ta_engine")


def test_rollback_after_a_reload_that_kept_leaves(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    old = m.registry.current
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.8")
    assert m.reload().executed == ("strategy",)
    assert m.rollback().ok
    assert sys.modules["strategies"] is old.package
    assert sys.modules["strategies.strategy"] is old.strategy
    assert sys.modules["strategies.ta_engine"] is old.module("ta_engine")
    assert m.registry.evaluate(view(), m.registry.params_model()).confidence == pytest.approx(0.6)


def test_check_keeps_leaves_and_swaps_nothing(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    before = strategy_modules()
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    outcome = m.check()
    assert outcome.ok and outcome.executed == ("strategy",) and not outcome.swapped
    after = strategy_modules()
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    assert before["strategies"].strategy is before["strategies.strategy"]


# ----------------------------------------------- the collector waits for the pause


GC_PROBE = "\nimport gc as _gc\n\nGC_ON_AT_IMPORT = _gc.isenabled()\n"


def test_the_collector_is_held_during_the_pause_only(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    append(fixture_dir / "ta_engine.py", GC_PROBE)
    assert gc.isenabled()
    assert m.reload().ok
    assert m.registry.current.module("ta_engine").GC_ON_AT_IMPORT is False
    assert gc.isenabled()


def test_the_collector_is_back_after_a_refused_reload(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    edit(fixture_dir / "strategy.py", "API_VERSION = 1", "API_VERSION = (")
    assert not m.reload().ok and gc.isenabled()


def test_the_collector_is_left_alone_when_asked_or_already_off(fixture_dir: Path) -> None:
    append(fixture_dir / "ta_engine.py", GC_PROBE)
    m = manager(fixture_dir, hold_gc=False)
    assert m.registry.current.module("ta_engine").GC_ON_AT_IMPORT is True
    gc.disable()
    try:
        m2 = manager(fixture_dir)
        assert m2.registry.current.module("ta_engine").GC_ON_AT_IMPORT is False
        assert not gc.isenabled()  # it was off before: the manager does not turn it on
    finally:
        gc.enable()
