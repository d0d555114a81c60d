"""Fleet flags that could only fail later, or never visibly, are refused at once: exit 2, the
flag named, what it accepts, and no traceback. Each command here would otherwise run (and
retry for ever: nothing listens on the URL), so a refusal is the only way it ends in time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.engine_proc import foresight
from tests.support.nats_server import closed_port_url


def bridge(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return foresight("bridge", "--state-dir", str(tmp_path / "s"), "--name", "bot-a", *flags, timeout=20, env=env)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--presence-every", "0"), "--presence-every"),
        (("--presence-every", "nan"), "--presence-every"),
        (("--presence-every", "20"), "--presence-every"),  # beats slower than the presence key lives: never online
        (("--replicas", "0"), "--replicas"),
        (("--replicas", "9"), "--replicas"),
        (("--nats-creds", "/no/such.creds"), "--nats-creds"),
    ],
)
def test_bridge_flags_it_cannot_keep_are_refused(tmp_path: Path, flags: tuple[str, ...], named: str) -> None:
    done = bridge(tmp_path, "--nats", closed_port_url(), *flags)
    assert done.returncode == 2, done.stderr
    assert named in done.stderr and "Traceback" not in done.stderr


def test_a_credentials_file_from_the_environment_is_named_by_its_variable(tmp_path: Path) -> None:
    done = bridge(tmp_path, "--nats", closed_port_url(), env={"FORESIGHT_NATS_CREDS": "/no/such.creds"})
    assert done.returncode == 2 and "$FORESIGHT_NATS_CREDS" in done.stderr and "/no/such.creds" in done.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:4222", "127.0.0.1:4222", "nats://", "nats://127.0.0.1:4222,ftp://x"])
def test_a_url_that_is_not_a_nats_server_is_refused_by_every_client(tmp_path: Path, url: str) -> None:
    for done in (
        bridge(tmp_path, "--nats", url),
        foresight("ctl", "--nats", url, "--engine", "bot-a", "pause", timeout=20),
        foresight("tui", "--nats", url, timeout=20),
    ):
        assert done.returncode == 2, done.stderr
        assert "nats://" in done.stderr and "Traceback" not in done.stderr
