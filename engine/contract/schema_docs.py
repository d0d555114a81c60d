"""Writes docs/control.schema.json and docs/status.schema.json from the contract models."""

from __future__ import annotations

import json
from pathlib import Path

from engine.contract.models import control_json_schema, status_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMAS = {"control.schema.json": control_json_schema, "status.schema.json": status_json_schema}


def render(name: str) -> str:
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True) + "\n"


def main() -> int:
    for name in SCHEMAS:
        (DOCS / name).write_text(render(name))
        print(f"wrote {DOCS / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
