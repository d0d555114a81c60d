"""Which engines `ctl --all` acts on: every one on NATS, even while all of them are publishing.

A real NATS server and ctl's own session; the engines are keys written as fast as a busy
fleet writes them (a status every few milliseconds each), without engine processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.contract.fleet import keys
from engine.contract.fleet.connect import connect, open_buckets
from engine.contract.fleet.loop_thread import LoopThread
from engine.contract.fleet.options import NatsOptions
from engine.ctl.remote import Session
from tests.support.nats_server import NatsServer, unavailable

NAMES = [f"bot-{i:02d}" for i in range(20)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    why = unavailable(tmp_path / "probe")
    if why:
        pytest.skip(f"needs a NATS server: {why}")
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def busy_fleet(url: str, names: list[str]) -> Iterator[None]:
    """Every name's status written over and over, from a client of its own, until the block ends."""
    thread = LoopThread()
    stop = asyncio.Event()

    async def open_and_write_once() -> object:
        nc = await connect(NatsOptions(url=url))
        buckets = await open_buckets(nc.jetstream(), create=True)
        for name in names:
            await buckets.status.put(keys.status_key(name), b"{}")
        return nc, buckets

    nc, buckets = thread.run(open_and_write_once())  # type: ignore[misc]

    async def write_forever(name: str) -> None:
        while not stop.is_set():
            await buckets.status.put(keys.status_key(name), b"{}")
            await asyncio.sleep(0.003)

    async def start() -> list[asyncio.Task[None]]:
        return [asyncio.create_task(write_forever(name)) for name in names]

    tasks = thread.run(start())
    try:
        yield
    finally:

        async def end() -> None:
            stop.set()
            await asyncio.gather(*tasks)
            await nc.close()  # type: ignore[attr-defined]

        thread.run(end())
        thread.close()


def test_every_publishing_engine_is_listed_while_all_of_them_publish(server: NatsServer) -> None:
    with busy_fleet(server.url(), NAMES):
        session = Session(NatsOptions(url=server.url()))
        session.open()
        try:
            listings = [session.names() for _ in range(40)]
        finally:
            session.close()
    short = [sorted(set(NAMES) - set(listed)) for listed in listings if listed != NAMES]
    assert not short, f"{len(short)} of {len(listings)} listings left engines out, e.g. {short[0]}"
