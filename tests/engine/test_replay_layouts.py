"""Replays of recorded prices in the layouts people have them, from small files the tests write."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engine.market.feeds import PROFILES, ReplayError, ReplayFeed
from engine.market.replay_layouts import KNOWN_ASSETS
from tests.support.engine_proc import EngineProcess, run_engine

T0 = 1_798_761_600  # 2027-01-01 00:00:00 UTC, a multiple of 15 minutes


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ohlcv(path: Path, stamp, closes: list[float], step: int = 60, skip: range = range(0)) -> Path:  # type: ignore[no-untyped-def]
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{stamp(T0 + i * step)},{c},{c * 1.001},{c * 0.999},{c},12.5" for i, c in enumerate(closes) if i not in skip]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ohlcv_with_iso_epoch_seconds_or_milliseconds_gives_each_close_at_its_bar_end(tmp_path: Path) -> None:
    closes = [100.0, 101.0, 102.0, 103.0]
    for stamp in (iso, lambda t: str(t), lambda t: str(t * 1000)):
        feed = ReplayFeed(ohlcv(tmp_path / "BTC.csv", stamp, closes), ["BTC"])
        assert feed.layouts[tmp_path / "BTC.csv"] == "ohlcv"
        # The close of the bar that opens at T0 is the price at T0 + 60, never before.
        assert feed.start_time() == T0 + 60
        assert feed.prices_at(T0 + 60) == {"BTC": 100.0}
        assert feed.prices_at(T0 + 179) == {"BTC": 101.0}
        assert feed.prices_at(T0 + 10_000) == {"BTC": 103.0}
        assert feed.gaps == {"BTC": []}


def test_binance_kline_exports_in_milliseconds_or_microseconds(tmp_path: Path) -> None:
    for scale in (1000, 1_000_000):
        path = tmp_path / "ETHUSDT-1m-2027-01.csv"
        rows = []
        for i, close in enumerate([3400.0, 3410.5, 3399.0]):
            start = (T0 + 60 * i) * scale
            rows.append(f"{start},3400.0,3420.0,3390.0,{close},812.3,{start + 60 * scale - 1},2761000.1,1500,400.1,1360000.2,0")
        path.write_text("\n".join(rows) + "\n")
        feed = ReplayFeed(path, ["BTC", "ETH"][1:])  # the asset from the file's name
        assert feed.layouts[path] == "binance-kline"
        assert feed.prices_at(T0 + 125) == {"ETH": 3410.5}


def test_several_files_give_several_assets_and_the_project_layout_still_reads(tmp_path: Path) -> None:
    btc = ohlcv(tmp_path / "btcusdt_1m.csv", str, [100.0, 101.0, 102.0])
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(f"timestamp,asset,price\n{iso(T0)},ETH,10\n{iso(T0 + 90)},ETH,11\n{T0 + 30},SOL,200\n")
    feed = ReplayFeed([btc, mixed], ["BTC", "ETH", "SOL"])
    assert feed.prices_at(T0 + 100) == {"BTC": 100.0, "ETH": 11.0, "SOL": 200.0}
    with pytest.raises(ReplayError, match=r"no prices for ETH, SOL: add a file for each, or name the assets it has with --assets"):
        ReplayFeed([btc], ["BTC", "ETH", "SOL"])
    with pytest.raises(ReplayError, match=r"neither its name nor --assets says which"):
        ReplayFeed([ohlcv(tmp_path / "prices.csv", str, [1.0, 2.0])], ["BTC", "ETH"])


def test_a_gap_is_reported_and_makes_the_asset_stale_across_it_without_interpolating(tmp_path: Path) -> None:
    # One-minute bars with bars 10 to 39 missing: a 31-minute hole.
    closes = [100.0 + i for i in range(60)]
    feed = ReplayFeed(ohlcv(tmp_path / "BTC.csv", iso, closes, skip=range(10, 40)), ["BTC"])
    assert feed.gaps["BTC"] == [(T0 + 10 * 60, T0 + 41 * 60)]
    (note,) = feed.gap_notes()
    assert "replay BTC: 1 gap" in note and "31.0m from 2027-01-01 00:10:00 UTC" in note and "not interpolated" in note
    inside = T0 + 25 * 60
    assert feed.prices_at(inside) == {"BTC": 109.0}  # the last recorded close holds, nothing made up
    assert feed.health(inside).assets["BTC"].state == "stale"
    assert feed.health(T0 + 5 * 60).assets["BTC"].state == "connected"
    assert feed.health(T0 + 45 * 60).assets["BTC"].state == "connected"
    assert feed.health(T0 + 3 * 3600).assets["BTC"].state == "stale"  # the recording ended


def test_rows_out_of_time_order_and_times_recorded_twice_are_reported_not_fixed_silently(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    rows = [f"{T0 + 60 * i},BTC,{100 + i}" for i in range(10)]
    rows[3], rows[6] = rows[6], rows[3]  # two rows swapped: 6 comes before 3
    rows.append(f"{T0 + 120},BTC,999")  # a time already recorded, at another price
    rows.append(f"{T0 + 240},BTC,104")  # ... and one at the same price (an overlap, harmless)
    path.write_text("timestamp,asset,price\n" + "\n".join(rows) + "\n")
    feed = ReplayFeed(path, ["BTC"])
    notes = feed.health(T0).notes
    order = next(n for n in notes if "out of time order" in n)
    assert "replay BTC: 3 rows out of time order" in order and f"first at {path}:6" in order and "replayed in time order" in order
    twice = next(n for n in notes if "recorded twice" in n)
    assert "replay BTC: 1 time recorded twice with different prices" in twice
    assert "2027-01-01 00:02:00 UTC" in twice and "102 then 999" in twice and "the later one is used" in twice
    assert feed.prices_at(T0 + 120) == {"BTC": 999.0}
    assert feed.prices_at(T0 + 180) == {"BTC": 103.0}  # the swapped rows in their places


def test_overlapping_files_of_the_same_prices_say_nothing(tmp_path: Path) -> None:
    january = ohlcv(tmp_path / "BTC-a.csv", iso, [100.0 + i for i in range(30)])
    again = ohlcv(tmp_path / "BTC-b.csv", iso, [100.0 + i for i in range(30)])
    assert ReplayFeed([january, again], ["BTC"]).health(T0).notes == []


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        ("timestamp,open,high,low,close,volume\n{t},1,1,1,1,1\n{t2},1,1,1,abc,1\n", ":3:", "close 'abc' is not a number"),
        ("timestamp,open,high,low,close,volume\n{t},1,1,1,1,1\nyesterday,1,1,1,1,1\n", ":3:", "timestamp 'yesterday' is neither ISO 8601"),
        ("timestamp,open,high,low,close,volume\n{t},1,1,1,-4,1\n", ":2:", "close '-4' is not a positive price"),
        ("timestamp,open,high,low,close,volume\n{t},1,1\n", ":2:", "expected at least 5 columns, got 3"),
        ("when,bid,ask\n{t},1,2\n", ":1:", "names no time column"),
        ("\n\ntime,price,size\n{t},1,2\n", ":3:", "is no layout replay reads"),
        ("{t},1.5\n", ":1:", "rows without a header must be"),
    ],
)
def test_a_file_that_cannot_be_read_says_which_line_and_why(tmp_path: Path, text: str, where: str, why: str) -> None:
    path = tmp_path / "BTC.csv"
    path.write_text(text.format(t=T0, t2=T0 + 60))
    with pytest.raises(ReplayError) as error:
        ReplayFeed(path, ["BTC"])
    assert f"BTC.csv{where}" in str(error.value) and why in str(error.value)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"\xc9\x00\xff binary", ":1:"),
        (b"timestamp,asset,price\n2026-01-01T00:00:00Z,BTC,100\n2026-01-01T00:01:00Z,BTC,1\xe9\n", ":3:"),
    ],
)
def test_a_file_that_is_not_text_says_which_line(tmp_path: Path, data: bytes, where: str) -> None:
    path = tmp_path / "BTC.csv"
    path.write_bytes(data)
    with pytest.raises(ReplayError) as error:
        ReplayFeed(path, ["BTC"])
    assert f"BTC.csv{where} not UTF-8 text" in str(error.value)


def test_the_engine_names_the_bad_line_and_exits_2_writing_nothing(tmp_path: Path) -> None:
    path = tmp_path / "BTC.csv"
    path.write_text(f"timestamp,open,high,low,close,volume\n{T0},1,1,1,1,1\n{T0 + 60},1,1,1,x,1\n")
    state = tmp_path / "state"
    run = run_engine(state, "--feed", f"replay:{path}", "--assets", "BTC")
    assert run.returncode == 2
    assert f"{path}:3: close 'x' is not a number" in run.stderr
    assert not (state / "state.json").exists()


def test_the_engine_says_what_it_reads_and_what_it_read(tmp_path: Path) -> None:
    # A recording of months takes seconds to read: the operator sees the wait begin and end.
    btc = ohlcv(tmp_path / "BTC.csv", iso, [100.0 + i for i in range(500)])
    run = run_engine(tmp_path / "state", "--feed", f"replay:{btc}", "--assets", "BTC", "--max-cycles", "1")
    assert run.returncode == 0, run.stderr
    reading = run.stderr.index(f"replay: reading {btc}")
    read = run.stderr.index("replay: read 500 prices of BTC (2027-01-01 00:01:00 UTC to 2027-01-01 08:20:00 UTC) in ")
    assert reading < read


def test_the_engine_replays_two_files_warns_of_the_gap_and_shows_the_asset_stale_in_it(tmp_path: Path) -> None:
    # 15-second bars (a cycle of the fast clock is 15 market seconds), BTC's with a 10-minute hole.
    btc = ohlcv(tmp_path / "BTC.csv", iso, [100.0 + i for i in range(200)], step=15, skip=range(20, 60))
    eth = ohlcv(tmp_path / "ETHUSDT.csv", lambda t: str(t * 1000), [10.0 + i / 10 for i in range(200)], step=15)
    engine = EngineProcess(tmp_path / "state", "--feed", f"replay:{btc},{eth}", "--assets", "BTC,ETH").start()
    try:
        first = engine.first_status
        assert first is not None and first.feed.kind == "replay" and first.engine.maker.startswith("fair")
        assert any("replay BTC: 1 gap" in w for w in first.control.warnings)
        gap = engine.wait_for(lambda s: s.feed.assets["BTC"].state == "stale", timeout=20, what="BTC stale in its gap")
        assert gap.feed.assets["ETH"].state == "connected"
        assert {s.id: s.feed for s in gap.slots} == {"BTC-5m": "stale", "BTC-15m": "stale", "ETH-5m": "connected", "ETH-15m": "connected"}
        assert all(s.position is None for s in gap.slots if s.asset == "BTC")
        engine.wait_for(lambda s: s.feed.assets["BTC"].state == "connected", timeout=20, what="BTC back after its gap")
    finally:
        engine.stop()


@pytest.mark.parametrize(
    "text",
    [
        "timestamp,open,high,low,close,volume\n{t},1,1,1,100,1\n{t2},1,1,1,101,1\n",
        "{t},BTC,100\n{t2},BTC,101\n",
        "{t}000,1,1,1,100,1,{t2}000,1,1,1,1,0\n{t2}000,1,1,1,101,1,{t3}000,1,1,1,1,0\n",
    ],
)
def test_a_file_saved_with_a_byte_order_mark_reads_as_without(tmp_path: Path, text: str) -> None:
    # Excel's "CSV UTF-8" starts the file with U+FEFF.
    path = tmp_path / "BTC.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.format(t=T0, t2=T0 + 60, t3=T0 + 120).encode())
    feed = ReplayFeed(path, ["BTC"])
    assert feed.prices_at(T0 + 10_000) == {"BTC": 101.0}


@pytest.mark.parametrize(
    ("stamp", "why"),
    [
        ("1e20", "timestamp '1e20' is out of range"),
        ("99999999999", "timestamp '99999999999' is out of range"),
        ("100000000000", "timestamp '100000000000' is out of range"),
        ("1969-07-20T20:17:00Z", "timestamp '1969-07-20T20:17:00Z' is out of range"),
        ("2150-01-01", "timestamp '2150-01-01' is out of range"),
    ],
)
def test_a_timestamp_outside_2000_to_2100_is_refused_with_the_file_and_line(tmp_path: Path, stamp: str, why: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(f"{T0},BTC,100\n{stamp},BTC,101\n")
    with pytest.raises(ReplayError) as error:
        ReplayFeed(path, ["BTC"])
    assert f"prices.csv:2: {why}" in str(error.value)
    assert "2000" in str(error.value) and "2100" in str(error.value)


def test_the_engine_refuses_an_absurd_timestamp_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(f"{T0},BTC,100\n1e20,BTC,101\n")
    run = run_engine(tmp_path / "state", "--feed", f"replay:{path}", "--assets", "BTC")
    assert run.returncode == 2
    assert f"{path}:2: timestamp '1e20' is out of range" in run.stderr


def test_epoch_seconds_milliseconds_and_microseconds_of_the_same_instant_read_alike(tmp_path: Path) -> None:
    for scale in (1, 1000, 1_000_000):
        path = tmp_path / "prices.csv"
        path.write_text(f"{946_684_800 * scale},BTC,1\n{(T0 + 60) * scale},BTC,2\n")
        feed = ReplayFeed(path, ["BTC"])
        assert feed.start_time() == 946_684_800  # 2000-01-01, the first instant read
        assert feed.prices_at(T0 + 60) == {"BTC": 2.0}


def test_a_file_named_after_another_asset_than_the_one_configured_is_refused(tmp_path: Path) -> None:
    btc = ohlcv(tmp_path / "BTCUSDT-1m.csv", str, [97_000.0, 97_010.0])
    run = run_engine(tmp_path / "state", "--feed", f"replay:{btc}", "--assets", "ETH", "--max-cycles", "1")
    assert run.returncode == 2, run.stderr
    assert f"{btc}: its name says it holds BTC, not among --assets (ETH)" in run.stderr
    assert "--assets BTC" in run.stderr
    assert KNOWN_ASSETS == set(PROFILES)  # every asset the engine knows is one a file name may name
    # A name that tells nothing still takes the only configured asset.
    feed = ReplayFeed(ohlcv(tmp_path / "prices.csv", str, [3_400.0, 3_401.0]), ["ETH"])
    assert feed.prices_at(T0 + 120) == {"ETH": 3_401.0}


def test_a_fifo_as_a_replay_file_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "BTC.csv"
    os.mkfifo(fifo)
    run = run_engine(tmp_path / "state", "--feed", f"replay:{fifo}", "--assets", "BTC", timeout=20)
    assert run.returncode == 2
    assert f"--feed replay: {fifo} is not a regular file (a FIFO)" in run.stderr


def test_a_fifo_given_to_the_replay_feed_itself_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "BTC.csv"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: _capture(outcome, lambda: ReplayFeed(fifo, ["BTC"])), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # blocked in open(): a writer lets it go, so the test ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
        pytest.fail("reading a FIFO blocked until a writer came")
    assert outcome and isinstance(outcome[0], ReplayError) and "not a regular file" in str(outcome[0])


def _capture(into: list[BaseException], call) -> None:  # type: ignore[no-untyped-def]
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
        into.append(exc)


def test_a_comma_in_a_path_reads_the_whole_path_and_a_missing_piece_says_commas_separate(tmp_path: Path) -> None:
    comma = ohlcv(tmp_path / "BTC,jan.csv", str, [100.0, 101.0])
    run = run_engine(tmp_path / "state", "--feed", f"replay:{comma}", "--assets", "BTC", "--max-cycles", "1")
    assert run.returncode == 0, run.stderr
    assert "replay: read 2 prices of BTC" in run.stderr
    missing = f"{tmp_path}/BTC,feb.csv"
    run = run_engine(tmp_path / "state2", "--feed", f"replay:{missing}", "--assets", "BTC")
    assert run.returncode == 2
    assert f"--feed replay: no file {tmp_path}/BTC" in run.stderr
    assert "commas separate the files" in run.stderr
