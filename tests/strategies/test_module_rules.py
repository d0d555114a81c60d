"""The rules a hot reload depends on (docs/strategy-api.md, docs/hot-reload)."""

import ast
import importlib
import inspect
import types
import typing
from pathlib import Path

import pytest

import strategies

PACKAGE_DIR = Path(strategies.__file__).parent
MODULES = ["strategies.ta_engine", "strategies.momentum_strategy", "strategies.strategy"]
ALLOWED_IMPORTS = {"math", "operator", "collections.abc", "dataclasses", "typing", "pydantic", "strategies"}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "compile", "__import__"}
IMMUTABLE_SCALARS = (int, float, complex, str, bytes, bool, type(None))


def _immutable(value: object) -> bool:
    if isinstance(value, IMMUTABLE_SCALARS):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(v) for v in value)
    return False


def _allowed_global(value: object) -> bool:
    return (
        _immutable(value)
        or isinstance(value, (types.ModuleType, types.FunctionType, type))
        # Literal[...] aliases and Protocol helpers are typing constructs, not state
        or type(value).__module__ == "typing"
    )


@pytest.mark.parametrize("name", MODULES)
def test_no_module_level_mutable_state(name: str) -> None:
    module = importlib.import_module(name)
    offenders = {
        key: type(value).__name__
        for key, value in vars(module).items()
        if not (key.startswith("__") and key.endswith("__")) and not _allowed_global(value)
    }
    assert offenders == {}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("name", MODULES)
def test_imports_only_stdlib_pydantic_and_siblings_in_reloadable_form(name: str) -> None:
    tree = _tree(PACKAGE_DIR / f"{name.split('.')[-1]}.py")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name in ALLOWED_IMPORTS, alias.name
                assert alias.name != "strategies"
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            assert node.module in ALLOWED_IMPORTS, node.module
            if node.module == "strategies":
                # `from strategies import ta_engine`: a module, never a name out of one
                assert all(a.name in {"ta_engine", "momentum_strategy"} for a in node.names)


@pytest.mark.parametrize("name", MODULES)
def test_never_imports_engine_or_the_tui(name: str) -> None:
    tree = _tree(PACKAGE_DIR / f"{name.split('.')[-1]}.py")
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] in {"engine", "foresight_tui"}}


@pytest.mark.parametrize("name", MODULES)
def test_no_io_no_globals_no_threads(name: str) -> None:
    tree = _tree(PACKAGE_DIR / f"{name.split('.')[-1]}.py")
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.Global, ast.Nonlocal)), ast.dump(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, node.func.id


def test_package_init_is_a_docstring_only() -> None:
    tree = _tree(PACKAGE_DIR / "__init__.py")
    assert len(tree.body) == 1 and ast.get_docstring(tree)


def test_dependants_reach_siblings_through_the_module_object() -> None:
    # a reload replaces sys.modules["strategies.ta_engine"]; dependants must
    # look names up on the module at call time to see the new version
    from strategies import momentum_strategy, strategy

    assert momentum_strategy.ta_engine is importlib.import_module("strategies.ta_engine")
    assert strategy.momentum_strategy is importlib.import_module("strategies.momentum_strategy")
    for module in (momentum_strategy, strategy):
        source = inspect.getsource(module)
        assert "from strategies.ta_engine import" not in source


def test_api_surface() -> None:
    from strategies import strategy

    assert strategy.API_VERSION == 1
    assert callable(strategy.evaluate)
    assert typing.get_type_hints(strategy.evaluate)["return"] == strategy.Decision | None
