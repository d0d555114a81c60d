"""NATS connection options: the URL, credentials and TLS from flags or the environment.

Flags win over the environment; nothing is printed of a secret. The same options
serve the bridge, `foresight ctl --nats` and the fleet view. Parsing them loads no
NATS client: every `foresight` command builds these flags.
"""

from __future__ import annotations

import argparse
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV = {
    "url": "FORESIGHT_NATS_URL",
    "user": "FORESIGHT_NATS_USER",
    "password": "FORESIGHT_NATS_PASSWORD",
    "creds": "FORESIGHT_NATS_CREDS",
    "nkey": "FORESIGHT_NATS_NKEY",
    "tls_ca": "FORESIGHT_NATS_CA",
    "tls_cert": "FORESIGHT_NATS_CERT",
    "tls_key": "FORESIGHT_NATS_KEY",
}


@dataclass(frozen=True)
class NatsOptions:
    url: str
    user: str | None = None
    password: str | None = None
    creds: Path | None = None  # a .creds file (JWT + nkey seed), as `nsc` writes it
    nkey: Path | None = None  # a file holding an nkey seed
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def servers(self) -> list[str]:
        """Several servers of one cluster are given comma-separated."""
        return [u.strip() for u in self.url.split(",") if u.strip()]

    def safe_url(self) -> str:
        """The URL(s) without a password in them, for messages."""

        def safe(url: str) -> str:
            head, sep, tail = url.rpartition("@")
            if not sep:
                return url
            scheme, _, _ = head.partition("//")
            return f"{scheme}//***@{tail}"

        return ",".join(safe(u) for u in self.servers)

    def tls_context(self) -> ssl.SSLContext | None:
        if not (self.tls_ca or self.tls_cert or any(u.startswith("tls://") for u in self.servers)):
            return None
        context = ssl.create_default_context(cafile=str(self.tls_ca) if self.tls_ca else None)
        if self.tls_cert:
            context.load_cert_chain(str(self.tls_cert), str(self.tls_key) if self.tls_key else None)
        return context

    def connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"servers": self.servers}
        if self.user:
            kwargs["user"] = self.user
            kwargs["password"] = self.password or ""
        if self.creds:
            kwargs["user_credentials"] = str(self.creds)
        if self.nkey:
            kwargs["nkeys_seed"] = str(self.nkey)
        context = self.tls_context()
        if context is not None:
            kwargs["tls"] = context
        return kwargs


def add_arguments(parser: argparse.ArgumentParser, *, url_required: bool = False) -> None:
    group = parser.add_argument_group("NATS (also from $FORESIGHT_NATS_URL, _USER, _PASSWORD, _CREDS, _NKEY, _CA, _CERT, _KEY)")
    group.add_argument("--nats", metavar="URL", default=argparse.SUPPRESS if not url_required else None,
                       help="NATS server, e.g. nats://host:4222 or tls://host:4222")  # fmt: skip
    group.add_argument("--nats-user", default=None)
    group.add_argument("--nats-password", default=None, help="better from $FORESIGHT_NATS_PASSWORD (a flag shows in ps)")
    group.add_argument("--nats-creds", type=Path, default=None, help="a .creds file (JWT and nkey seed)")
    group.add_argument("--nats-nkey", type=Path, default=None, help="a file holding an nkey seed")
    group.add_argument("--nats-ca", type=Path, default=None, help="CA certificate that signed the server's")
    group.add_argument("--nats-cert", type=Path, default=None, help="client certificate (mutual TLS)")
    group.add_argument("--nats-key", type=Path, default=None, help="client certificate's key")


SCHEMES = ("nats", "tls", "ws", "wss")


def check_url(url: str, given_by: str) -> None:
    """Every server of `url` (comma-separated) is SCHEME://host[:port]; a clear ValueError otherwise,
    before a client retries for ever what it cannot reach."""
    servers = [u.strip() for u in url.split(",") if u.strip()]
    for server in servers or [url]:
        parts = urlsplit(server)
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
            host = parts.hostname
        except ValueError:
            host = None
        if parts.scheme not in SCHEMES or not host:
            raise ValueError(f"{given_by} {server!r}: expected nats://host:4222 (or tls://, ws://, wss://), comma-separated for a cluster")


def options_from(args: argparse.Namespace, env: dict[str, str] | None = None) -> NatsOptions | None:
    """The options the flags and the environment give, or None when no URL is given at all."""
    env = dict(os.environ) if env is None else env

    def pick(flag: str, field: str) -> str | None:
        value = getattr(args, flag, None)
        return str(value) if value is not None else env.get(ENV[field]) or None

    url = getattr(args, "nats", None) or env.get(ENV["url"])
    if not url:
        return None
    check_url(url, "--nats" if getattr(args, "nats", None) else f"${ENV['url']}")

    def path(flag: str, field: str) -> Path | None:
        value = pick(flag, field)
        if value is None:
            return None
        p = Path(value).expanduser()
        if not p.is_file():
            given_by = f"--{flag.replace('_', '-')}" if getattr(args, flag, None) is not None else f"${ENV[field]}"
            raise ValueError(f"{given_by}: no such file {p}")
        return p

    return NatsOptions(
        url=url,
        user=pick("nats_user", "user"),
        password=pick("nats_password", "password"),
        creds=path("nats_creds", "creds"),
        nkey=path("nats_nkey", "nkey"),
        tls_ca=path("nats_ca", "tls_ca"),
        tls_cert=path("nats_cert", "tls_cert"),
        tls_key=path("nats_key", "tls_key"),
    )
