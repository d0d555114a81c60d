"""`foresight ctl --nats URL --engine NAME VERB` and `--all pause|resume`: ctl across hosts.

Every verb is the local one, run on a mirror of the remote engine (mirror.py):
the same checks, waits, messages and exit codes. Verbs that read the version
store or the ledger are questions the engine's bridge answers (queries.py).
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from nats.aio.client import Client

from engine.contract.fileio import read_model
from engine.contract.fleet import keys
from engine.contract.fleet.connect import Buckets, connect, open_buckets
from engine.contract.fleet.envelope import Presence
from engine.contract.fleet.loop_thread import LoopThread
from engine.contract.fleet.mirror import Mirror
from engine.contract.fleet.options import NatsOptions, add_arguments, options_from
from engine.contract.fleet.queries import READ_ONLY_VERBS
from engine.contract.models import STATUS_FILE, Status
from engine.contract.paths import add_state_dir_argument
from engine.ctl import verbs as ctl

EXIT_APPLIED, EXIT_REFUSED, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3
FLEET_VERBS = ("pause", "resume")


def wants_remote(argv: list[str]) -> bool:
    return any(a in ("--engine", "--all") or a.startswith(("--nats", "--engine=")) for a in argv)


def _fleet_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foresight ctl", add_help=False)
    add_arguments(parser)
    parser.add_argument("--engine", metavar="NAME", help="the bridge's --name of the engine to steer")
    parser.add_argument("--all", action="store_true", help="every engine publishing to NATS (pause and resume only)")
    return parser


def main(argv: list[str]) -> int:
    fleet, rest = _fleet_parser().parse_known_args(argv)
    try:
        options = options_from(fleet)
    except ValueError as exc:
        return _usage(str(exc))
    if options is None:
        return _usage("--engine/--all need a NATS server: --nats URL or $FORESIGHT_NATS_URL")
    if bool(fleet.engine) == bool(fleet.all):
        return _usage("name one engine (--engine NAME) or --all")
    if any(a.startswith("--state-dir") for a in rest):
        return _usage("--state-dir and --engine exclude each other: a remote engine's directory is on its host")
    args = _ctl_parser().parse_args(["ctl", *rest])  # bad usage exits 2 here, as locally
    if fleet.all and args.verb not in FLEET_VERBS:
        return _usage(f"--all takes {' or '.join(FLEET_VERBS)}; name one engine (--engine NAME) for {args.verb}")
    session = Session(options)
    try:
        try:
            session.open()
        except Exception as exc:
            print(f"foresight ctl: cannot reach NATS at {options.safe_url()} ({type(exc).__name__}: {exc or 'no answer'}); "
                  "check the URL and credentials (docs/fleet.md)", file=sys.stderr)  # fmt: skip
            return EXIT_TIMEOUT
        if fleet.all:
            return fleet_wide(session, rest, args)
        name = keys.check_name(fleet.engine)
        if args.verb == "forget":
            return forget(session, name)
        return one_engine(session, name, rest, args)
    except ValueError as exc:
        return _usage(str(exc))
    finally:
        session.close()


def _ctl_parser() -> argparse.ArgumentParser:
    """`foresight ctl`'s own parser (engine/ctl/verbs.py), as `foresight` builds it."""
    parser = argparse.ArgumentParser(prog="foresight")
    ctl.add_parser(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"), add_state_dir_argument)
    return parser


def _usage(message: str) -> int:
    print(f"foresight ctl: {message}", file=sys.stderr)
    return EXIT_USAGE


class Session:
    """One NATS connection on a loop thread, for the whole command."""

    def __init__(self, options: NatsOptions) -> None:
        self.options = options
        self.thread = LoopThread()
        self.nc: Client | None = None
        self.buckets: Buckets | None = None
        self.refused: str | None = None  # the server's permission violation, when a write met one
        self.writing = False

    def _refused(self, text: str) -> None:
        self.refused = text
        if self.writing:
            _thread.interrupt_main()  # ctl waits for an answer that cannot come: stop it now

    def open(self) -> None:
        async def go() -> None:
            self.nc = nc = await connect(self.options, on_refused=self._refused)
            self.buckets = await open_buckets(nc.jetstream(), create=False)

        self.thread.run(go())

    def close(self) -> None:
        if self.nc is not None:
            try:
                self.thread.run(self.nc.close(), timeout=5)
            except Exception:
                pass
        self.thread.close()

    def names(self) -> list[str]:
        assert self.buckets is not None
        return self.thread.run(self.buckets.names())

    def last_status(self, name: str) -> Status | None:
        async def go() -> bytes | None:
            assert self.buckets is not None
            try:
                return (await self.buckets.status.get(keys.status_key(name))).value
            except Exception as exc:
                if keys.missing(exc):
                    return None
                raise

        data = self.thread.run(go())
        try:
            return Status.model_validate_json(data) if data else None
        except ValueError:
            return None

    def purge(self, name: str) -> list[str]:
        """Remove the engine's status, control and answers (every revision); the keys there were."""

        async def go() -> list[str]:
            assert self.buckets is not None
            removed = []
            for bucket, key in ((self.buckets.status, keys.status_key(name)), (self.buckets.control, keys.control_key(name)),
                                (self.buckets.control, keys.ack_key(name))):  # fmt: skip
                try:
                    await bucket.get(key)
                except Exception as exc:
                    if keys.missing(exc):
                        continue
                    raise
                await bucket.purge(key)
                removed.append(key)
            return removed

        return self.thread.run(go())

    def presence(self, name: str) -> Presence | None:
        async def go() -> Presence | None:
            assert self.buckets is not None
            try:
                entry = await self.buckets.presence.get(keys.presence_key(name))
            except Exception as exc:
                if keys.missing(exc):
                    return None
                raise
            return Presence.model_validate_json(entry.value) if entry.value else None

        return self.thread.run(go())

    def ask(self, name: str, argv: list[str], timeout: float) -> dict[str, object]:
        async def go() -> dict[str, object]:
            assert self.nc is not None
            reply = await self.nc.request(keys.query_subject(name), json.dumps({"argv": argv}).encode(), timeout=timeout)
            return json.loads(reply.data)

        return self.thread.run(go(), timeout=timeout + 5)


def one_engine(session: Session, name: str, rest: list[str], args: argparse.Namespace) -> int:
    if args.verb in READ_ONLY_VERBS and (args.verb != "risk" or args.risk_action == "show"):
        return ask_bridge(session, name, rest, args.timeout)
    assert session.buckets is not None
    directory = Path(tempfile.mkdtemp(prefix=f"foresight-{name}-"))
    mirror = Mirror(session.buckets, name, directory)
    try:
        known = session.thread.run(mirror.start())
        presence = session.presence(name)
        if not known and presence is not None:
            # Its bridge runs before its engine's first start: a queued pause or resume can wait there.
            writes = next((v.writes for v in ctl.VERBS if v.name == args.verb), True)
            if not (writes and args.queue):
                print(f"foresight ctl: the bridge of {name} runs on {presence.host}, but no engine has run in its state "
                      f"directory ({presence.state_dir}) yet: nothing written. Start the engine there, or add --queue "
                      "to leave a pause, a resume or risk limits for its first start.", file=sys.stderr)  # fmt: skip
                return EXIT_TIMEOUT
        elif not known:
            others = session.names()
            print(f"foresight ctl: no engine named {name!r} publishes to NATS at {session.options.safe_url()}"
                  f" (known: {', '.join(others) or 'none'}); start its bridge (foresight bridge --name {name} ...)",
                  file=sys.stderr)  # fmt: skip
            return EXIT_TIMEOUT
        writes = next((v.writes for v in ctl.VERBS if v.name == args.verb), True)
        if writes and presence is None and not args.queue:
            print(f"foresight ctl: the bridge of {name} is not running (no presence within {keys.PRESENCE_TTL_S:g}s): "
                  f"nothing written. Start it on the engine's host (foresight bridge --name {name} ...), or add --queue "
                  "to leave the change in NATS for it.", file=sys.stderr)  # fmt: skip
            return EXIT_TIMEOUT
        args.state_dir = directory
        session.writing = writes
        where = f"{name}'s state directory on {mirror_host(directory) or 'its host'}"
        try:
            with contextlib.redirect_stdout(Renamed(sys.stdout, str(directory), where)), \
                 contextlib.redirect_stderr(Renamed(sys.stderr, str(directory), where)):  # fmt: skip
                code = ctl.run(args)
            session.thread.run(mirror.flush())
        except KeyboardInterrupt:
            if session.refused is None:
                raise
        finally:
            session.writing = False
        if session.refused is not None and writes:
            print(f"foresight ctl: NATS refused the write ({session.refused}): this credential may not write to "
                  f"{keys.control_key(name)} (a read-only watcher?). Nothing reached the engine.", file=sys.stderr)  # fmt: skip
            return EXIT_REFUSED
        if mirror.problem:
            print(f"foresight ctl: {mirror.problem}", file=sys.stderr)
        return code
    finally:
        try:
            session.thread.run(mirror.stop(), timeout=10)
        except Exception:
            pass
        shutil.rmtree(directory, ignore_errors=True)


class Renamed(io.TextIOBase):
    """ctl's own messages, with the mirror's temporary path said as the engine's directory."""

    def __init__(self, stream: TextIO, path: str, where: str) -> None:
        self.stream, self.path, self.where = stream, path, where

    def write(self, text: str) -> int:
        self.stream.write(text.replace(self.path, self.where))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def mirror_host(directory: Path) -> str | None:
    status = read_model(directory / STATUS_FILE, Status).value
    return status.engine.host if status else None


def ask_bridge(session: Session, name: str, rest: list[str], timeout: float) -> int:
    argv = [a for a in rest]
    try:
        answer = session.ask(name, argv, timeout)
    except Exception as exc:
        print(f"foresight ctl: the bridge of {name} did not answer ({type(exc).__name__}); is it running? "
              f"(foresight bridge --name {name} ...)", file=sys.stderr)  # fmt: skip
        return EXIT_TIMEOUT
    sys.stdout.write(str(answer.get("stdout", "")))
    sys.stderr.write(str(answer.get("stderr", "")))
    return int(answer.get("code", EXIT_TIMEOUT))  # type: ignore[call-overload]


def forget(session: Session, name: str) -> int:
    """Retire an engine from the fleet: its keys removed, refused while its bridge runs."""
    presence = session.presence(name)
    if presence is not None:
        print(f"foresight ctl: the bridge of {name} is running (pid {presence.bridge_pid} on {presence.host}, "
              f"{presence.state_dir}): nothing removed. Stop the bridge first (a running bridge publishes its engine "
              f"again); the presence of one that died expires within {keys.PRESENCE_TTL_S:g} s.", file=sys.stderr)  # fmt: skip
        return EXIT_REFUSED
    last = session.last_status(name)
    removed = session.purge(name)
    if not removed:
        print(f"foresight ctl: no engine named {name!r} on NATS at {session.options.safe_url()} (known: "
              f"{', '.join(session.names()) or 'none'}): nothing removed", file=sys.stderr)  # fmt: skip
        return EXIT_TIMEOUT
    if last is not None:
        engine = last.engine
        said = f"stopped at {engine.stopped_at}" if engine.stopped_at else f"{engine.state} at cycle {engine.cycle}, not stopped"
        print(f"forgot {name}: {', '.join(removed)} removed from NATS; its last status came from {engine.host} "
              f"(pid {engine.pid}) at {last.written_at}, engine {said}. A bridge started as {name} publishes it again.")  # fmt: skip
    else:
        print(f"forgot {name}: {', '.join(removed)} removed from NATS. A bridge started as {name} publishes it again.")
    return EXIT_APPLIED


def fleet_wide(session: Session, rest: list[str], args: argparse.Namespace) -> int:
    names = session.names()
    if not names:
        print(f"foresight ctl: no engine publishes to NATS at {session.options.safe_url()}", file=sys.stderr)
        return EXIT_TIMEOUT
    words = {EXIT_APPLIED: "applied", EXIT_REFUSED: "refused", EXIT_USAGE: "bad input", EXIT_TIMEOUT: "no answer"}
    results: list[tuple[str, int]] = []
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        copy = argparse.Namespace(**vars(args))
        results.append((name, one_engine(session, name, rest, copy)))
    for name, code in results:
        print(f"{name}: {args.verb} {words.get(code, str(code))}")
    return max(code for _, code in results)

