"""The strategy's parameters as a client reads them from status.json (the TUI's override form, `ctl set`).

`params.schema` in status.json is the JSON Schema of the strategy's pydantic
`Params` model. This module reads the parts a client needs (type, bounds, enum,
default, description), turns the operator's text into typed values and checks
them client-side, so nothing the engine would refuse for a type or a bound is
ever written. The engine still validates the whole set (and the rules across
parameters only it knows): this is a courtesy, not the authority.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

KINDS = ("number", "integer", "boolean", "string", "array")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str  # one of KINDS, or "json" for anything else
    title: str = ""
    description: str = ""
    default: Any = None
    has_default: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    enum: tuple[Any, ...] | None = None
    nullable: bool = False
    items: ParamSpec | None = None
    min_items: int | None = None
    max_items: int | None = None

    @property
    def bounds_text(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {_num(self.minimum)}")
        if self.exclusive_minimum is not None:
            parts.append(f"> {_num(self.exclusive_minimum)}")
        if self.maximum is not None:
            parts.append(f"<= {_num(self.maximum)}")
        if self.exclusive_maximum is not None:
            parts.append(f"< {_num(self.exclusive_maximum)}")
        if self.enum is not None:
            parts.append("one of " + ", ".join(str(v) for v in self.enum))
        if self.kind == "array" and self.items is not None:
            parts.append(f"list of {self.items.kind}")
        return " ".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"), {})
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return merged
    return node


def _spec(name: str, node: dict[str, Any], defs: dict[str, Any]) -> ParamSpec:
    node = _resolve(node, defs)
    nullable = False
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list):
            real = [_resolve(o, defs) for o in options if isinstance(o, dict) and o.get("type") != "null"]
            nullable = len(real) < len(options)
            if len(real) == 1:
                node = {**real[0], **{k: v for k, v in node.items() if k != key}}
    kind = node.get("type")
    enum = node.get("enum")
    if enum is None and "const" in node:
        enum = [node["const"]]
    if kind is None and isinstance(enum, list) and enum:
        kind = "string" if all(isinstance(v, str) for v in enum) else "json"
    if kind not in KINDS:
        kind = "json"
    items = node.get("items")
    return ParamSpec(
        name=name,
        kind=kind,
        title=str(node.get("title", "")),
        description=str(node.get("description", "")),
        default=node.get("default"),
        has_default="default" in node,
        minimum=node.get("minimum"),
        maximum=node.get("maximum"),
        exclusive_minimum=node.get("exclusiveMinimum"),
        exclusive_maximum=node.get("exclusiveMaximum"),
        enum=tuple(enum) if isinstance(enum, list) else None,
        nullable=nullable,
        items=_spec(f"{name}[]", items, defs) if isinstance(items, dict) else None,
        min_items=node.get("minItems"),
        max_items=node.get("maxItems"),
    )


def param_specs(schema: dict[str, Any]) -> list[ParamSpec]:
    """One spec per declared parameter, in the schema's order."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    defs = schema.get("$defs", {}) if isinstance(schema.get("$defs"), dict) else {}
    return [_spec(name, node, defs) for name, node in properties.items() if isinstance(node, dict)]


# ---------------------------------------------------------------- text <-> value


def format_value(spec: ParamSpec, value: Any) -> str:
    """The text an input shows for `value`."""
    if value is None:
        return ""
    if spec.kind == "array" and isinstance(value, list):
        return ", ".join(format_value(spec.items or ParamSpec("", "json"), v) for v in value)
    if spec.kind in ("string",) and isinstance(value, str):
        return value
    if spec.kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value)) if not float(value).is_integer() else _num(value)
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def parse_value(spec: ParamSpec, text: str) -> Any:
    """Turn the operator's text into a typed value, or raise ValueError saying why."""
    raw = text.strip()
    if raw == "" and spec.nullable:
        return None
    if spec.kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("a whole number is required") from None
    if spec.kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("a number is required") from None
        if not math.isfinite(value):
            raise ValueError("a finite number is required")
        return value
    if spec.kind == "boolean":
        lowered = raw.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ValueError("true or false is required")
    if spec.kind == "string":
        return raw
    if spec.kind == "array":
        if raw.startswith("["):
            return _json(raw)
        item = spec.items or ParamSpec(spec.name, "json")
        return [parse_value(item, part) for part in raw.split(",") if part.strip()] if raw else []
    return _json(raw)


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None


def check_value(spec: ParamSpec, value: Any) -> str | None:
    """Why `value` breaks the schema (type, bounds, enum, items), or None when it fits."""
    if value is None:
        return None if spec.nullable else "a value is required"
    if spec.enum is not None and value not in spec.enum:
        return "must be one of " + ", ".join(str(v) for v in spec.enum)
    if spec.kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return "a whole number is required"
    if spec.kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "a number is required"
    if spec.kind == "boolean" and not isinstance(value, bool):
        return "true or false is required"
    if spec.kind == "string" and not isinstance(value, str):
        return "text is required"
    if spec.kind in ("integer", "number"):
        if spec.minimum is not None and value < spec.minimum:
            return f"must be >= {_num(spec.minimum)}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be <= {_num(spec.maximum)}"
        if spec.exclusive_minimum is not None and value <= spec.exclusive_minimum:
            return f"must be > {_num(spec.exclusive_minimum)}"
        if spec.exclusive_maximum is not None and value >= spec.exclusive_maximum:
            return f"must be < {_num(spec.exclusive_maximum)}"
    if spec.kind == "array":
        if not isinstance(value, list):
            return "a list is required"
        if spec.min_items is not None and len(value) < spec.min_items:
            return f"needs at least {spec.min_items} items"
        if spec.max_items is not None and len(value) > spec.max_items:
            return f"takes at most {spec.max_items} items"
        if spec.items is not None:
            for index, item in enumerate(value):
                problem = check_value(spec.items, item)
                if problem:
                    return f"item {index + 1}: {problem}"
    return None


def check_values(specs: list[ParamSpec], values: dict[str, Any]) -> dict[str, str]:
    """Every problem of a whole override set, by parameter name (unknown names included)."""
    by_name = {spec.name: spec for spec in specs}
    problems = {}
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None:
            problems[name] = "not a parameter of the running strategy"
            continue
        problem = check_value(spec, value)
        if problem:
            problems[name] = problem
    return problems
