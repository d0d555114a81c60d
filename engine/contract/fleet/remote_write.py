"""A write to one engine's `<name>.control` by compare-and-set, replayed on a race.

The change is computed against the revision it was built on; when another
writer came first, the same change is replayed on the winner's intent and sent
again, so neither write is lost and neither overwrites the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from engine.contract.fleet import keys
from engine.contract.fleet.connect import Buckets
from engine.contract.fleet.control_merge import apply_change, change_between
from engine.contract.fleet.envelope import BridgeAck, BridgeAcks, ControlEntry
from engine.contract.models import SCHEMA_VERSION, Control

CAS_TRIES = 50


class RemoteWriter:
    def __init__(self, buckets: Buckets, name: str, identity: str) -> None:
        self.buckets = buckets
        self.name = name
        self.identity = identity
        self.revision = 0  # of <name>.control our base came from (0: the key does not exist yet)
        self.base: Control | None = None
        self.write_id = ""  # of our last write: what the bridge's answer to it carries

    async def load(self) -> Control | None:
        try:
            entry = await self.buckets.control.get(keys.control_key(self.name))
        except Exception as exc:
            if not keys.missing(exc):
                raise
            self.revision, self.base = 0, None
            return None
        self.revision, self.base = entry.revision or 0, ControlEntry.model_validate_json(entry.value or b"").control
        return self.base

    async def update(self, mutate: Callable[[Control], None]) -> int:
        """Load the newest intent, mutate a copy, send it: the remote twin of ControlWriter.update."""
        await self.load()
        wanted = (self.base or Control(schema_version=SCHEMA_VERSION, generation=0)).model_copy(deep=True)
        mutate(wanted)
        return await self.send(wanted)

    async def send(self, wanted: Control) -> int:
        """Compare-and-set `wanted`, built on `self.revision`; returns the revision written."""
        # Even an empty change travels: as locally, every write is a new generation the engine
        # answers, so the writer's wait ends (pause on a paused engine: applied).
        change = change_between(self.base, wanted)
        # Unique across hosts and restarts: the bridge's answer is matched on it as well as on
        # the revision, which a server back without its store hands out again.
        write_id = uuid.uuid4().hex
        doc = wanted
        for _ in range(CAS_TRIES):
            entry = ControlEntry(control=doc, by=self.identity, write_id=write_id)
            try:
                revision = await self.buckets.control.update(keys.control_key(self.name), entry.model_dump_json().encode(), last=self.revision)
            except Exception as exc:
                if type(exc).__name__ != "KeyWrongLastSequenceError":
                    raise
                theirs = await self.load() or Control(schema_version=SCHEMA_VERSION, generation=0)
                doc = theirs.model_copy(deep=True)
                apply_change(change, doc)
                continue
            self.revision, self.base, self.write_id = revision, doc, write_id
            return revision
        raise RuntimeError(f"{CAS_TRIES} writers in a row came first on {keys.control_key(self.name)}; try again")

    async def bridge_ack(self, revision: int) -> BridgeAck | None:
        try:
            entry = await self.buckets.control.get(keys.ack_key(self.name))
        except Exception as exc:
            if keys.missing(exc):
                return None
            raise
        acks = BridgeAcks.model_validate_json(entry.value or b"").acks
        return next((a for a in acks if a.revision == revision and a.write_id == self.write_id), None)
