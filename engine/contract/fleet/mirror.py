"""One remote engine as a local state directory: the NATS-backed source ctl and the TUI read.

The mirror writes each status the engine publishes to DIR/status.json and seeds
DIR/control.json with the engine's intent; whatever a ctl verb or Mission
Control then writes to DIR/control.json (through the usual locked
ControlWriter) is sent to `<name>.control` by compare-and-set on the revision
it was built on. When another operator wrote first, the change is replayed on
their revision and sent again: neither overwrites the other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nats.js.kv import KeyValue

from engine.contract.control_writer import operator_identity
from engine.contract.fileio import atomic_write_bytes, atomic_write_model, ensure_state_dir, file_lock, file_stamp, read_model
from engine.contract.fleet import keys, kv_watch
from engine.contract.fleet.connect import Buckets
from engine.contract.fleet.remote_write import RemoteWriter
from engine.contract.models import CONTROL_FILE, CONTROL_LOCK, STATUS_FILE, Control

POLL_S = 0.01




class Mirror:
    def __init__(self, buckets: Buckets, name: str, directory: Path, *, tool: str = "ctl", read_only: bool = False) -> None:
        self.buckets = buckets
        self.name = name
        self.directory = directory
        self.writer = RemoteWriter(buckets, name, operator_identity(f"{tool} over NATS"))
        self.read_only = read_only
        self.status_bytes: bytes | None = None
        self._control_stamp: tuple[int, int, int] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = asyncio.Lock()
        self.problem: str | None = None  # the last write that could not be sent

    async def start(self) -> bool:
        """Fetch status and intent; False when the engine has published no status."""
        ensure_state_dir(self.directory)
        try:
            entry = await self.buckets.status.get(keys.status_key(self.name))
        except Exception as exc:
            if not keys.missing(exc):
                raise
            entry = None
        if entry is not None and entry.value:
            self._write_status(entry.value)
        await self._load_control()
        if not self.read_only:
            self._tasks.append(asyncio.create_task(self._forward_loop()))
        self._tasks.append(asyncio.create_task(self._status_loop()))
        return entry is not None

    async def stop(self) -> None:
        """Stop following; a change not yet sent stays unsent (flush first to send it)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _write_status(self, data: bytes) -> None:
        if data and data != self.status_bytes:
            atomic_write_bytes(self.directory / STATUS_FILE, data, durable=False)
            self.status_bytes = data

    async def _load_control(self) -> None:
        control = await self.writer.load()
        if control is None:
            return
        with file_lock(self.directory / CONTROL_LOCK):
            atomic_write_model(self.directory / CONTROL_FILE, control, durable=False)
        self._control_stamp = file_stamp(self.directory / CONTROL_FILE)

    async def _status_loop(self) -> None:
        def take(entry: KeyValue.Entry) -> None:
            if entry.value:
                self._write_status(entry.value)

        # Renewed after 5 quiet seconds: a watch may not survive a reconnect.
        await kv_watch.follow(
            lambda: self.buckets.status.watch(keys.status_key(self.name)), take, renew_when_quiet=True, quiet_s=5.0
        )

    async def _forward_loop(self) -> None:
        while True:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.problem = f"not sent to NATS yet ({type(exc).__name__}: {exc}); retrying"
                await asyncio.sleep(0.5)
            await asyncio.sleep(POLL_S)

    async def flush(self) -> None:
        """Send DIR/control.json if it changed since the last send."""
        if self.read_only:
            return
        async with self._busy:
            path = self.directory / CONTROL_FILE
            stamp = file_stamp(path)
            if stamp is None or stamp == self._control_stamp:
                return
            with file_lock(self.directory / CONTROL_LOCK):
                local = read_model(path, Control).value
                stamp = file_stamp(path)
            if local is None:
                self._control_stamp = stamp
                return
            await self.send(local)
            self._control_stamp = stamp

    async def send(self, wanted: Control) -> int:
        revision = await self.writer.send(wanted)
        self.problem = None
        return revision
