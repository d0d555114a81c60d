"""The documents the fleet's keys hold beside status.json itself (pydantic: they cross hosts)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from engine.contract.models import Control


class ControlEntry(BaseModel):
    """The value of `<name>.control`: the intent, and who wrote this revision."""

    control: Control
    by: str = Field(description="bridge:<name> for the bridge's copy of control.json, else the operator's identity")
    write_id: str = ""

    @property
    def from_bridge(self) -> bool:
        return self.by.startswith("bridge:")


class BridgeAck(BaseModel):
    """The bridge's answer to one remote write: written to control.json as `generation`, or refused."""

    revision: int
    write_id: str = ""
    result: str = Field(description="written | refused")
    generation: int = 0
    detail: str = ""
    at: str = ""


class BridgeAcks(BaseModel):
    acks: list[BridgeAck] = Field(default_factory=list)


class Presence(BaseModel):
    """The value of `<name>.presence`, refreshed every few seconds; the bucket's TTL removes it."""

    name: str
    host: str
    bridge_pid: int
    state_dir: str
    started_at: str
    at: str
    engine_pid: int | None = None
    engine_alive: bool | None = Field(default=None, description="the engine's pid exists (probed by the bridge, on its host)")
    published: int = 0
    read_only_queries: bool = True
