"""What a strategy module must expose, checked at load: the API version, evaluate, Params, Decision; and the JSON Schema of its Params."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema

from engine.contract.finite import not_finite
from engine.reload.code_version import ANALYSE, ENTRY_MODULE, CodeVersion, first_line
from engine.reload.module_loader import StrategyLoadError, describe_exception, load_error
from engine.strategy_api.decision import DECISION_FIELDS
from engine.strategy_api.params import describe as describe_params
from engine.strategy_api.params import engine_value_problems

SUPPORTED_API_VERSIONS = frozenset({1})
# Parameters the engine itself reads from the values in force (docs/strategy-api.md).
ENGINE_PARAMS = ("stake", "cooldown_s", "max_open_positions", "win_rate_window")


def check_api(version: CodeVersion, timed: Any = None) -> dict[str, Any]:
    """The new set exposes what the engine calls; raise `StrategyLoadError` otherwise.

    Returns the JSON Schema of its Params (the check had to build it anyway). `timed(fn,
    *args)` runs the strategy's own code (Params and its validators) under a budget."""
    timed = timed or (lambda fn, *args: fn(*args))
    module = version.strategy
    path = str(module.__file__)
    source = next(m.source for m in version.modules if m.name == ENTRY_MODULE)

    def fail(message: str, obj: Any = None) -> StrategyLoadError:
        line = first_line(obj, source) if obj is not None else None
        return StrategyLoadError(message, file=path, line=line, phase="api")

    api_version = getattr(module, "API_VERSION", None)
    if api_version is None:
        raise fail("API_VERSION is missing")
    if api_version not in SUPPORTED_API_VERSIONS:
        raise fail(f"API_VERSION {api_version!r} is not supported (this engine speaks {sorted(SUPPORTED_API_VERSIONS)})")

    params_model = getattr(module, "Params", None)
    if not (isinstance(params_model, type) and issubclass(params_model, BaseModel)):
        raise fail("Params is missing or is not a pydantic model")
    missing = [name for name in ENGINE_PARAMS if name not in params_model.model_fields]
    if missing:
        raise fail(f"Params does not declare {', '.join(missing)} (the engine reads them)", params_model)
    try:
        defaults = timed(params_model)
        schema = timed(functools.partial(params_model.model_json_schema, schema_generator=ParamsJsonSchema))
        json.dumps(schema)
    except Exception as exc:  # noqa: BLE001 - any failure is the strategy's, reported with its location
        error = load_error(exc, version.files, "api", prefix="Params with its defaults: ")
        if error.file is None:
            error = fail(f"Params with its defaults: {describe_exception(exc)}", params_model)
        raise error from exc
    # pydantic never validates a default: one outside its own bounds would be the value in force
    # (a NaN passes no bound, so it is named for what it is first).
    dumped = defaults.model_dump()
    if problem := next((p for name, value in dumped.items() if (p := not_finite(value, name))), None):
        raise fail(f"a Params default breaks its own declaration: {problem}", params_model)
    try:
        timed(lambda: params_model.model_validate(dumped))
    except ValidationError as exc:
        raise fail(f"a Params default breaks its own declaration: {describe_params(exc)}", params_model) from None
    except Exception as exc:  # noqa: BLE001 - the strategy's own validator failed on its defaults
        raise fail(f"Params with its defaults: {describe_exception(exc)}", params_model) from exc
    problems = engine_value_problems(defaults)
    if problems:
        raise fail(f"a Params default the engine cannot trade on: {'; '.join(problems)}", params_model)

    evaluate = getattr(module, "evaluate", None)
    if not callable(evaluate):
        raise fail("evaluate(view, params) is missing or not callable")
    if not _takes_positional(evaluate, 2):
        raise fail("evaluate cannot be called as evaluate(view, params)", evaluate)

    if hasattr(module, ANALYSE):  # optional: checked only when the strategy defines it
        analyse = getattr(module, ANALYSE)
        if not callable(analyse):
            raise fail(f"{ANALYSE} is not callable (it is optional: define it as a function or not at all)")
        if not _takes_positional(analyse, 3):
            raise fail(f"{ANALYSE} cannot be called as {ANALYSE}(history, history_step_s, params)", analyse)

    decision = getattr(module, "Decision", None)
    if not (isinstance(decision, type) and dataclasses.is_dataclass(decision)):
        raise fail("Decision is missing or is not a dataclass")
    names = {f.name for f in dataclasses.fields(decision)}
    absent = [name for name in DECISION_FIELDS if name not in names]
    if absent:
        raise fail(f"Decision lacks the fields {', '.join(absent)}", decision)
    return schema


def _takes_positional(function: Any, count: int) -> bool:
    """False only when `function`'s signature refuses `count` positional arguments: one with
    no signature to inspect (a builtin) is left to the smoke evaluation to judge."""
    try:
        inspect.signature(function).bind(*[None] * count)
    except TypeError:
        return False
    except ValueError:
        pass
    return True


_PLAIN_SCALARS = (str, int, bool, type(None))


def _plain_json(value: Any) -> bool:
    """A value pydantic's JSON mode writes as it is (a tuple or list: as a list of its items)."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is tuple or kind is list:
        return all(type(x) in _PLAIN_SCALARS or (type(x) is float and math.isfinite(x)) for x in value)
    return False


class ParamsJsonSchema(GenerateJsonSchema):
    """pydantic's own JSON Schema generator, with a shortcut for plain defaults.

    To write a field's default, pydantic builds a `TypeAdapter` for the default's
    type and dumps the value in JSON mode, a large part of the schema's cost.
    A default of exactly str, int, bool, None or a finite float (or a tuple or
    list of those) dumps to itself (a list for a sequence) whatever the model's
    config, so it is written directly; any other default goes through pydantic
    as before. The result is
    the same schema (tests/reload/test_registry_schema.py compares them).
    """

    def encode_default(self, dft: Any) -> Any:
        if _plain_json(dft):
            return list(dft) if type(dft) is tuple else (dft[:] if type(dft) is list else dft)
        return super().encode_default(dft)



# ------------------------------------------------------- validating one decision
