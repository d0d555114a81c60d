"""A real engine subprocess on a temp state directory, with a fast market clock.

`EngineSubprocess` is the one harness that starts, logs and stops `python -m
engine engine`, for the tests and the benchmarks alike; how it is watched is
its users': `EngineProcess` (here) reads status.json as the contract's models,
benchmarks.common.EngineProc as plain JSON at the lowest cost to the machine.
Tests write control through the project's ControlWriter and watch status.json,
exactly as an operator's tools do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.contract.control_writer import ControlWriter
from engine.contract.fileio import read_model
from engine.contract.models import STATUS_FILE, Status

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--speed", "300", "--cycle-interval", "0.05")


class EngineSubprocess:
    """`python -m engine engine --state-dir STATE_DIR *args`, run from `root` (the checkout measured)."""

    def __init__(self, state_dir: Path, args: Sequence[str], *, env: dict[str, str] | None = None, root: Path = ROOT) -> None:
        self.state_dir = state_dir
        self.engine_args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir.parent / f"{state_dir.name}-engine.log"

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "engine", "engine", "--state-dir", str(self.state_dir), *self.engine_args]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def launch(self) -> float:
        """Start the process, its output to the log file; the monotonic time just before the fork."""
        env = dict(self.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.root), env.get("PYTHONPATH", "")]))
        with self.log_path.open("ab") as log:
            started = time.monotonic()
            self.proc = subprocess.Popen(self.command, cwd=self.root, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        return started

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        return stop_process(self.proc, sig, timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class EngineProcess(EngineSubprocess):
    def __init__(
        self, state_dir: Path, *args: str, seed: int = 7, fast: tuple[str, ...] = FAST, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(state_dir, ["--seed", str(seed), "--quiet", *fast, *args], env=env)
        self.args = args
        self.seed = seed
        self.fast = fast
        self.first_status: Status | None = None
        self.writer = ControlWriter(state_dir, tool="test")

    def start(self, wait: bool = True) -> EngineProcess:
        self.launch()
        if wait:
            pid = self.pid
            self.first_status = self.wait_for(lambda s: s.engine.pid == pid, timeout=20, what="first status of the new engine")
        return self

    def status(self) -> Status | None:
        return read_model(self.state_dir / STATUS_FILE, Status).value

    def wait_for(self, predicate: Callable[[Status], bool], timeout: float = 10.0, what: str = "condition") -> Status:
        deadline = time.monotonic() + timeout
        last: Status | None = None
        while time.monotonic() < deadline:
            status = self.status()
            if status is not None:
                last = status
                if predicate(status):
                    return status
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"engine exited ({self.proc.returncode}) waiting for {what}:\n{self.log()[-3000:]}")
            time.sleep(0.01)
        cycle = last.engine.cycle if last else None
        raise AssertionError(f"timed out waiting for {what} (last cycle {cycle})\n{self.log()[-2000:]}")

    def wait_cycles(self, count: int, timeout: float = 10.0) -> Status:
        start = self.status()
        base = start.engine.cycle if start else 0
        return self.wait_for(lambda s: s.engine.cycle >= base + count, timeout, f"{count} cycles")

    def wait_generation(self, generation: int, timeout: float = 10.0) -> Status:
        return self.wait_for(lambda s: s.control.observed_generation >= generation, timeout, f"generation {generation}")

    def wait_ack(self, command_id: str, timeout: float = 10.0) -> Status:
        return self.wait_for(lambda s: any(a.id == command_id for a in s.control.acks), timeout, f"ack of {command_id}")


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
    """Send `sig` (a clean stop by default), kill after `timeout`; the exit status (0 if never started)."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else 0
    proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def run_engine(state_dir: Path, *flags: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """`foresight engine` run to its end (a refusal, or `--max-cycles`), its output captured."""
    return foresight("engine", "--state-dir", str(state_dir), *flags, timeout=timeout)


def run_watch(state_dir: Path, *flags: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """`foresight watch` run to its end (it only ends by itself when it refuses its flags)."""
    return foresight("watch", "--state-dir", str(state_dir), *flags, timeout=timeout)


def ctl(state_dir: Path, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """`foresight ctl` as a subprocess, the way a script would call it."""
    return foresight("ctl", "--state-dir", str(state_dir), *args, timeout=timeout)


def foresight(*argv: str, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`foresight ARGV...` as a subprocess, its output captured (`env` added to the test's)."""
    return subprocess.run(
        [sys.executable, "-m", "engine", *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
