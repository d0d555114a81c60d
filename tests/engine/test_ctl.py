"""`foresight ctl` as an operator types it: options anywhere, bad keys refused, outcomes named, the slot table."""

from __future__ import annotations

import subprocess
import sys

from engine.contract.fileio import read_model
from engine.contract.models import CONTROL_FILE, Control
from tests.support.engine_proc import ROOT, EngineProcess, ctl, run_engine
from tests.support.waits import wait_until


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


def test_values_and_slots_the_engine_would_refuse_are_refused_before_anything_is_written(engine: EngineProcess) -> None:
    """Exit 2 and nothing written (the control generation unchanged) for a value the running
    strategy's schema refuses or a slot the engine does not run; the engine stays the authority
    for rules across parameters (exit 1, refused)."""
    generation = engine.wait_cycles(1).control.observed_generation
    cases = {
        ("set", "stake=abc"): "stake: a number is required",
        ("set", "stake=1000"): "stake: must be <= 100",
        ("set", "stake=6", "min_history=-1"): "min_history: must be >= ",
        ("set", 'assets=["BTC","NOPE"]'): "assets: item 2: must be one of BTC",
        ("pause-slot", "BTC-1h"): "no slot 'BTC-1h'",
        ("resume-slot", "NOPE-5m"): "no slot 'NOPE-5m'",
        ("pause-slot", "btc-5m"): "no slot 'btc-5m' in this engine, nothing written; did you mean BTC-5m?",
        ("shadow", "--cycles", "99999999999"): "--cycles must be between 1 and 10000000",
    }
    for args, reason in cases.items():
        done = ctl(engine.state_dir, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert reason in done.stderr and ("nothing written" in done.stderr or "refused before writing" in done.stderr), (args, done.stderr)
    control = read_model(engine.state_dir / CONTROL_FILE, Control).value
    assert control is None or control.generation == generation
    both = ctl(engine.state_dir, "set", "fast_ema_period=50", "slow_ema_period=10")
    assert both.returncode == 1 and "fast_ema_period must be less than slow_ema_period" in both.stdout + both.stderr
    fine = ctl(engine.state_dir, "resume-slot", "BTC-5m")
    assert fine.returncode == 0, fine.stdout + fine.stderr


def test_a_timeout_that_is_no_wait_is_refused_and_nothing_is_written(tmp_path) -> None:
    for bad in ("-1", "0", "nan", "inf"):
        result = ctl(tmp_path, "pause", "--queue", "--timeout", bad)
        assert result.returncode == 2, result.stderr
        assert f"--timeout: {bad}: expected seconds above 0" in result.stderr
    assert not (tmp_path / CONTROL_FILE).exists()


def test_status_of_an_engine_killed_without_a_stop_says_down_not_running(engine: EngineProcess) -> None:
    engine.kill9()
    shown = ctl(engine.state_dir, "status")
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.splitlines()[0]
    assert first.startswith(f"engine   DOWN pid {engine.pid}@"), shown.stdout
    assert "RUNNING" not in shown.stdout.split("\n\n")[0]
    assert "its process is gone without a clean stop" in shown.stdout
    assert f"foresight engine --state-dir {engine.state_dir}" in shown.stdout


def test_risk_verbs_with_no_engine_write_nothing_unless_queued(tmp_path) -> None:
    state_dir = tmp_path / "state"
    refused = ctl(state_dir, "risk", "set", "max_daily_loss=20")
    assert refused.returncode == 3 and "nothing written" in refused.stderr, refused.stderr
    assert not (state_dir / CONTROL_FILE).exists()
    queued = ctl(state_dir, "--queue", "risk", "set", "max_daily_loss=20")
    assert queued.returncode == 0 and "queued" in queued.stdout, queued.stderr
    control = read_model(state_dir / CONTROL_FILE, Control).value
    assert control is not None and control.risk.max_daily_loss == 20


def test_a_status_json_deleted_under_a_running_engine_is_not_taken_for_no_engine(engine_factory) -> None:
    engine = engine_factory(fast=("--speed", "300", "--cycle-interval", "4"))
    (engine.state_dir / "status.json").unlink()
    paused = ctl(engine.state_dir, "--timeout", "15", "pause")
    assert paused.returncode == 0, paused.stderr
    assert "no engine has run" not in paused.stderr


def test_a_parameter_or_limit_given_twice_is_refused_not_last_one_wins(tmp_path) -> None:
    state_dir = tmp_path / "state"
    twice = ctl(state_dir, "--queue", "set", "stake=5", "stake=60")
    assert twice.returncode == 2 and "stake is given twice" in twice.stderr, twice.stderr
    limits = ctl(state_dir, "--queue", "risk", "set", "max_daily_loss=20", "max_daily_loss=2000")
    assert limits.returncode == 2 and "max_daily_loss is given twice" in limits.stderr, limits.stderr
    assert not (state_dir / CONTROL_FILE).exists()


def test_values_and_slots_no_engine_could_check_are_not_queued_beside_a_pause(tmp_path) -> None:
    state_dir = tmp_path / "state"
    assert ctl(state_dir, "--queue", "pause").returncode == 0
    for change in (("set", "stke=7"), ("pause-slot", "NOPE-1h")):
        refused = ctl(state_dir, "--queue", *change)
        assert refused.returncode == 2 and "cannot be checked" in refused.stderr, refused.stderr
    control = read_model(state_dir / CONTROL_FILE, Control).value
    assert control is not None and control.paused and not control.overrides and not control.paused_slots


def test_ctl_waiting_on_an_engine_that_dies_says_so_at_once_not_after_its_timeout(engine_factory) -> None:
    engine = engine_factory(fast=("--speed", "300", "--cycle-interval", "30"))  # the next boundary is far off
    waiting = subprocess.Popen([sys.executable, "-m", "engine", "ctl", "--state-dir", str(engine.state_dir), "--timeout", "60", "pause"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: (engine.state_dir / CONTROL_FILE).exists(), "ctl wrote its change")
        engine.kill9()
        _out, err = waiting.communicate(timeout=10)  # not the 60 s timeout
    finally:
        waiting.kill()
    assert waiting.returncode == 3 and "the engine went away while ctl waited" in err, err
    assert "stays in control.json" in err


def test_a_directory_in_control_jsons_place_is_named_with_the_fix(tmp_path) -> None:
    state_dir = tmp_path / "state"
    (state_dir / CONTROL_FILE).mkdir(parents=True)
    written = ctl(state_dir, "--queue", "pause")
    assert written.returncode == 2 and "Errno" not in written.stderr, written.stderr
    assert f"{state_dir / CONTROL_FILE} is a directory" in written.stderr and "remove it" in written.stderr


def test_a_reader_that_closes_the_pipe_early_is_no_error(tmp_path) -> None:
    state_dir = tmp_path / "state"
    assert run_engine(state_dir, "--quiet", "--max-cycles", "2").returncode == 0
    # `ctl status | head -1`: the reader leaves after what it wanted.
    proc = subprocess.Popen([sys.executable, "-m", "engine", "ctl", "--state-dir", str(state_dir), "status"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 0 and "Broken pipe" not in err, err


def test_a_pause_is_not_refused_for_another_writers_change_the_engine_refuses(engine_factory) -> None:
    engine = engine_factory(fast=("--speed", "300", "--cycle-interval", "5"))
    # Another operator's value, valid alone, that the strategy's own rule refuses (fast < slow EMA).
    engine.writer.set_overrides({"fast_ema_period": 30})
    paused = ctl(engine.state_dir, "--timeout", "20", "pause")
    assert paused.returncode == 0, paused.stderr
    status = engine.wait_for(lambda s: s.engine.state == "paused", what="paused")
    assert "fast_ema_period" not in status.control.applied.overrides
