"""Operator overrides checked against the running strategy's declared parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


class OverrideError(ValueError):
    """An override set that does not validate; nothing of it is applied."""


def plain_message(err: Any) -> str:
    """pydantic's message without its "Value error, " prefix: the validator's own words."""
    if err.get("type") in ("value_error", "assertion_error") and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])
    return str(err["msg"])


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {plain_message(err)}" if where else plain_message(err))
    more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "; ".join(parts) + more


def validate_overrides(model: type[BaseModel], overrides: dict[str, Any]) -> BaseModel:
    """All or nothing: the parameters in force, or OverrideError saying why not."""
    try:
        return model.model_validate(overrides)
    except ValidationError as exc:
        raise OverrideError(f"overrides refused: {describe(exc)}") from exc


def revalidate(model: type[BaseModel], overrides: dict[str, Any]) -> tuple[BaseModel, dict[str, Any], list[str]]:
    """After a reload: keep each override the new code accepts, drop the rest with a warning.

    Each key is tried on its own so one bad override cannot take the good ones with it;
    the kept set is validated again as a whole (cross-field validators may object).
    """
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in overrides.items():
        try:
            model.model_validate({**kept, key: value})
        except ValidationError as exc:
            dropped.append(f"override {key}={value!r} dropped after reload: {describe(exc)}")
        else:
            kept[key] = value
    try:
        params = model.model_validate(kept)
    except ValidationError as exc:
        dropped.append(f"all overrides dropped after reload: {describe(exc)}")
        kept = {}
        params = model()
    return params, kept, dropped
