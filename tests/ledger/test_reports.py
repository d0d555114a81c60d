"""`foresight ctl trades` and `ctl performance` against a ledger whose figures are computed by hand."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from engine.cli import main
from engine.contract.ledger_read import parse_since
from engine.contract.ledger_schema import LEDGER_FILE, SCHEMA
from tests.support.engine_proc import ctl

DAY = 86400.0
D1 = 1_796_083_200.0  # 2026-12-01T00:00:00Z
COLUMNS = "book, slot, asset, window, side, stake, ask, shares, edge, entered_at, window_end, resolved_at, outcome, pnl, code_version, params_hash, boot_id"


def bet(slot: str, entered: float, outcome: str | None, pnl: float | None, edge: float | None, version: str = "v1") -> tuple:
    asset, window = slot.split("-")
    resolved = entered + 300 if outcome else None
    return ("b", slot, asset, window, "up", 5.0, 0.5, 10.0, edge, entered, entered + 300, resolved, outcome, pnl, version, "h" * 16, "boot")


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("books")
    db = sqlite3.connect(directory / LEDGER_FILE)
    db.executescript(SCHEMA)
    rows = [
        bet("BTC-5m", D1 + 1000, "won", 5.0, 0.1),
        bet("ETH-15m", D1 + 1500, "lost", -5.0, None),
        bet("BTC-5m", D1 + 2000, "lost", -5.0, 0.3, version="v2"),
        bet("BTC-5m", D1 + DAY, "won", 2.5, 0.2, version="v2"),  # the next day
        bet("ETH-15m", D1 + DAY + 500, None, None, 0.4),  # open
        bet("SOL-5m", D1 + 100, "void", 0.0, 0.9),  # its state was discarded: in no report
    ]
    db.executemany(f"INSERT INTO bets ({COLUMNS}) VALUES ({', '.join('?' * 17)})", rows)
    db.execute(
        "INSERT INTO risk_trips (trip_id, book, day, limit_name, figure, threshold, message, tripped_at, cycle, boot_id)"
        " VALUES ('t1', 'b', '2026-12-01', 'max_drawdown', 10, 10, 'max_drawdown=10 reached', ?, 9, 'boot')",
        (D1 + 2300,),
    )
    db.commit()
    db.close()
    return directory


def run_json(state_dir: Path, *args: str) -> dict:
    """`foresight ctl ARGS --json` in this process (the subprocess path is tested below)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["ctl", "--state-dir", str(state_dir), *args, "--json"])
    assert code == 0
    return json.loads(out.getvalue())


def test_performance_by_asset_and_in_total_match_the_hand_computed_figures(state_dir: Path) -> None:
    report = run_json(state_dir, "performance", "--by", "asset")
    by_key = {g["key"]: g for g in report["groups"]}
    assert set(by_key) == {"BTC", "ETH"}
    # BTC: +5, -5, +2.5 -> cumulative 5, 0, 2.5: peak 5, deepest 0.
    assert by_key["BTC"] == {"key": "BTC", "count": 3, "wins": 2, "losses": 1, "win_rate": 0.666667, "pnl": 2.5,
                             "staked": 15.0, "avg_edge": 0.2, "max_drawdown": 5.0}  # fmt: skip
    assert by_key["ETH"]["count"] == 1 and by_key["ETH"]["avg_edge"] is None and by_key["ETH"]["max_drawdown"] == 5.0
    # All, in resolution order: +5, -5 (ETH), -5, +2.5 -> 5, 0, -5, -2.5: a 10-dollar drawdown.
    assert report["total"] == {"key": "total", "count": 4, "wins": 2, "losses": 2, "win_rate": 0.5, "pnl": -2.5,
                               "staked": 20.0, "avg_edge": 0.2, "max_drawdown": 10.0}  # fmt: skip


def test_performance_by_day_and_version_and_since(state_dir: Path) -> None:
    days = run_json(state_dir, "performance", "--by", "day")
    assert [(g["key"], g["count"], g["pnl"]) for g in days["groups"]] == [("2026-12-01", 3, -5.0), ("2026-12-02", 1, 2.5)]
    versions = run_json(state_dir, "performance", "--by", "version")
    assert [(g["key"], g["count"], g["pnl"]) for g in versions["groups"]] == [("v1", 2, 0.0), ("v2", 2, -2.5)]
    recent = run_json(state_dir, "performance", "--since", "2026-12-02")
    assert recent["total"]["count"] == 1 and recent["total"]["pnl"] == 2.5


