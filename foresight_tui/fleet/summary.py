"""The part of an engine's status.json the fleet view reads: a row's fields and a pause's answer.

A fleet view decodes every engine's status every cycle, and most of a status is
what only Mission Control shows (the slots' prices and signals, parameters,
events, kept versions). The JSON is still read whole; only these fields become
objects. The same version check as `Status` applies, so a status of another
schema version keeps the row's last good one, as before.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from engine.contract.models import (
    MAX_STATUS_BYTES,
    CodeFailure,
    ControlStatus,
    EngineInfo,
    LastReload,
    RiskStatus,
    Stats,
    StatusClock,
)


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CodeSummary(_Read):
    version: str
    last_reload: LastReload | None = None
    last_failure: CodeFailure | None = None


class SlotSummary(_Read):
    error: str | None = None


class FeedSummary(_Read):
    last_error: str | None = None


class StatusSummary(StatusClock, _Read):
    max_bytes: ClassVar[int] = MAX_STATUS_BYTES
    schema_version: int
    written_at: str
    engine: EngineInfo
    control: ControlStatus = Field(default_factory=ControlStatus)
    code: CodeSummary
    slots: list[SlotSummary] = Field(default_factory=list)
    stats: Stats = Field(default_factory=Stats)
    feed: FeedSummary = Field(default_factory=FeedSummary)
    risk: RiskStatus = Field(default_factory=RiskStatus)
