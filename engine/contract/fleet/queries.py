"""The bridge's read-only answers over NATS request-reply: what ctl reads from local files.

`ctl versions`, `trades`, `performance` and `risk show` read the version store and
the ledger, which never leave the engine's host; the bridge runs the same verb
on its state directory and returns its output and exit code. Nothing else runs:
a question is an argument list whose first word must be one of READ_ONLY_VERBS.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

READ_ONLY_VERBS = {"versions", "trades", "performance", "risk"}
TIMEOUT_S = 20.0


def allowed(argv: list[str]) -> str | None:
    """Why `argv` is not a read-only question, or None when it is."""
    if not argv or argv[0] not in READ_ONLY_VERBS:
        return f"only {', '.join(sorted(READ_ONLY_VERBS))} are answered over NATS"
    if argv[0] == "risk" and argv[1:2] != ["show"]:
        return "only 'risk show' is a question; risk set/unset/resume travel as control writes"
    if any(a.startswith("--state-dir") or a.startswith("--queue") for a in argv):
        return "a question names no state directory: the bridge answers for its own"
    return None


async def answer_query(state_dir: Path, data: bytes) -> bytes:
    try:
        argv = json.loads(data)["argv"]
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    except Exception:
        return json.dumps({"code": 2, "stdout": "", "stderr": 'a question is {"argv": ["versions", ...]}'}).encode()
    refused = allowed(argv)
    if refused:
        return json.dumps({"code": 2, "stdout": "", "stderr": f"foresight bridge: {refused}"}).encode()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "engine", "ctl", "--state-dir", str(state_dir), *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return json.dumps({"code": 3, "stdout": "", "stderr": f"foresight bridge: no answer within {TIMEOUT_S:g}s"}).encode()
    return json.dumps({"code": proc.returncode, "stdout": out.decode(errors="replace"), "stderr": err.decode(errors="replace")}).encode()
