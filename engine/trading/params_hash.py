"""A short, stable fingerprint of the parameter values in force.

Every ledger row carries it so bets can be grouped by the parameters that took
them; shadow deploys (issue 15) use the same function, so the two agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

HASH_CHARS = 16


def params_hash(params: BaseModel | Mapping[str, Any]) -> str:
    """sha256 of the values as canonical JSON (sorted keys, no spaces), first 16 hex digits.

    The same values give the same hash whichever order they were set in and whichever
    process computes it; a float prints as Python's shortest round-trip repr."""
    values = params.model_dump(mode="json") if isinstance(params, BaseModel) else dict(params)
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_CHARS]
