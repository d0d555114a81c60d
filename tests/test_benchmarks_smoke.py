"""Every benchmark still runs: each once at its tiny `--quick` size.

No timing is asserted here (timings live in benchmarks/RESULTS.md, never in the
test suite): only that each benchmark produces figures and that every number
they report is finite. One test per module, so a broken one is named.
"""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import runner
from benchmarks.common import Figure


@pytest.mark.parametrize("name", runner.MODULES)
def test_benchmark_produces_finite_figures(name: str, tmp_path) -> None:
    if name == "fleet":
        from tests.support.nats_server import unavailable

        if why := unavailable(tmp_path / "nats"):
            pytest.skip(f"the fleet benchmark needs a NATS server: {why}")
    results: dict[str, Figure] = {}
    if name == "cold_restart":  # its ratio divides by the reload pause of the same run
        runner.run_module("hot_reload", True, results)
    figures = runner.run_module(name, True, results)
    assert figures
    for figure in figures:
        assert figure.module == name
        assert figure.finite(), figure
        assert figure.runs > 0, figure
        # A figure with a goal is judged against it; an informative one is not.
        assert (figure.passed is None) == figure.goal.startswith("informative"), figure


def test_reports_are_written(tmp_path) -> None:
    figure = Figure(key="k", title="t", goal="p99 <= 1 ms", unit="ms", p50=0.5, tail=0.9, runs=3, value=0.9,
                    passed=True, module="hot_reload")  # fmt: skip
    info = {"date": "2026-01-01T00:00:00+00:00", "machine": runner.machine(), "quick": True,
            "load_start": (0.0, 0.0, 0.0), "load_end": (0.0, 0.0, 0.0)}  # fmt: skip
    runner.write_reports(tmp_path, [figure], info, {"hot_reload": 1.0}, [], "python -m benchmarks --quick")
    text = (tmp_path / "RESULTS.md").read_text()
    assert "| t | p99 <= 1 ms |" in text and "PASS" in text
    assert math.isfinite(json.loads((tmp_path / "results.json").read_text())["figures"][0]["p50"])
    (tmp_path / "RESULTS.md").unlink()
    assert runner.render(tmp_path) == 0  # RESULTS.md again from results.json alone
    assert "| t | p99 <= 1 ms |" in (tmp_path / "RESULTS.md").read_text()
