"""The operator's side reaches only the contract: lint-imports checks it against a list of the
engine's other parts (pyproject.toml), which must name every one of them, new ones included."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]
# The contract package itself, ctl (the operator's side), the fault injection inside the
# contract's file IO; __main__ runs the CLI.
OPERATOR_SIDE_MAY_REACH = {"engine.contract", "engine.failpoints", "engine.ctl", "engine.__main__"}


def test_every_part_of_the_engine_outside_the_contract_is_forbidden_to_the_operators_side() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in config if "foresight_tui" in c.get("source_modules", []) and c["type"] == "forbidden"]
    parts = {f"engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)}
    missing = parts - OPERATOR_SIDE_MAY_REACH - set(contract["forbidden_modules"])
    assert not missing, f"add {sorted(missing)} to the forbidden_modules of {contract['name']!r} in pyproject.toml"
    assert set(contract["source_modules"]) >= {"foresight_tui", "engine.ctl", "engine.contract"}
