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


IMPORT_EACH_ALONE = """
import importlib, pkgutil, sys, traceback
import engine, foresight_tui, strategies
names = [m.name for pkg in (engine, foresight_tui, strategies)
         for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".") if not m.name.endswith("__main__")]
failed = []
for name in names:
    for loaded in [n for n in sys.modules if n.split(".")[0] in ("engine", "foresight_tui", "strategies")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print(len(names))
print("\\n".join(failed))
"""


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    # An import cycle works or fails by which module a program happens to import first:
    # every module must import when it is the first one loaded.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", IMPORT_EACH_ALONE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    count, *failed = done.stdout.strip().splitlines()
    assert int(count) > 100
    assert not [line for line in failed if line], "\n".join(failed)


SIM_ENGINE_LOADS = """
import sys
from engine.cli import build_parser
from engine.loop import Engine
build_parser().parse_args(["engine", "--state-dir", "unused"])
print(" ".join(m for m in ("nats", "websockets", "asyncio", "apprise", "textual") if m in sys.modules))
"""


def test_an_engine_on_the_simulated_market_loads_no_network_client() -> None:
    # Every engine start pays for what it imports (the crash-restart loop, the demo, each test's
    # engine): the NATS client, the websocket stack and asyncio are for the bridge and the live
    # feed, loaded when they run.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SIM_ENGINE_LOADS], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
