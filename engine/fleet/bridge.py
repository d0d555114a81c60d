"""`foresight bridge`: one engine's state directory carried to and from NATS.

The engine knows nothing of it. The bridge publishes each new status.json to
`<name>.status`, mirrors control.json into `<name>.control`, applies every
remote revision of that key to control.json through the locked ControlWriter
(as the change it made, control_merge.py), answers each on `<name>.ack` and
keeps `<name>.presence` alive. When NATS goes away nothing waits on it: the
engine, the local TUI and ctl go on, and the bridge catches up on reconnect
(the newest status, every remote write still in the key's history).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

from nats.js.client import JetStreamContext
from nats.js.kv import KeyValue
from pydantic import ValidationError

from engine.contract.control_writer import ControlWriter
from engine.contract.fileio import describe_validation_error, file_stamp, read_bytes, read_model
from engine.contract.fleet import keys, kv_watch
from engine.contract.fleet.connect import Buckets, connect, open_buckets
from engine.contract.fleet.control_merge import apply_change, change_between
from engine.contract.fleet.envelope import BridgeAck, BridgeAcks, ControlEntry, Presence
from engine.contract.fleet.options import NatsOptions
from engine.contract.fleet.queries import answer_query
from engine.contract.liveness import gone_from_here, pid_alive
from engine.contract.models import CONTROL_FILE, STATUS_FILE, Control, Status, utc_now_iso

POLL_S = 0.05  # a stat of two files; the engine writes status once a cycle, and at most this adds to a command's answer
RETRY_S = 0.5
# A watch the server dropped (its consumer gone: a missed heartbeat, a server restart) tells the
# client nothing: this often the key's last revision is read, and a missed write is applied.
LOOK_AGAIN_S = 2.0
MIN_PRESENCE_EVERY_S = 0.1
MAX_REPLICAS = 5  # JetStream's limit


class Bridge:
    def __init__(self, state_dir: Path, options: NatsOptions, name: str, *, presence_every_s: float = keys.PRESENCE_EVERY_S,
                 replicas: int = 1, log=print) -> None:  # fmt: skip
        self.name = keys.check_name(name)
        # Beats must come well within the presence key's life, or the engine shows offline between them.
        if not MIN_PRESENCE_EVERY_S <= presence_every_s <= keys.PRESENCE_TTL_S / 2:
            raise ValueError(
                f"--presence-every {presence_every_s:g}: expected seconds between {MIN_PRESENCE_EVERY_S:g} and "
                f"{keys.PRESENCE_TTL_S / 2:g} (the presence key expires {keys.PRESENCE_TTL_S:g} s after a beat)"
            )
        if not 1 <= replicas <= MAX_REPLICAS:
            raise ValueError(f"--replicas {replicas}: a JetStream bucket has 1 to {MAX_REPLICAS} copies (3 on a 3-node cluster)")
        self.replicas = replicas
        self.state_dir = state_dir
        self.options = options
        self.presence_every_s = presence_every_s
        self.writer = ControlWriter(state_dir, tool=f"bridge {name}")
        self.identity = f"bridge:{name}"
        self.log = log
        self.started_at = utc_now_iso()
        self.published = 0
        self.exit_code = 0  # 2: refused (its name is another live bridge's)
        self._js: JetStreamContext | None = None
        self._rebind = False
        self._status_stamp: tuple[int, int, int] | None = None
        self._status_sent: bytes | None = None
        self._control_stamp: tuple[int, int, int] | None = None
        self._control_sent: Control | None = None  # the intent last mirrored into the key
        self._seen_revision = 0  # last revision of <name>.control handled
        self._seen_control: Control | None = None  # ... and its intent: the base of the next remote write
        self._acks: list[BridgeAck] = []
        self._wake = asyncio.Event()
        self._rewatch = False
        self._next_look = 0.0  # monotonic time of the next read of the key's last revision
        self._connected = False

    # ------------------------------------------------------------ lifecycle

    async def run(self, stop: asyncio.Event) -> None:
        if not (self.state_dir / STATUS_FILE).exists():
            self.log(
                f"foresight bridge: no {STATUS_FILE} in {self.state_dir} yet (no engine has run there, or --state-dir "
                "is not the engine's); its status is published once one writes it"
            )
        nc = None
        while not stop.is_set():
            try:
                nc = await connect(self.options, on_disconnected=self._disconnected, on_reconnected=self._reconnected)
                break
            except Exception as exc:  # unreachable, refused, bad credentials: keep trying, the engine is not affected
                self.log(f"foresight bridge: NATS at {self.options.safe_url()} unreachable ({type(exc).__name__}: {exc or 'no answer'}); retrying. The engine is not affected.")
                await _wait(stop, 2.0)
        if nc is None:
            return
        self._connected = True
        self.log(f"foresight bridge: {self.name} ({self.state_dir}) connected to {self.options.safe_url()}")
        try:
            self._js = nc.jetstream()
            buckets = await open_buckets(self._js, create=True, replicas=self.replicas)
            taken = await self._name_taken(buckets)
            if taken is not None:
                self.log(f"foresight bridge: {taken}")
                self.exit_code = 2
                return
            sub = await nc.subscribe(keys.query_subject(self.name), cb=self._query)
            tasks = [
                asyncio.create_task(self._files_loop(buckets, stop)),
                asyncio.create_task(self._control_loop(buckets, stop)),
                asyncio.create_task(self._presence_loop(buckets, stop)),
            ]
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await sub.unsubscribe()
            try:
                await buckets.presence.delete(keys.presence_key(self.name))  # gone, said at once
            except Exception:
                pass
        finally:
            await nc.close()

    async def _name_taken(self, buckets: Buckets) -> str | None:
        """Why this name belongs to another live bridge, or None. Two bridges under one name would
        publish each other's engine as one and both apply every write made to it."""
        try:
            entry = await buckets.presence.get(keys.presence_key(self.name))
            theirs = Presence.model_validate_json(entry.value or b"")
        except Exception:  # no presence (the key expires with its bridge), or not one of ours
            return None
        if gone_from_here(theirs.host, theirs.bridge_pid):
            return None  # a bridge of this host that died without deleting its presence (this one, restarted)
        return (
            f"the name {self.name} is taken by the bridge pid {theirs.bridge_pid} on {theirs.host} for "
            f"{theirs.state_dir} (present at {theirs.at}); give this engine ({self.state_dir}) its own --name"
        )

    async def _disconnected(self) -> None:
        if self._connected:
            self.log(f"foresight bridge: lost NATS at {self.options.safe_url()}; reconnecting. The engine is not affected.")
        self._connected = False

    async def _reconnected(self) -> None:
        self._connected = True
        self.log("foresight bridge: NATS back; catching up")
        self._status_sent = None  # publish the newest status again
        self._control_stamp = None  # and mirror control.json again
        self._rewatch = True
        self._rebind = True  # a server back without its store (no volume, a new node) has no buckets
        self._wake.set()

    # ------------------------------------------------------------ status and control.json out

    async def _files_loop(self, buckets: Buckets, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if self._rebind and self._js is not None:
                    await open_buckets(self._js, create=True, replicas=self.replicas)  # made again where missing
                    self._rebind = False
                await self._publish_status(buckets)
                await self._look_again(buckets)
                await self._catch_up_control(buckets)
                await self._mirror_control(buckets)
            except asyncio.CancelledError:
                raise
            except Exception:  # NATS away or slow: try again; nothing of the engine's waits on us
                await _wait(stop, RETRY_S)
                continue
            await asyncio.sleep(POLL_S)  # the stop is checked at the loop's head: no wait_for task each time

    async def _publish_status(self, buckets: Buckets) -> None:
        path = self.state_dir / STATUS_FILE
        stamp = file_stamp(path)
        if stamp == self._status_stamp and self._status_sent is not None:
            return
        data, problem = read_bytes(path)
        if data is None or problem:
            self._status_stamp = stamp
            return
        try:
            Status.model_validate_json(data)
        except ValidationError:
            self._status_stamp = stamp  # a file the engine never meant (torn, hand-edited): keep the last good one
            return
        if data != self._status_sent:
            await buckets.status.put(keys.status_key(self.name), data)
            self.published += 1
        self._status_sent = data
        self._status_stamp = stamp

    async def _mirror_control(self, buckets: Buckets) -> None:
        """The key follows control.json (written by anyone), by compare-and-set so a remote write
        that arrives meanwhile is applied first, never overwritten."""
        stamp = file_stamp(self.state_dir / CONTROL_FILE)
        if stamp == self._control_stamp:
            return  # unchanged since it was mirrored: one stat, no parse
        local = read_model(self.state_dir / CONTROL_FILE, Control).value
        if local is None or (self._control_sent is not None and _same_intent(local, self._control_sent)):
            self._control_stamp = stamp
            return
        entry = ControlEntry(control=local, by=self.identity)
        try:
            revision = await buckets.control.update(keys.control_key(self.name), entry.model_dump_json().encode(), last=self._seen_revision)
        except Exception as exc:
            if type(exc).__name__ == "KeyWrongLastSequenceError":
                self._wake.set()  # a remote write came first: apply it, then mirror again
                return
            raise
        self._seen_revision = revision
        self._seen_control = local
        self._control_sent = local
        self._control_stamp = stamp

    # ------------------------------------------------------------ remote writes in

    async def _control_loop(self, buckets: Buckets, stop: asyncio.Event) -> None:
        """Wake the files loop on each new revision of the key (a watch, renewed after a reconnect)."""

        async def watch() -> KeyValue.KeyWatcher:
            self._rewatch = False  # before the watch opens: a reconnect meanwhile asks for another
            return await buckets.control.watch(keys.control_key(self.name))

        def opened() -> None:
            self._wake.set()  # whatever came while we were not watching

        def take(entry: KeyValue.Entry) -> None:
            if (entry.revision or 0) != self._seen_revision:  # lower too: the store was made anew
                self._wake.set()

        await kv_watch.follow(
            watch, take,
            running=lambda: not stop.is_set(), renew=lambda: self._rewatch, on_open=opened, retry=lambda: _wait(stop, RETRY_S),
        )  # fmt: skip

    async def _look_again(self, buckets: Buckets) -> None:
        now = time.monotonic()
        if now < self._next_look:
            return
        self._next_look = now + LOOK_AGAIN_S
        try:
            entry = await buckets.control.get(keys.control_key(self.name))
        except Exception as exc:
            if keys.missing(exc):
                return
            raise
        if (entry.revision or 0) != self._seen_revision and not self._wake.is_set():
            self.log("foresight bridge: a remote write came without its watch noticing; applying it and watching anew")
            self._rewatch = True
            self._wake.set()

    async def _catch_up_control(self, buckets: Buckets) -> None:
        if not self._wake.is_set():
            return
        try:
            history = await buckets.control.history(keys.control_key(self.name))
        except Exception as exc:
            if type(exc).__name__ == "NoKeysError":
                self._store_made_anew(None)  # the key is gone: the next mirror creates it
                self._wake.clear()
                return
            raise
        entries = [(e.revision or 0, _entry(e.value)) for e in history if e.value]
        if entries and entries[-1][0] < self._seen_revision:
            self._store_made_anew(entries[-1][0])
        if self._seen_revision == 0:
            # First look since this bridge started: remote writes after the last bridge revision were never applied.
            bridge_revisions = [rev for rev, entry in entries if entry is not None and entry.from_bridge]
            self._seen_revision = bridge_revisions[-1] if bridge_revisions else 0
            if bridge_revisions:
                self._seen_control = next(e.control for rev, e in entries if rev == self._seen_revision and e is not None)
        for i, (revision, entry) in enumerate(entries):
            if revision <= self._seen_revision:
                continue
            previous = entries[i - 1][1] if i > 0 else None
            base = previous.control if previous is not None else self._seen_control
            if entry is not None and not entry.from_bridge:
                ack = self._apply(revision, entry, base)
                self._acks = [*self._acks, ack][-keys.ACKS_KEPT:]
                await buckets.control.put(keys.ack_key(self.name), BridgeAcks(acks=self._acks).model_dump_json().encode())
            self._seen_revision = revision
            self._seen_control = entry.control if entry is not None else self._seen_control
        self._wake.clear()

    def _store_made_anew(self, newest: int | None) -> None:
        """The control key's revisions went back (NATS came back without its store): what it now
        holds is read as at a first start, and the mirror writes control.json again."""
        if self._seen_revision == 0:
            return
        self.log(
            f"foresight bridge: NATS lost its store ({keys.control_key(self.name)} is at revision {newest or 0}, "
            f"was {self._seen_revision}); catching up from what it holds now"
        )
        self._seen_revision = 0
        self._seen_control = None
        self._control_sent = None
        self._control_stamp = None
        self._acks = []  # answers to revisions the new store numbers again: never another write's

    def _apply(self, revision: int, entry: ControlEntry, base: Control | None) -> BridgeAck:
        change = change_between(base, entry.control)
        at = utc_now_iso()
        try:
            result = self.writer.update(lambda local: apply_change(change, local))
        except ValidationError as exc:
            detail = f"refused before writing: {describe_validation_error(exc, 'control')}"
            return BridgeAck(revision=revision, write_id=entry.write_id, result="refused", detail=detail, at=at)
        except (ValueError, OSError) as exc:
            return BridgeAck(revision=revision, write_id=entry.write_id, result="refused", detail=str(exc), at=at)
        self.log(f"foresight bridge: {entry.by} wrote {change.describe()}: control generation {result.control.generation}")
        return BridgeAck(revision=revision, write_id=entry.write_id, result="written", generation=result.control.generation,
                         detail=change.describe(), at=at)  # fmt: skip

    def _local_generation(self) -> int:
        control = read_model(self.state_dir / CONTROL_FILE, Control).value
        return control.generation if control else 0

    # ------------------------------------------------------------ presence and questions

    async def _presence_loop(self, buckets: Buckets, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await buckets.presence.put(keys.presence_key(self.name), self.presence().model_dump_json().encode())
            except asyncio.CancelledError:
                raise
            except Exception:
                pass
            await _wait(stop, self.presence_every_s)

    def presence(self) -> Presence:
        status = read_model(self.state_dir / STATUS_FILE, Status).value
        engine_pid = status.engine.pid if status else None
        alive = None
        if status is not None and status.engine.host == socket.gethostname():
            alive = pid_alive(status.engine.pid) and not status.engine.stopped_at
        return Presence(name=self.name, host=socket.gethostname(), bridge_pid=os.getpid(), state_dir=str(self.state_dir),
                        started_at=self.started_at, at=utc_now_iso(), engine_pid=engine_pid, engine_alive=alive,
                        published=self.published)  # fmt: skip

    async def _query(self, msg) -> None:  # type: ignore[no-untyped-def]
        reply = await answer_query(self.state_dir, msg.data)
        try:
            await msg.respond(reply)
        except Exception:
            pass


def _entry(value: bytes) -> ControlEntry | None:
    try:
        return ControlEntry.model_validate_json(value)
    except ValidationError:
        return None  # a value no writer of ours made: skipped, never applied


def _same_intent(a: Control, b: Control) -> bool:
    return a.model_dump(exclude={"updated_at", "updated_by"}) == b.model_dump(exclude={"updated_at", "updated_by"})


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


def run_bridge(state_dir: Path, options: NatsOptions, name: str, presence_every_s: float, replicas: int = 1) -> int:
    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        bridge = Bridge(state_dir, options, name, presence_every_s=presence_every_s, replicas=replicas, log=log)
    except ValueError as exc:
        print(f"foresight bridge: {exc}", file=sys.stderr)
        return 2

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await bridge.run(stop)

    asyncio.run(main())
    return bridge.exit_code


def new_write_id() -> str:
    return uuid.uuid4().hex[:12]
