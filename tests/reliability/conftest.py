from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

FIGURES = Path(__file__).resolve().parents[2] / "build" / "reliability-figures.json"


@pytest.fixture(scope="session")
def figures() -> Iterator[dict]:
    """Figures the adversarial tests produce, for docs/reliability.md (written to build/)."""
    collected: dict = {}
    yield collected
    if collected:
        FIGURES.parent.mkdir(exist_ok=True)
        previous = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        FIGURES.write_text(json.dumps({**previous, **collected}, indent=2, sort_keys=True) + "\n")
