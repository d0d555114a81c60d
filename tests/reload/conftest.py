"""Fixtures for the reload tests: temporary copies of a strategies directory, and a
`sys.modules` that every test leaves exactly as it found it."""

from __future__ import annotations

import linecache
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.contract.paths import shipped_strategies_dir
from tests.reload.helpers import STRATEGY_FILES

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "strategies"


def _copy(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in STRATEGY_FILES:
        shutil.copyfile(source / name, target / name)
    return target


@pytest.fixture(autouse=True)
def _sys_modules_untouched() -> Iterator[None]:
    """Loading strategies registers them in sys.modules; put back what other tests expect."""
    saved = {k: v for k, v in sys.modules.items() if k == "strategies" or k.startswith("strategies.")}
    lines = dict(linecache.cache)
    yield
    for key in [k for k in sys.modules if k == "strategies" or k.startswith("strategies.")]:
        del sys.modules[key]
    sys.modules.update(saved)
    linecache.cache.clear()
    linecache.cache.update(lines)


@pytest.fixture
def fixture_dir(tmp_path: Path) -> Path:
    """A copy of the tiny fixture strategy set, free to edit."""
    return _copy(FIXTURE_DIR, tmp_path / "fixture_strategies")


@pytest.fixture
def shipped_dir(tmp_path: Path) -> Path:
    """A copy of the real strategies/ of this repository, free to edit."""
    source = shipped_strategies_dir()
    if not all((source / name).is_file() for name in STRATEGY_FILES):
        pytest.skip("the shipped strategies are not there yet")
    return _copy(source, tmp_path / "shipped_strategies")
