"""Small pieces: text sparklines, formatting, the terminal-gone probe, the demo's engine command."""

from __future__ import annotations

import os
import subprocess
import sys

from foresight_tui import formatting as fmt
from foresight_tui.demo import engine_command, stop_engine
from foresight_tui.terminal import terminal_gone
from foresight_tui.widgets.spark import resample, spark_rows


def test_spark_rows_scale_between_min_and_max():
    assert spark_rows([1, 2, 3, 4], 4, 1) == ["▁▃▆█"]
    top, bottom = spark_rows([0, 10], 2, 2)
    assert (top, bottom) == (" █", "▁█")
    assert spark_rows([5, 5, 5], 3, 1) == ["▁▁▁"]  # flat: on the floor
    assert spark_rows([], 3, 2) == ["", ""]


def test_resample_fills_the_width():
    assert resample([1, 2], 4) == [1, 1, 2, 2]
    assert resample([1, 3, 5, 7], 2) == [2, 6]
    assert len(resample(list(range(120)), 33)) == 33


def test_formatting():
    assert fmt.duration(7620) == "2h07m" and fmt.duration(65) == "1m05s" and fmt.duration(None) == "-"
    assert fmt.clock_left(170) == "2:50"
    assert fmt.price(97153.364) == "97,153.36" and fmt.price(0.38292) == "0.38292"
    assert fmt.money(-5) == "-$5.00" and fmt.money(12.4) == "+$12.40"
    assert fmt.utc_time("2025-06-01T13:00:00+01:00") == "12:00:00"
    assert fmt.bar(0.5, 4) == "██░░"


def test_terminal_gone_when_the_descriptor_fails():
    assert terminal_gone(None) is False
    read, write = os.pipe()
    os.close(write)
    os.close(read)
    assert terminal_gone(read) is True  # closed: the terminal went away


def test_demo_engine_command_and_stop():
    command = engine_command(__import__("pathlib").Path("/tmp/x"), 60.0, 0.25, 7)
    assert command[1:] == ["-m", "engine", "engine", "--state-dir", "/tmp/x", "--speed", "60.0",
                           "--cycle-interval", "0.25", "--seed", "7", "--maker", "fair"]  # fmt: skip
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert stop_engine(sleeper, timeout=5) == -15
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE)  # fmt: skip
    stubborn.stdout.readline()
    assert stop_engine(stubborn, timeout=0.5) == -9


def test_sixteen_slots_stay_four_by_four():
    from foresight_tui.widgets.slot_grid import grid_columns

    assert [grid_columns(16, fit) for fit in (1, 2, 3, 4, 5, 6, 8)] == [1, 2, 3, 4, 4, 6, 8]
    assert grid_columns(6, 4) == 3 and grid_columns(0, 4) == 1


def test_demo_cleanup_runs_once():
    from foresight_tui.demo import once

    calls = []
    run = once(lambda: calls.append(1))
    run()
    run()
    assert calls == [1]
