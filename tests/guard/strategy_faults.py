"""Copies of the shipped strategies with faults that show only on live data.

The smoke snapshot uses 2.5 s history steps; the test engine (speed 300, cycle
0.05 s) 15 s steps: a fault behind `_LIVE(view)` passes the smoke test and
strikes in the first live cycle, as an operator's bug would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.engine_proc import ROOT

PRELUDE = '''

import time as _time

_healthy_evaluate = evaluate


def _LIVE(view):
    return view.history_step_s == 15.0

'''


def copy_strategies(target: Path) -> Path:
    shutil.copytree(ROOT / "strategies", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def original(directory: Path) -> str:
    return (ROOT / "strategies" / "strategy.py").read_text()


def write_faulty(directory: Path, body: str, top: str = "") -> None:
    """strategy.py = the shipped one (+ `top` at module level) + an evaluate wrapping it with `body`
    (statements run before the healthy evaluate; `view` and `params` are in scope)."""
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    source = original(directory) + top + PRELUDE + f"def evaluate(view, params):\n{lines}\n    return _healthy_evaluate(view, params)\n"
    (directory / "strategy.py").write_text(source)


def write_good(directory: Path, tag: str) -> None:
    """The shipped strategy with a comment: another version, same behaviour."""
    (directory / "strategy.py").write_text(original(directory) + f"\n# version tag {tag}\n")
