"""Fault injection for the reliability tests; inert unless FORESIGHT_FAILPOINTS is set.

FORESIGHT_FAILPOINTS is a comma list of settings:
  crash_before_replace=P   SIGKILL this process, with probability P, after a temp file
                           is written and before it replaces the real one
  crash_after_ledger=P     SIGKILL this process, with probability P, after the ledger
                           committed a cycle's bets and before the trading state is persisted
  seed=N                   seed of those draws
  dir=PATH                 while PATH/fail-write-NAME exists, writing NAME fails with
                           ENOSPC (a full disk that the test can fill and empty), or
                           with the errno the file names (e.g. EROFS)
"""

from __future__ import annotations

import errno
import os
import random
import signal
from pathlib import Path

_settings = dict(
    item.split("=", 1) for item in os.environ.get("FORESIGHT_FAILPOINTS", "").split(",") if "=" in item
)
_crash_p = float(_settings.get("crash_before_replace", 0) or 0)
_ledger_crash_p = float(_settings.get("crash_after_ledger", 0) or 0)
_rng = random.Random(int(_settings.get("seed", os.getpid())))
_dir = Path(_settings["dir"]) if "dir" in _settings else None
ENABLED = bool(_settings)


def before_write(target: Path) -> None:
    if _dir is None:
        return
    try:
        named = (_dir / f"fail-write-{target.name}").read_text().strip()
    except FileNotFoundError:
        return
    code = getattr(errno, named, errno.ENOSPC) if named else errno.ENOSPC
    raise OSError(code, f"{os.strerror(code)} (failpoint)", str(target))


def before_replace(target: Path) -> None:
    before_write(target)
    if _crash_p and _rng.random() < _crash_p:
        os.kill(os.getpid(), signal.SIGKILL)


def after_ledger() -> None:
    if _ledger_crash_p and _rng.random() < _ledger_crash_p:
        os.kill(os.getpid(), signal.SIGKILL)
