"""The part of an engine's status.json the fleet view reads: a row's fields and a pause's answer.

A fleet view decodes every engine's status every cycle, and most of a status is
what only Mission Control shows (the slots' prices and signals, parameters,
events, kept versions). The JSON is still read whole; only these fields become
objects. The same version check as `Status` applies, so a status of another
schema version keeps the row's last good one, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.contract.models import (
    MAX_STATUS_BYTES,
    SCHEMA_VERSION,
    CodeFailure,
    ControlStatus,
    EngineInfo,
    LastReload,
    RiskStatus,
    Stats,
    parse_iso,
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


class StatusSummary(_Read):
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

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unknown status schema_version {value} (this reader knows {SCHEMA_VERSION})")
        return value

    # As Status.age_s and Status.is_stale: the row's link state is the same rule as Mission Control's.
    def age_s(self, now: datetime | None = None) -> float:
        now = now or datetime.now(UTC)
        return (now - parse_iso(self.written_at)).total_seconds()

    def is_stale(self, now: datetime | None = None) -> bool:
        return self.age_s(now) > 3 * max(self.engine.cycle_interval_s, 0.1)
