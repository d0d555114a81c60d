"""The reload manager in-process, on temporary copies of the fixture strategy set."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import sys
import weakref
from pathlib import Path

import pytest

from engine.reload.guard import Budgets
from engine.reload.manager import ReloadManager, StrategyLoadError
from engine.reload.registry import StaleParamsError
from engine.strategy_api.decision import InvalidDecision
from tests.reload.helpers import append, edit, line_of, strategy_modules
from tests.support.market_views import view


def manager(directory: Path, **kwargs) -> ReloadManager:
    m = ReloadManager(directory, **kwargs)
    m.load_initial()
    return m


def decide(m: ReloadManager, **kwargs):
    return m.registry.evaluate(view(**kwargs), m.registry.params_model())


# ------------------------------------------------------------------ loading


def test_initial_load_reports_every_module(fixture_dir: Path) -> None:
    m = ReloadManager(fixture_dir)
    outcome = m.load_initial()
    assert outcome.ok and outcome.kind == "initial" and outcome.swapped
    status = m.code_status()
    assert [mod.name for mod in status.modules] == ["ta_engine", "momentum_strategy", "strategy"]
    for mod in status.modules:
        assert mod.sha256 == hashlib.sha256((fixture_dir / f"{mod.name}.py").read_bytes()).hexdigest()
        assert mod.path == str(fixture_dir / f"{mod.name}.py")
        assert mod.loaded_at.endswith("+00:00")
    assert status.version == outcome.version and len(status.version) == 12
    assert status.reloads == 0 and status.previous_version is None
    assert status.last_reload is not None and status.last_reload.kind == "initial"
    assert sys.modules["strategies.strategy"] is m.registry.current.strategy
    assert sys.modules["strategies"].ta_engine is m.registry.current.module("ta_engine")
    # compiled from the bytes read, never through the bytecode cache
    assert not (fixture_dir / "__pycache__").exists()


def test_initial_load_raises_when_the_code_does_not_load(fixture_dir: Path) -> None:
    edit(fixture_dir / "strategy.py", "API_VERSION = 1", "API_VERSION = (")
    before = strategy_modules()
    with pytest.raises(StrategyLoadError) as caught:
        ReloadManager(fixture_dir).load_initial()
    assert caught.value.file == str(fixture_dir / "strategy.py")
    assert caught.value.line == line_of(fixture_dir / "strategy.py", "API_VERSION = (")
    assert strategy_modules() == before


def test_changed_constant_is_seen_after_reload(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    old_version = m.registry.current.version
    assert decide(m).confidence == pytest.approx(0.6)
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    outcome = m.reload()
    assert outcome.ok and outcome.swapped and outcome.kind == "reload"
    assert outcome.changed == ("strategy",)
    assert outcome.previous_version == old_version and outcome.version != old_version
    assert outcome.duration_ms > 0 and outcome.smoke is not None and outcome.smoke.evaluations > 0
    assert decide(m).confidence == pytest.approx(0.7)
    assert m.code_status().reloads == 1 and m.code_status().previous_version == old_version


def test_change_in_leaf_module_alone_reaches_the_strategy(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    before = decide(m).prob_up
    edit(fixture_dir / "ta_engine.py", "TILT = 0.0", "TILT = 0.2")
    outcome = m.reload()
    assert outcome.ok and outcome.changed == ("ta_engine",)
    assert decide(m).prob_up == pytest.approx(min(1.0, before + 0.2))
    # the new strategy module is bound to the new ta_engine, through the fresh package
    assert m.registry.current.strategy.ta_engine is m.registry.current.module("ta_engine")


def test_same_size_edit_in_the_same_second_is_loaded(fixture_dir: Path) -> None:
    path = fixture_dir / "strategy.py"
    edit(path, "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.61")
    m = manager(fixture_dir)
    stat = path.stat()
    edit(path, "BASE_CONFIDENCE = 0.61", "BASE_CONFIDENCE = 0.62")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    outcome = m.reload()
    assert outcome.ok and outcome.changed == ("strategy",)
    assert decide(m).confidence == pytest.approx(0.62)


def test_removed_function_is_gone(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    assert hasattr(sys.modules["strategies.ta_engine"], "volatility")
    text = (fixture_dir / "ta_engine.py").read_text()
    start = text.index("def volatility")
    end = text.index("def tilt")
    (fixture_dir / "ta_engine.py").write_text(text[:start] + text[end:])
    assert m.reload().ok
    assert not hasattr(sys.modules["strategies.ta_engine"], "volatility")
    assert not hasattr(m.registry.current.module("ta_engine"), "volatility")
    assert not hasattr(m.registry.current.strategy.ta_engine, "volatility")


def test_reload_without_change_keeps_everything(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    m.reload()
    current, previous = m.registry.current, m.registry.previous
    outcome = m.reload()
    assert outcome.ok and not outcome.swapped and outcome.changed == ()
    assert m.registry.current is current and m.registry.previous is previous
    assert "no change" in outcome.detail


# ---------------------------------------------------------------- refusals


def _refused(m: ReloadManager, fixture_dir: Path, file: str, line: int | None | tuple[int, ...], text: str) -> None:
    """Reload and check both refuse; nothing of the running code moves. `line` may list
    the lines that are right (a time budget may be caught inside or after the strategy)."""
    lines = line if isinstance(line, tuple) else (line,)
    before = strategy_modules()
    current, previous = m.registry.current, m.registry.previous
    confidence = decide(m).confidence
    for outcome in (m.check(), m.reload()):
        assert not outcome.ok, outcome
        assert outcome.ack_result == "rejected"
        assert outcome.error_file == str(fixture_dir / file)
        assert outcome.error_line in lines
        assert text in outcome.error
        expected = f"{fixture_dir / file}:{outcome.error_line}: " if outcome.error_line else f"{fixture_dir / file}: "
        assert outcome.error.startswith(expected), outcome.error
        assert outcome.version == current.version and not outcome.swapped
        # sys.modules holds the very same module objects as before
        after = strategy_modules()
        assert after.keys() == before.keys()
        assert all(after[k] is before[k] for k in before)
        assert m.registry.current is current and m.registry.previous is previous
        assert decide(m).confidence == confidence
        assert not (fixture_dir / "__pycache__").exists()
    assert m.code_status().last_reload.ok is False
    assert m.code_status().reloads == 0


def test_syntax_error_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "momentum_strategy.py"
    edit(path, "    move = price / open_price", "    move = = price / open_price")
    _refused(m, fixture_dir, "momentum_strategy.py", line_of(path, "move = = price"), "SyntaxError")


def test_exception_at_import_after_some_definitions_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "strategy.py"
    line = append(path, "NEW_NAME = 1\n\n\ndef new_function():\n    return 2\n\n\nraise RuntimeError('boom at import')\n")
    _refused(m, fixture_dir, "strategy.py", line + 7, "RuntimeError: boom at import")
    # no mixed module: the running strategy module never saw the new names
    assert not hasattr(sys.modules["strategies.strategy"], "NEW_NAME")
    assert not hasattr(m.registry.current.strategy, "new_function")


def test_exception_in_a_function_called_at_import_points_at_the_raising_line(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "ta_engine.py"
    append(path, "def _broken():\n    return 1 / 0  # raising line\n\n\nVALUE = _broken()\n")
    _refused(m, fixture_dir, "ta_engine.py", line_of(path, "# raising line"), "ZeroDivisionError")


def test_missing_api_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    edit(fixture_dir / "strategy.py", "def evaluate(", "def evaluate_v2(")
    _refused(m, fixture_dir, "strategy.py", None, "evaluate(view, params) is missing")


def test_evaluate_that_cannot_take_a_view_and_params_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "strategy.py"
    append(path, "\n\ndef evaluate(view):  # one argument\n    return None\n")
    _refused(m, fixture_dir, "strategy.py", line_of(path, "# one argument"), "evaluate cannot be called as evaluate(view, params)")


def test_params_without_an_engine_parameter_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "strategy.py"
    edit(path, "    win_rate_window: int", "    win_rate_span: int")
    _refused(m, fixture_dir, "strategy.py", line_of(path, "class Params"), "Params does not declare win_rate_window")


def test_invalid_decision_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "strategy.py"
    edit(path, 'direction = "up" if prob_up >= 0.5 else "down"', 'direction = "sideways"')
    _refused(m, fixture_dir, "strategy.py", line_of(path, "def evaluate("), "direction='sideways'")


def test_exception_in_smoke_evaluation_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "strategy.py"
    edit(path, "    if len(view.history) < 2:", "    if view.asset == 'SOL':\n        {}['missing']  # raises\n    if len(view.history) < 2:")
    _refused(m, fixture_dir, "strategy.py", line_of(path, "# raises"), "KeyError")


def test_slow_smoke_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir, budgets=Budgets(smoke_s=0.05))
    path = fixture_dir / "strategy.py"
    # Nothing but the sleep runs in the strategy, so wherever the watchdog's signal lands, even
    # late on a loaded machine, it is on the slow line or in the engine (reported at evaluate).
    edit(path, "    if len(view.history) < 2:", "    __import__('time').sleep(0.004)  # slow\n    return None\n    if len(view.history) < 2:")
    lines = (line_of(path, "# slow"), line_of(path, "def evaluate("))
    _refused(m, fixture_dir, "strategy.py", lines, "over its time budget")


def test_endless_loop_in_smoke_is_interrupted(fixture_dir: Path) -> None:
    m = manager(fixture_dir, budgets=Budgets(smoke_s=0.1))
    path = fixture_dir / "strategy.py"
    edit(path, "    if len(view.history) < 2:", "    while True:  # forever\n        pass\n    if len(view.history) < 2:")
    marker = line_of(path, "# forever")
    before = strategy_modules()
    outcome = m.reload()
    assert not outcome.ok and "over its time budget" in outcome.error and "interrupted" in outcome.error
    assert outcome.error_file == str(path) and outcome.error_line in (marker, marker + 1)
    assert all(strategy_modules()[k] is v for k, v in before.items())


@pytest.mark.parametrize(
    ("file", "statement", "text"),
    [
        ("strategy.py", "import engine.state", "may not import engine.state"),
        ("strategy.py", "from engine.market_view import MarketView as EngineView", "may not import engine.market_view"),
        ("ta_engine.py", "from strategies import strategy", "loads after it in dependency order"),
        ("momentum_strategy.py", "from strategies import helpers", "strategies.helpers is not in the reload scope"),
    ],
)
def test_forbidden_imports_are_refused(fixture_dir: Path, file: str, statement: str, text: str) -> None:
    (fixture_dir / "helpers.py").write_text("X = 1\n")
    m = manager(fixture_dir)
    path = fixture_dir / file
    line = append(path, statement + "\n")
    _refused(m, fixture_dir, file, line, text)
    assert "strategies.helpers" not in sys.modules


def test_missing_file_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    (fixture_dir / "momentum_strategy.py").unlink()
    _refused(m, fixture_dir, "momentum_strategy.py", None, "cannot read module strategies.momentum_strategy")


def test_a_refused_reload_after_a_good_one_keeps_the_good_one(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    good = m.reload()
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.7", "BASE_CONFIDENCE = (")
    bad = m.reload()
    assert good.ok and not bad.ok
    assert m.registry.current.version == good.version
    assert decide(m).confidence == pytest.approx(0.7)
    assert bad.changed == ("strategy",) and bad.candidate != good.version


# ------------------------------------------------------------- check only


def test_check_lists_changes_and_swaps_nothing(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    before = strategy_modules()
    current = m.registry.current
    edit(fixture_dir / "ta_engine.py", "TILT = 0.0", "TILT = 0.1")
    outcome = m.check()
    assert outcome.ok and outcome.kind == "check" and not outcome.swapped
    assert outcome.changed == ("ta_engine",)
    assert outcome.version == current.version and outcome.candidate != current.version
    assert all(strategy_modules()[k] is v for k, v in before.items())
    assert m.registry.current is current and m.code_status().reloads == 0
    assert decide(m).prob_up == pytest.approx(0.6)
    unchanged = m.check()
    assert unchanged.ok and unchanged.changed == ("ta_engine",)
    assert m.reload().version == outcome.candidate


# --------------------------------------------------------------- rollback


def test_rollback_restores_the_old_behaviour(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    old = m.registry.current
    old_modules = strategy_modules()
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.8")
    new_version = m.reload().version
    assert decide(m).confidence == pytest.approx(0.8)
    outcome = m.rollback()
    assert outcome.ok and outcome.kind == "rollback" and outcome.swapped
    assert outcome.version == old.version and outcome.changed == ("strategy",)
    assert m.registry.current is old
    assert decide(m).confidence == pytest.approx(0.6)
    assert all(strategy_modules()[k] is v for k, v in old_modules.items())
    # the version rolled back from is kept: a second rollback goes forward again
    assert m.code_status().previous_version == new_version
    assert m.rollback().version == new_version
    assert decide(m).confidence == pytest.approx(0.8)
    assert m.code_status().reloads == 3


def test_rollback_without_a_previous_version_is_refused(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    current = m.registry.current
    outcome = m.rollback()
    assert not outcome.ok and outcome.ack_result == "rejected" and "no previous version" in outcome.error
    assert m.registry.current is current


# ---------------------------------------------------------- auto rollback


def _raise_for_asset(fixture_dir: Path, asset: str) -> int:
    path = fixture_dir / "strategy.py"
    edit(
        path,
        "    if len(view.history) < 2:",
        f"    if view.asset == {asset!r}:\n        raise ValueError('broken for {asset}')  # probation\n    if len(view.history) < 2:",
    )
    return line_of(path, "# probation")


def _cycle(m: ReloadManager, asset: str) -> list[str]:
    """One engine-like cycle over a single slot: errors described the way the loop reports them."""
    errors = []
    try:
        m.registry.evaluate(view(asset=asset), m.registry.params_model())
    except Exception as exc:  # noqa: BLE001
        errors.append(m.registry.describe_error(exc))
    return errors


def test_error_in_probation_rolls_back_by_itself(fixture_dir: Path) -> None:
    m = manager(fixture_dir, probation_cycles=3)
    good = m.registry.current
    good_modules = strategy_modules()
    line = _raise_for_asset(fixture_dir, "ZZZ")  # an asset the smoke snapshot does not have
    swapped = m.reload()
    assert swapped.ok and m.probation_left == 3
    assert m.report_cycle(_cycle(m, "BTC")) is None and m.probation_left == 2
    errors = _cycle(m, "ZZZ")
    assert errors == [f"{fixture_dir / 'strategy.py'}:{line}: ValueError: broken for ZZZ"]
    outcome = m.report_cycle(errors)
    assert outcome is not None and outcome.kind == "auto_rollback" and not outcome.ok
    assert outcome.ack_result == "rolled_back" and outcome.swapped
    assert outcome.version == good.version and outcome.candidate == swapped.version
    assert f"strategy.py:{line}" in outcome.error
    assert m.registry.current is good and m.registry.previous is None
    assert all(strategy_modules()[k] is v for k, v in good_modules.items())
    assert _cycle(m, "ZZZ") == [] and m.probation_left == 0
    assert m.report_cycle(["anything"]) is None
    status = m.code_status()
    assert status.last_reload.kind == "auto_rollback" and status.previous_version is None


def test_errors_after_probation_do_not_roll_back(fixture_dir: Path) -> None:
    m = manager(fixture_dir, probation_cycles=2)
    _raise_for_asset(fixture_dir, "ZZZ")
    new = m.reload()
    assert m.report_cycle([]) is None and m.report_cycle([]) is None
    assert m.report_cycle(_cycle(m, "ZZZ")) is None
    assert m.registry.current.version == new.version


def test_a_failure_rate_after_probation_rolls_back(fixture_dir: Path) -> None:
    m = manager(fixture_dir, probation_cycles=1, failure_window=5, failure_limit=3)
    good = m.registry.current
    _raise_for_asset(fixture_dir, "ZZZ")
    new = m.reload()
    assert m.report_cycle([]) is None and m.proven == new.version  # through its probation
    errors = _cycle(m, "ZZZ")
    assert m.report_cycle(errors) is None and m.report_cycle([]) is None and m.report_cycle(errors) is None
    outcome = m.report_cycle(errors)  # the third failing cycle of the last five
    assert outcome is not None and outcome.kind == "auto_rollback" and outcome.phase == "live"
    assert "failed in 3 of its last 5 cycles" in (outcome.error or "")
    assert m.registry.current is good
    assert m.last_failure is not None and m.last_failure.version == new.version and m.last_failure.now_running == good.version


def test_no_probation_after_the_initial_load_or_a_rollback(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    assert m.report_cycle(["boom"]) is None
    edit(fixture_dir / "strategy.py", "BASE_CONFIDENCE = 0.6", "BASE_CONFIDENCE = 0.7")
    m.reload()
    m.rollback()
    assert m.probation_left == 0 and m.report_cycle(["boom"]) is None


# ------------------------------------------------ classes across versions


def test_dataclasses_and_pydantic_models_work_across_reloads(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    old_params = m.registry.params_model()
    append(
        fixture_dir / "momentum_strategy.py",
        "\n\n@dataclass(frozen=True)\nclass Window:\n    start: float\n    end: float\n"
        "    def length(self) -> float:\n        return self.end - self.start\n",
    )
    append(
        fixture_dir / "strategy.py",
        "\n\nclass Leg(BaseModel):\n    window: momentum_strategy.Window\n    weight: float = 1.0\n"
        "    model_config = ConfigDict(arbitrary_types_allowed=True)\n\n\n"
        "class Plan(BaseModel):\n    legs: list[Leg]\n    note: 'str | None' = None\n",
    )
    for _ in range(3):
        assert m.reload().ok
        edit(fixture_dir / "ta_engine.py", "TILT = 0.0", "TILT = 0.0 ")  # a real change each round
        edit(fixture_dir / "ta_engine.py", "TILT = 0.0 ", "TILT = 0.0")
        (fixture_dir / "ta_engine.py").write_text((fixture_dir / "ta_engine.py").read_text() + "#\n")
    strategy = m.registry.current.strategy
    window = strategy.momentum_strategy.Window(10.0, 25.0)
    plan = strategy.Plan.model_validate({"legs": [{"window": window}]})
    assert plan.legs[0].window.length() == 15.0 and dataclasses.is_dataclass(window)
    decision = decide(m)
    assert dataclasses.asdict(decision)["path"] == "reactive"
    assert dataclasses.replace(decision, reason="x").reason == "x"
    assert m.registry.params_model.model_json_schema()["properties"]["stake"]["default"] == 5.0
    # parameters built from an older version's model are refused, not silently used
    with pytest.raises(StaleParamsError):
        m.registry.evaluate(view(), old_params)


def test_a_new_parameter_appears_in_the_schema(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    assert "max_spread" not in m.registry.params_model.model_json_schema()["properties"]
    edit(
        fixture_dir / "strategy.py",
        '    min_edge: float = Field(0.02, ge=0.0, le=0.5, description="enter only with at least this edge")\n',
        '    min_edge: float = Field(0.02, ge=0.0, le=0.5, description="enter only with at least this edge")\n'
        '    max_spread: float = Field(0.05, ge=0.0, le=0.2, description="new in this version")\n',
    )
    assert m.reload().ok
    schema = m.registry.params_model.model_json_schema()["properties"]["max_spread"]
    assert schema["default"] == 0.05 and schema["maximum"] == 0.2 and schema["description"] == "new in this version"


# ---------------------------------------------------------------- registry


def test_registry_refuses_an_invalid_decision_at_run_time(fixture_dir: Path) -> None:
    m = manager(fixture_dir)
    path = fixture_dir / "strategy.py"
    edit(path, "    return Decision(direction, confidence,", "    if view.asset == 'ZZZ':\n        confidence = float('nan')\n    return Decision(direction, confidence,")
    assert m.reload().ok
    with pytest.raises(InvalidDecision) as caught:
        decide(m, asset="ZZZ")
    assert "confidence=nan" in str(caught.value) and caught.value.slot_id == "ZZZ-5m"
    assert str(caught.value).startswith(f"{path}:{line_of(path, 'def evaluate(')}: ")


# ------------------------------------------------------------------- scope


@pytest.mark.parametrize(
    "scope",
    [
        ("engine.loop", "strategy"),
        ("engine", "strategy"),
        ("ta_engine", "momentum_strategy"),
        ("ta_engine", "ta_engine", "strategy"),
        ("../evil", "strategy"),
        (),
    ],
)
def test_scope_never_holds_engine_code_or_nonsense(fixture_dir: Path, scope: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        ReloadManager(fixture_dir, scope)


def test_engine_directory_is_never_a_strategies_directory() -> None:
    engine_dir = Path(__import__("engine").__file__).parent
    with pytest.raises(ValueError, match="engine code"):
        ReloadManager(engine_dir, ("loop", "strategy"))


# ------------------------------------------------------------------ memory


def test_repeated_reloads_free_old_versions(fixture_dir: Path) -> None:
    """A 20-round smoke run of benchmarks/reload_memory.py: only current and previous stay alive."""
    m = manager(fixture_dir)
    alive = []
    for i in range(20):
        edit(fixture_dir / "ta_engine.py", f"TILT = 0.0{'0' * i}", f"TILT = 0.0{'0' * (i + 1)}")
        outcome = m.reload()
        assert outcome.ok, outcome.error
        alive.extend(weakref.ref(mod.module) for mod in m.registry.current)
    gc.collect()
    assert sum(ref() is not None for ref in alive) == 6  # current + previous, three modules each
