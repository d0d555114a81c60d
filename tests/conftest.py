from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine_proc import EngineProcess


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
