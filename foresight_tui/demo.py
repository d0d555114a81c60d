"""`python -m foresight_tui.demo` (what `foresight demo` execs).

Starts an engine on a fresh temporary state directory with the simulated market
sped up, opens Mission Control on it, and stops that engine when the TUI quits.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from engine.contract.models import STATUS_FILE
from foresight_tui.engine_log import ENGINE_LOG, log_tail

STOP_TIMEOUT_S = 10.0
START_TIMEOUT_S = 20.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="foresight demo", description=__doc__.splitlines()[2])
    parser.add_argument("--speed", type=float, default=60.0, help="market seconds per wall second (default 60)")
    parser.add_argument("--cycle-interval", type=float, default=0.25, help="engine cycle, wall seconds (default 0.25)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated market (default 7)")
    parser.add_argument("--maker", choices=("fair", "slow"), default="fair",
                        help="paper market maker: fair (quotes fair value, the honest default) or slow (lagged quotes "
                             "the shipped strategy beats: an edge that real markets do not give)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary state directory afterwards")
    return parser.parse_args(argv)


def engine_command(state_dir: Path, speed: float, cycle_interval: float, seed: int, maker: str = "fair") -> list[str]:
    return [
        sys.executable, "-m", "engine", "engine",
        "--state-dir", str(state_dir),
        "--speed", str(speed),
        "--cycle-interval", str(cycle_interval),
        "--seed", str(seed),
        "--maker", maker,
    ]  # fmt: skip


def start_engine(state_dir: Path, command: list[str]) -> subprocess.Popen[bytes]:
    with open(state_dir / ENGINE_LOG, "ab") as log:
        # Its own session: a hung-up terminal reaches the TUI, which then stops the engine itself.
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # fmt: skip


def wait_started(process: subprocess.Popen[bytes], state_dir: Path, timeout_s: float = START_TIMEOUT_S) -> int | None:
    """Wait for the engine's first status.json, or its exit (its exit code then; None otherwise).

    An engine that refuses its flags exits at once: the demo says why on the terminal instead of
    opening Mission Control on an engine that never ran. Past the timeout the TUI opens anyway
    and shows what the engine does."""
    status = state_dir / STATUS_FILE
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if status.exists():
            return None
        try:
            return process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
    return None


def stop_engine(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def finish(process: subprocess.Popen[bytes], state_dir: Path, keep: bool) -> None:
    """Stop the engine; remove its state directory unless asked to keep it or it failed."""
    engine_code = stop_engine(process)
    if engine_code not in (0, -15, 143) or keep:
        with contextlib.suppress(OSError):  # the terminal may be gone
            print(f"engine exited with {engine_code}; state and engine.log kept in {state_dir}", file=sys.stderr)
    else:
        shutil.rmtree(state_dir, ignore_errors=True)


def once(action: Callable[[], None]) -> Callable[[], None]:
    """`action` runs at most once, whichever thread asks first (exit path or hang-up watchdog)."""
    lock = threading.Lock()
    done: list[bool] = []

    def run() -> None:
        with lock:
            if not done:
                done.append(True)
                action()

    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state_dir = Path(tempfile.mkdtemp(prefix="foresight-demo-"))
    process = start_engine(state_dir, engine_command(state_dir, args.speed, args.cycle_interval, args.seed, args.maker))
    print(f"foresight demo: starting an engine in {state_dir} ...", file=sys.stderr, flush=True)
    code = wait_started(process, state_dir)
    if code is not None:
        said = "\n".join(log_tail(state_dir))
        print(f"foresight demo: the engine exited with code {code} before its first cycle:\n{said}", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(state_dir, ignore_errors=True)
        return code if code > 0 else 1
    done = once(functools.partial(finish, process, state_dir, args.keep))
    try:
        from foresight_tui.app import MissionControlApp

        # on_hangup: if the terminal vanished and the TUI cannot exit cleanly, it still stops the engine.
        app = MissionControlApp(state_dir, engine_process=process, on_hangup=done)
        app.run()
    finally:
        done()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
