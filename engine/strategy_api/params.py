"""Operator overrides checked against the running strategy's declared parameters."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.contract.finite import not_finite


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
        got = f", not {_kind(err['input'])}" if err.get("type", "").endswith("_type") and "input" in err else ""
        message = plain_message(err) + got
        parts.append(f"{where}: {message}" if where else message)
    more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return "; ".join(parts) + more


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    return f"{json.dumps(value)}"


def engine_value_problems(params: BaseModel) -> list[str]:
    """What the engine cannot act on among the parameters it reads itself, whatever the
    strategy's Params allow: it bets `stake`, waits `cooldown_s`, counts `max_open_positions`
    and `win_rate_window`. A NaN or negative stake would be bet and poison every book. (The
    load check makes every strategy declare them; a model without one has nothing to check.)"""
    fields = type(params).model_fields
    problems = []
    stake = getattr(params, "stake", None)
    if "stake" in fields and (not _finite_number(stake) or stake <= 0):
        problems.append(f"stake: the engine bets it, so it must be a positive finite amount, not {stake!r}")
    cooldown = getattr(params, "cooldown_s", None)
    if "cooldown_s" in fields and (not _finite_number(cooldown) or cooldown < 0):
        problems.append(f"cooldown_s: must be a finite number of seconds >= 0, not {cooldown!r}")
    for name, least in (("max_open_positions", 0), ("win_rate_window", 1)):
        value = getattr(params, name, None)
        if name in fields and (not isinstance(value, int) or isinstance(value, bool) or value < least):
            problems.append(f"{name}: must be a whole number >= {least}, not {value!r}")
    return problems


def _finite_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_overrides(model: type[BaseModel], overrides: dict[str, Any]) -> BaseModel:
    """All or nothing: the parameters in force, or OverrideError saying why not.

    Strict, as control.json's JSON reads: a number is a number (no "7" for a float), an
    integer no boolean, and only finite numbers (a NaN passes no bound, so it is named
    for what it is); a JSON list still fills a tuple parameter."""
    problems = [p for key, value in overrides.items() if (p := not_finite(value, key))]
    if problems:
        raise OverrideError(f"overrides refused: {'; '.join(problems)}")
    try:
        params = model.model_validate_json(json.dumps(overrides), strict=True)
    except ValidationError as exc:
        raise OverrideError(f"overrides refused: {describe(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - the strategy's own validator failed (or timed out)
        raise OverrideError(f"overrides refused: the strategy's Params failed on them: {_failure(exc)}") from exc
    problems = engine_value_problems(params)
    if problems:
        raise OverrideError(f"overrides refused: {'; '.join(problems)}")
    return params


def revalidate(model: type[BaseModel], overrides: dict[str, Any]) -> tuple[BaseModel, dict[str, Any], list[str]]:
    """After a reload: keep each override the new code accepts, drop the rest with a warning.

    Each key is tried on its own so one bad override cannot take the good ones with it;
    the kept set is validated again as a whole (cross-field validators may object).
    """
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in overrides.items():
        try:
            problems = engine_value_problems(model.model_validate({**kept, key: value}))
            if problems:
                dropped.append(f"override {key}={value!r} dropped after reload: {'; '.join(problems)}")
                continue
        except ValidationError as exc:
            dropped.append(f"override {key}={value!r} dropped after reload: {describe(exc)}")
        except Exception as exc:  # noqa: BLE001 - the strategy's own validator failed (or timed out)
            dropped.append(f"override {key}={value!r} dropped after reload: the strategy's Params failed on it: {_failure(exc)}")
        else:
            kept[key] = value
    try:
        params = model.model_validate(kept)
    except Exception as exc:  # noqa: BLE001 - ValidationError, or the strategy's validator failing
        reason = describe(exc) if isinstance(exc, ValidationError) else _failure(exc)
        dropped.append(f"all overrides dropped after reload: {reason}")
        kept = {}
        params = model.model_validate({})
    return params, kept, dropped


def _failure(exc: Exception) -> str:
    try:
        text = str(exc).strip().splitlines()  # the strategy's own __str__: what it raises is its failure
    except BaseException as failure:  # noqa: BLE001
        text = [f"(its message could not be read: {type(failure).__name__})"]
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def frozen_model(model: type[BaseModel], timed: Callable[[Callable[[], Any]], Any] | None = None) -> type[BaseModel]:
    """`model` with assignment refused (pydantic's `frozen`): the values in force are shared by
    every call of a cycle, so a strategy that assigns `params.stake = 1000` gets an error instead
    of changing every later bet. A subclass, so `isinstance(p, model)` still holds. Container
    values (a list field) can still be changed in place: docs/strategy-api.md says so.

    With `timed(fn)` (the guard's load budget), validation runs the strategy's validators
    under it: a validator that loops refuses the override set instead of stopping the engine."""
    if model.model_config.get("frozen") and timed is None:
        return model
    namespace = {
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        "__doc__": model.__doc__,
        "model_config": ConfigDict(**{**model.model_config, "frozen": True}),  # type: ignore[typeddict-item]
    }
    frozen = type(model.__name__, (model,), namespace)
    if timed is not None:
        # Both ways in: overrides arrive as JSON (validate_overrides), rebuilt values as dicts.
        for name in ("model_validate", "model_validate_json"):
            setattr(frozen, name, _guarded(getattr(frozen, name), timed))
    return frozen


def _guarded(validate: Callable[..., BaseModel], timed: Callable[[Callable[[], Any]], Any]) -> classmethod:  # type: ignore[type-arg]
    """`validate` (pydantic's, bound to the frozen class) under the guard's budget, as a classmethod."""

    def guarded(cls: type[BaseModel], obj: Any, **options: Any) -> BaseModel:
        return timed(lambda: validate(obj, **options))  # type: ignore[no-any-return]

    return classmethod(guarded)
