"""Where each engine's documents live in NATS JetStream's key-value store (docs/fleet.md).

Three buckets, so a server can grant a watcher the status and presence buckets
only, and so the status bucket keeps one revision a key while control keeps a
history the bridge reads to apply every remote write, even those made while it
was away.
"""

from __future__ import annotations

import re

STATUS_BUCKET = "foresight_status"  # <name>.status: the engine's status.json, as written
CONTROL_BUCKET = "foresight_control"  # <name>.control: intent, written by compare-and-set; <name>.ack: the bridge's answers
PRESENCE_BUCKET = "foresight_presence"  # <name>.presence: the bridge is alive (the bucket's TTL expires it)

CONTROL_HISTORY = 64  # remote writes the bridge can still apply after an outage
PRESENCE_TTL_S = 15.0
PRESENCE_EVERY_S = 3.0
ACKS_KEPT = 32

# NATS keys allow [-/_=.a-zA-Z0-9]; the dot separates the name from the document.
NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"


def check_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"engine name {name!r}: use 1-64 letters, digits, '-' or '_' (it becomes a NATS key)")
    return name


def status_key(name: str) -> str:
    return f"{name}.status"


def control_key(name: str) -> str:
    return f"{name}.control"


def ack_key(name: str) -> str:
    return f"{name}.ack"


def presence_key(name: str) -> str:
    return f"{name}.presence"


def query_subject(name: str) -> str:
    """Request-reply subject of the bridge's read-only questions (versions, trades, performance, risk show)."""
    return f"foresight.query.{name}"


def name_of(key: str) -> str:
    return key.rsplit(".", 1)[0]


def missing(exc: Exception) -> bool:
    """`exc` is nats-py's answer that a key (or every key) is not there, deleted or never written.
    By name: this module loads no NATS client."""
    return type(exc).__name__ in ("KeyNotFoundError", "KeyDeletedError", "NoKeysError")
