"""`foresight engine` refuses a command line that would run something other than what it says,
before it touches the state directory: exit 2, the reason, and nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.engine_proc import ctl, run_engine


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--assets", ","), "--assets names no asset"),
        (("--windows", ","), "--windows names no window length"),
        (("--assets", "BTC,ETH,btc"), "--assets names BTC twice"),
        (("--windows", "5m,15m,5m"), "--windows names 5m twice"),
        (("--windows", "1m,60s"), "--windows names 1m twice (60s is 1m)"),
        (("--feed", "replay:"), "--feed replay: names no file"),
        (("--feed", "replay:,"), "--feed replay: names no file"),
        (("--feed", "simulated"), "unknown feed 'simulated'"),
        (("--max-cycles", "0"), "--max-cycles must be at least 1"),
        (("--max-cycles", "-3"), "--max-cycles must be at least 1"),
        (("--spread", "nan"), "--spread nan is out of range"),
        (("--fee", "-0.5"), "--fee -0.5 is out of range"),
        (("--lag", "-3"), "--lag -3 is out of range"),
        (("--noise", "2"), "--noise 2 is out of range"),
        (("--probation-cycles", "-1"), "--probation-cycles must be at least 0"),
        (("--feed", "binance", "--feed-url", "garbage"), "--feed-url 'garbage': expected a ws:// or wss:// URL"),
        (("--feed", "binance", "--feed-url", ""), "--feed-url '': expected a ws:// or wss:// URL"),
        (("--feed", "binance", "--feed-url", "wss://"), "--feed-url 'wss://' names no host"),
        (("--feed", "binance", "--feed-url", "ws://[::1"), "--feed-url 'ws://[::1': Invalid IPv6 URL"),
        (("--feed", "binance", "--feed-url", "ws://host:99999/stream"), "--feed-url 'ws://host:99999/stream': Port out of range"),
    ],
)
def test_a_command_line_that_means_something_else_is_refused_before_anything_is_written(
    tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    state_dir = tmp_path / "state"
    result = run_engine(state_dir, "--quiet", *flags)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not state_dir.exists(), "a refused start created the state directory"


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_state_dir_that_is_a_file_is_refused_by_name_and_the_file_is_untouched(tmp_path: Path, below: str) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    state_dir = a_file / below if below else a_file
    engine = run_engine(state_dir, "--quiet", "--max-cycles", "1")
    assert engine.returncode == 2, engine.stderr
    assert f"{a_file} is a file, not a directory" in engine.stderr
    queued = ctl(state_dir, "pause", "--queue")
    assert queued.returncode == 2, queued.stderr
    assert f"{a_file} is a file, not a directory" in queued.stderr and "Errno" not in queued.stderr
    for verb in ("status", "versions", "trades", "risk show"):  # the read verbs too, not "no engine has run"
        read = ctl(state_dir, *verb.split())
        assert read.returncode == 2 and f"{a_file} is a file, not a directory" in read.stderr, (verb, read.stderr)
    assert a_file.read_text() == "mine"
