"""JSON that control.json may carry: finite numbers only (Python's json writes NaN and Infinity, no other reader accepts them)."""

from __future__ import annotations

import math


def not_finite(value: object, where: str) -> str | None:
    """Where `value` holds a NaN or an infinity, said as a refusal; None when it holds none."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where}: must be a finite number, not {value}"
    if isinstance(value, list):
        return next((p for i, item in enumerate(value) if (p := not_finite(item, f"{where}.{i}"))), None)
    if isinstance(value, dict):
        return next((p for k, item in value.items() if (p := not_finite(item, f"{where}.{k}"))), None)
    return None
