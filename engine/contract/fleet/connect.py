"""Connecting to NATS with the options of engine/contract/fleet/options.py, and the fleet's buckets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue

from engine.contract.fleet import keys
from engine.contract.fleet.options import NatsOptions

Callback = Callable[[], Awaitable[None]]


async def connect(
    options: NatsOptions,
    *,
    on_disconnected: Callback | None = None,
    on_reconnected: Callback | None = None,
    on_refused: Callable[[str], None] | None = None,
    connect_timeout: float = 2.0,
    first_try_s: float = 5.0,
) -> Client:
    """One connection that reconnects for ever once it has connected. The first connection
    gets `first_try_s`: nats-py retries it for ever when reconnects are unlimited, so past
    that it is given up with the last error the client met (ConnectionError).

    `on_refused` hears the server's permission violations (a read-only credential writing)."""
    last_error: list[Exception] = []

    async def quiet_error(exc: Exception) -> None:
        last_error[:] = [exc]
        text = str(exc)
        if on_refused is not None and "permissions violation" in text.lower():
            on_refused(text.strip().strip("'"))
        # anything else: the disconnect callbacks carry what the operator needs

    kwargs = options.connect_kwargs()
    try:
        return await asyncio.wait_for(
            nats.connect(
                **kwargs,
                connect_timeout=connect_timeout,
                reconnect_time_wait=0.5,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                error_cb=quiet_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            ),
            first_try_s,
        )
    except TimeoutError:
        why = f"{type(last_error[0]).__name__}: {last_error[0]}" if last_error else "no answer"
        raise ConnectionError(f"no connection within {first_try_s:g}s ({why})") from None


@dataclass
class Buckets:
    status: KeyValue
    control: KeyValue
    presence: KeyValue
    js: JetStreamContext

    async def names(self) -> list[str]:
        """Every engine that published a status, and every bridge alive whose engine has not yet.

        Read from each stream's per-subject counts, one snapshot on the server, then each key
        read: nats-py's `KeyValue.keys()` ends its listing at the first moment nothing seems
        pending, which while engines publish can be before every key has come, leaving an engine
        out of an `--all` without a word."""
        found: set[str] = set()
        for kv, bucket, suffix in ((self.status, keys.STATUS_BUCKET, ".status"), (self.presence, keys.PRESENCE_BUCKET, ".presence")):
            prefix = f"$KV.{bucket}."
            info = await self.js.stream_info(f"KV_{bucket}", subjects_filter=f"{prefix}>")
            for subject in info.state.subjects or {}:
                key = subject.removeprefix(prefix)
                if key.endswith(suffix) and await _holds_value(kv, key):
                    found.add(keys.name_of(key))
        return sorted(found)


async def _holds_value(kv: KeyValue, key: str) -> bool:
    """The key's last revision is a value, not a deletion or purge marker (a forgotten engine)."""
    try:
        return bool((await kv.get(key)).value)
    except Exception as exc:
        if keys.missing(exc):
            return False
        raise


async def open_buckets(js: JetStreamContext, *, create: bool, replicas: int = 1) -> Buckets:
    """The fleet's three buckets; a bridge creates them if missing (`replicas` copies on a
    cluster), a reader only binds."""

    async def bucket(name: str, **config: Any) -> KeyValue:
        try:
            return await js.key_value(name)
        except BucketNotFoundError:
            if not create:
                raise LookupError(f"NATS has no bucket {name}: no bridge has run against this server yet (foresight bridge)") from None
            return await js.create_key_value(bucket=name, replicas=replicas, **config)

    return Buckets(
        status=await bucket(keys.STATUS_BUCKET, history=1, description="foresight engines' status.json"),
        control=await bucket(keys.CONTROL_BUCKET, history=keys.CONTROL_HISTORY, description="foresight intent and the bridges' acks"),
        presence=await bucket(keys.PRESENCE_BUCKET, history=1, ttl=keys.PRESENCE_TTL_S, description="foresight bridges alive"),
        js=js,
    )