def test_trades_filters_newest_first(state_dir: Path) -> None:
    every = run_json(state_dir, "trades")
    assert every["count"] == 5  # the void bet is not a trade
    assert [t["entered_at"] for t in every["trades"]] == sorted((t["entered_at"] for t in every["trades"]), reverse=True)
    open_only = run_json(state_dir, "trades", "--open")
    assert [(t["slot"], t["outcome"], t["pnl"]) for t in open_only["trades"]] == [("ETH-15m", None, None)]
    btc = run_json(state_dir, "trades", "--asset", "btc", "--window", "5m", "--limit", "2")
    assert [t["pnl"] for t in btc["trades"]] == [2.5, -5.0]
    # A duration counts back from the ledger's latest time (the open bet's entry, next day + 500 s).
    last_hour = run_json(state_dir, "trades", "--since", "1h")
    assert [t["slot"] for t in last_hour["trades"]] == ["ETH-15m", "BTC-5m"]
    text = ctl(state_dir, "trades", "--open")
    assert text.returncode == 0 and "ETH-15m" in text.stdout and "1 bets (1 open)" in text.stdout


def test_bad_input_is_refused_with_what_to_type(state_dir: Path, tmp_path: Path) -> None:
    bad = ctl(state_dir, "trades", "--since", "last tuesday")
    assert bad.returncode == 2 and "expected a duration" in bad.stderr
    missing = ctl(tmp_path / "nowhere", "performance")
    assert missing.returncode == 1 and "foresight engine --state-dir" in missing.stderr
    huge = ctl(state_dir, "trades", "--limit", str(2**63))
    assert huge.returncode == 2 and "--limit" in huge.stderr and "Traceback" not in huge.stderr, huge.stderr
    for option in ("--since", "--asset", "--window"):  # a script's unset "$VAR" is not "no filter"
        empty = ctl(state_dir, "trades", option, "")
        assert empty.returncode == 2 and f"{option} is empty" in empty.stderr, empty.stderr


def test_a_damaged_ledger_is_named_as_damaged_with_what_to_do(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / LEDGER_FILE).write_bytes(b"not a database, whatever its name says" * 200)
    done = ctl(state_dir, "trades")
    assert done.returncode == 1
    assert "is damaged" in done.stderr and "move it aside" in done.stderr and "events.jsonl" in done.stderr
    assert "permissions" not in done.stderr  # not the advice for this


def test_the_days_view_sums_each_day_with_its_risk_trips(state_dir: Path) -> None:
    db = sqlite3.connect(f"file:{state_dir / LEDGER_FILE}?mode=ro", uri=True)
    days = db.execute("SELECT day, bets, wins, pnl, staked, risk_trips FROM days ORDER BY day").fetchall()
    db.close()
    assert days == [
        ("2026-12-01", 3, 1, -5.0, 15.0, "max_drawdown: max_drawdown=10 reached"),
        ("2026-12-02", 1, 1, 2.5, 5.0, None),
    ]


def test_since_parses_durations_and_dates() -> None:
    assert parse_since("1h30m", 10_000.0) == 10_000.0 - 5400
    assert parse_since("2026-12-01", None) == D1
    assert parse_since("2026-12-01T01:00+01:00", None) == D1


def test_a_filter_that_matches_nothing_says_what_the_ledger_holds(state_dir: Path) -> None:
    # "0 bets" for a typo would read as "no trades there": the operator is told what exists.
    typo = ctl(state_dir, "trades", "--asset", "BTX")
    assert typo.returncode == 0 and "0 bets" in typo.stdout
    assert "no bet of asset BTX in the ledger; it holds BTC, ETH" in typo.stdout
    window = ctl(state_dir, "trades", "--window", "7m")
    assert "no bet of window 7m in the ledger; it holds 15m, 5m" in window.stdout
    assert run_json(state_dir, "trades", "--window", "5M")["count"] == 3  # as the asset, any case
    # A filter that exists, with nothing in the range asked, is an honest empty table.
    quiet = ctl(state_dir, "trades", "--asset", "ETH", "--window", "5m")
    assert "0 bets" in quiet.stdout and "no bet of" not in quiet.stdout
