"""The header fitted to a width: the right side never cuts, the left shortens then drops, overruns warn."""

from __future__ import annotations

from foresight_tui.header_lines import Part, engine_row, fit, market_mode

from .conftest import make_status, paused_by_a_risk_trip


def text(segments) -> str:
    return "".join(chunk for chunk, _ in segments)


def test_the_right_side_stays_whole_and_the_left_gives_way() -> None:
    row = ([Part("PAPER · SIMULATED ×60", "PAPER · SIM"), Part("cycle 7620 · 12ms of 250ms", "cycle 7620"),
            Part("pid 4242@host")], [Part("pending: gen 15 > observed 12 (1 mine)")])  # fmt: skip
    for width in (40, 59, 80, 120):
        line = text(fit(row, width))
        assert len(line) == width and line.rstrip().endswith("pending: gen 15 > observed 12 (1 mine)")
    assert text(fit(row, 80)).startswith("PAPER · SIMULATED ×60  cycle 7620  ")  # later parts shortened first
    assert text(fit(row, 62)).startswith("PAPER · SIMULATED ×60 ")  # then dropped, the first kept whole


def test_modes_and_overruns() -> None:
    status = make_status()
    assert market_mode(status) == "PAPER · SIMULATED ×60"
    status.engine.feed = "replay:/data/btc-2024.csv"
    assert market_mode(status) == "PAPER · REPLAY btc-2024.csv ×60"
    status.engine.last_cycle_ms, status.engine.cycle_interval_s, status.engine.overruns = 802.0, 0.25, 7
    from foresight_tui.data_source import EngineState, View

    view = View(EngineState.RUNNING, status, 0.4, 100.0, None, 3)
    left, right = engine_row(view)
    overrun = next(p for p in left if "802ms" in p.text)
    assert overrun.text.startswith("⚠ cycle") and "7 overruns" in overrun.text and overrun.style == "warning"
    assert right[0].text == "heartbeat 0.4s"


def test_an_engine_that_cannot_persist_says_so_first_and_why() -> None:
    from foresight_tui.data_source import EngineState, View

    status = make_status()
    status.engine.persist_ok, status.engine.persist_error = False, "cannot persist state.json: No space left on device"
    left, _ = engine_row(View(EngineState.RUNNING, status, 0.4, 100.0, None, 3))
    disk = left[1]
    assert disk.text == "⚠ NOT PERSISTING: cannot persist state.json: No space left on device" and disk.style == "error"
    narrow = text(fit(engine_row(View(EngineState.RUNNING, status, 0.4, 100.0, None, 3)), 60))
    assert "NOT PERSISTING" in narrow  # shortened, never dropped before the cycle and pid
    status.engine.persist_ok, status.engine.persist_error = True, None
    assert not any("PERSIST" in p.text for p in engine_row(View(EngineState.RUNNING, status, 0.4, 100.0, None, 3))[0])


def paused_by_a_trip():
    from foresight_tui.data_source import EngineState, View

    status = make_status()
    paused_by_a_risk_trip(status)
    return View(EngineState.PAUSED, status, 0.4, 100.0, None, 3)


def test_at_80_columns_the_intent_row_keeps_why_entries_are_paused() -> None:
    from pathlib import Path

    from foresight_tui.header_lines import intent_row

    line = text(fit(intent_row(paused_by_a_trip(), Path("/srv/foresight/state"), []), 78))
    assert "ENGINE PAUSED" in line and "2 paused" in line
    assert "TRIPPED" in line and "streak" in line and "r resumes" in line
    assert "overrides: 3" in line  # the long override list gives way first


def test_at_80_columns_the_code_row_keeps_files_changed_on_disk() -> None:
    from foresight_tui.header_lines import code_row, pending_part

    view = paused_by_a_trip()
    line = text(fit(code_row(view, 1, pending_part(view, 0)), 78))
    assert "changed on disk" in line and "last reload applied" in line and line.startswith("code v3-1a2b3c")


def test_a_replay_of_several_files_names_each_on_the_header_within_80_columns() -> None:
    from foresight_tui.data_source import EngineState, View

    status = make_status()
    status.engine.feed = "replay:/srv/d1/prices.csv,/srv/d2/ETH.csv"
    assert market_mode(status) == "PAPER · REPLAY prices.csv, ETH.csv ×60"
    line = text(fit(engine_row(View(EngineState.RUNNING, status, 0.4, 100.0, None, 3)), 80))
    assert line.startswith("PAPER · REPLAY prices.csv, ETH.csv ×60") and len(line) == 80
    status.engine.feed = "replay:BTC.csv,ETH.csv,SOL.csv,a-very-long-name-of-a-recording-2026-01.csv"
    assert market_mode(status) == "PAPER · REPLAY BTC.csv, ETH.csv +2 ×60"
    status.engine.feed = "replay:/data/a-very-long-name-of-a-recording-2026-01.csv"
    assert market_mode(status) == "PAPER · REPLAY a-very-long-name-of-a-r….csv ×60"
