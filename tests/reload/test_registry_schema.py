"""The Params JSON Schema the registry builds is exactly pydantic's own."""

from __future__ import annotations

import datetime
import enum
import json
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, computed_field

from engine.reload.api_check import ParamsJsonSchema
from engine.reload.manager import ReloadManager


def manager(directory: Path) -> ReloadManager:
    m = ReloadManager(directory)
    m.load_initial()
    return m


# ------------------------------------------------ the same schema as pydantic's


class Colour(enum.Enum):
    RED = "red"


class Inner(BaseModel):
    x: int = 1


class Odd(BaseModel):
    """Defaults of every kind: the plain ones take the shortcut, the others go through pydantic."""

    model_config = ConfigDict(ser_json_inf_nan="strings")

    f: float = 0.5
    i: int = 3
    b: bool = True
    s: str = "x"
    n: float | None = None
    t: tuple[str, ...] = ("a", "b")
    li: list[float] = Field(default_factory=lambda: [1.0, 2.0])
    lst: list[int] = [1, 2]
    inf: float = math.inf
    nan_list: list[float] = [math.nan]
    when: datetime.date = datetime.date(2024, 1, 2)
    colour: Colour = Colour.RED
    inner: Inner = Inner()
    mixed: tuple[int | str, ...] = (1, "a")


class Outer(BaseModel):
    """A nested model whose own config overrides the schema mode."""

    model_config = ConfigDict(json_schema_mode_override="serialization")

    inner: Inner = Inner()
    y: float = 1.5

    @computed_field  # in the schema in serialization mode only
    @property
    def doubled(self) -> float:
        return 2 * self.y


class Holder(BaseModel):
    outer: Outer = Outer()
    odd: Odd = Odd()


def test_params_schema_is_pydantics_schema(fixture_dir: Path, shipped_dir: Path) -> None:
    models = [Odd, Outer, Holder, manager(fixture_dir).registry.params_model]
    models.append(manager(shipped_dir).registry.params_model)
    for model in models:
        for mode in ("validation", "serialization"):
            ours = model.model_json_schema(schema_generator=ParamsJsonSchema, mode=mode)
            assert ours == model.model_json_schema(mode=mode)
            assert json.dumps(ours) == json.dumps(model.model_json_schema(mode=mode))  # same order too


def test_schema_defaults_are_not_shared_with_the_model() -> None:
    schema = Odd.model_json_schema(schema_generator=ParamsJsonSchema)
    schema["properties"]["lst"]["default"].append(3)
    assert Odd.model_fields["lst"].default == [1, 2]
