from __future__ import annotations

import compileall
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine_proc import ROOT, EngineProcess


def pytest_configure(config: pytest.Config) -> None:
    """Compile the engine and the TUI once, before any worker starts.

    The suite starts hundreds of engine, ctl and TUI subprocesses. Where
    PYTHONDONTWRITEBYTECODE is set (CI images often set it) none of them writes
    a .pyc, so each would compile every module from source again, a third of
    its start-up."""
    if not hasattr(config, "workerinput"):
        for package in ("engine", "foresight_tui"):
            compileall.compile_dir(ROOT / package, quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding a slow test go first: xdist hands files out in this order,
    and a minute-long file handed out last leaves the other worker idle."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture
def engine_factory(tmp_path: Path) -> Iterator:
    """Start real engine subprocesses on temp state dirs; all are stopped at teardown."""
    started: list[EngineProcess] = []

    def make(*args: str, state_dir: Path | None = None, start: bool = True, **kwargs) -> EngineProcess:
        proc = EngineProcess(state_dir or tmp_path / "state", *args, **kwargs)
        started.append(proc)
        return proc.start() if start else proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture
def engine(engine_factory) -> EngineProcess:
    return engine_factory()
