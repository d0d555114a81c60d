"""What the shadow tests share: strategy copies with another default, a recorded market, events."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from tests.guard.strategy_faults import copy_strategies, original

# 150 market seconds a wall second, a cycle every 0.1 s: the test engines' 15 s history step,
# with room in every cycle for the shadow on a loaded machine.
ROOMY = ("--speed", "150", "--cycle-interval", "0.1")
START = 1_700_000_100  # a multiple of 900: the first cycle is far from every window's end
THRESHOLD = "default=0.6, ge=0.5, le=0.99,"


def stricter(directory: Path, threshold: float = 0.8) -> str:
    """strategy.py with a higher confidence_threshold default; returns the source written."""
    source = original(directory)
    assert THRESHOLD in source, "the shipped strategy's confidence_threshold default moved: update this test"
    source = source.replace(THRESHOLD, f"default={threshold}, ge=0.5, le=0.99,")
    (directory / "strategy.py").write_text(source)
    return source


def strategies_copy(target: Path) -> Path:
    return copy_strategies(target)


def recorded_market(path: Path, seconds: int = 4000, seed: int = 11) -> Path:
    """BTC, ETH, SOL and XRP every 5 s from START: a random walk, the same for every engine replaying it."""
    rng = random.Random(seed)
    prices = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0, "XRP": 0.6}
    lines = ["timestamp,asset,price"]
    for t in range(START, START + seconds, 5):
        for asset in prices:
            prices[asset] *= math.exp(rng.gauss(0.0, 0.003))
            lines.append(f"{t},{asset},{prices[asset]:.4f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def events(state_dir: Path, kind: str | None = None) -> list[dict]:
    out = []
    for name in ("events.jsonl.1", "events.jsonl"):
        path = state_dir / name
        if path.exists():
            out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in out if kind is None or e["kind"] == kind]
