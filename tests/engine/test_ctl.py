"""`foresight ctl` as an operator types it: options anywhere, bad keys refused, outcomes named, the slot table."""

from __future__ import annotations

import subprocess
import sys

from tests.support.engine_proc import ROOT, EngineProcess, ctl


def ctl_verb_first(state_dir, verb: str, *rest: str) -> subprocess.CompletedProcess[str]:
    """The verb before the options, as people type it (`ctl pause --state-dir X`)."""
    return subprocess.run([sys.executable, "-m", "engine", "ctl", verb, *rest], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def test_ctl_against_a_running_engine(engine: EngineProcess) -> None:
    state = str(engine.state_dir)
    paused = ctl_verb_first(state, "pause", "--state-dir", state, "--timeout", "10")
    assert paused.returncode == 0, paused.stderr
    assert "applied" in paused.stdout

    bogus = ctl_verb_first(state, "unset", "bogus", "--state-dir", state)
    assert bogus.returncode == 2 and "unknown parameter 'bogus'" in bogus.stderr
    not_overridden = ctl(engine.state_dir, "unset", "stake")
    assert not_overridden.returncode == 0 and "not overridden" in not_overridden.stdout

    check = ctl(engine.state_dir, "check")
    assert check.returncode == 0 and check.stdout.startswith("check passed: "), check.stdout + check.stderr

    summary = ctl_verb_first(state, "status", "--wait", "--state-dir", state)
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    assert "paper bets, simulated prices at x300" in summary.stdout
    [head] = [line for line in lines if line.startswith("slot ")]
    assert "signal now" in head and "bet held" in head and "why not entering" in head
    assert sum(1 for line in lines if line.split(" ")[0].endswith(("-5m", "-15m"))) == 16


def test_ctl_help_speaks_the_operators_words() -> None:
    shown = ctl_verb_first(".", "--help")
    assert shown.returncode == 0
    assert "ControlWriter" not in shown.stdout and "Options go before or after the verb" in shown.stdout
