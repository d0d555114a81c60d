"""The reload benchmarks still run (a few reloads, no timing asserted: figures belong to benchmarks/)."""

from __future__ import annotations

import pytest

from benchmarks import reload_memory, reload_pause
from engine.contract.paths import shipped_strategies_dir
from tests.reload.helpers import STRATEGY_FILES


@pytest.mark.parametrize("bench", [reload_pause, reload_memory], ids=["pause", "memory"])
def test_benchmark_runs(bench, capsys: pytest.CaptureFixture[str]) -> None:
    if not all((shipped_strategies_dir() / name).is_file() for name in STRATEGY_FILES):
        pytest.skip("the shipped strategies are not there yet")
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "reloads of" in out
