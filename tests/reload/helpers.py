"""Small helpers shared by the reload tests (editing strategy files, snapshots); their market views are tests/support/market_views.py's."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

STRATEGY_FILES = ("ta_engine.py", "momentum_strategy.py", "strategy.py")


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact occurrence of `old` in a strategy file."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new))


def append(path: Path, text: str) -> int:
    """Append lines to a strategy file; returns the line number of the first appended line."""
    before = path.read_text()
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text)
    return before.count("\n") + 1


def line_of(path: Path, marker: str) -> int:
    """1-based line number of the only line holding `marker`."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"{marker!r} is on lines {hits} of {path.name}"
    return hits[0]


def strategy_modules() -> dict[str, ModuleType]:
    """The strategies entries of sys.modules, by name: compared by identity around a refused reload."""
    return {k: v for k, v in sys.modules.items() if k == "strategies" or k.startswith("strategies.")}


# Appended to a strategy.py: every reason it gives starts with "v2: " (a visible, harmless change).
V2_REASON = """

import dataclasses as _dc

_evaluate_before = evaluate


def evaluate(view, params):
    decision = _evaluate_before(view, params)
    return None if decision is None else _dc.replace(decision, reason="v2: " + decision.reason)
"""
