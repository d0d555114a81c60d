"""A risk limit, against a real engine: it trips at the right bet, holds across a kill -9, and
only an operator's resume lets entries through again."""

from __future__ import annotations

import json
from pathlib import Path

from engine.cli import main
from engine.contract.control_writer import ControlWriter
from engine.contract.models import EVENTS_FILE, RiskLimits
from tests.support.engine_proc import EngineProcess, ctl
from tests.support.ledger_rows import FASTER, ledger_rows, trip_rows

LIMIT = 5.0  # dollars below the P&L's peak: the first losing $5 bet reaches it


def first_cycle_at_drawdown(rows: list, limit: float) -> tuple[int, float]:
    """Replaying the ledger by hand: the first cycle whose resolutions leave P&L `limit` below its peak."""
    pnl = peak = 0.0
    by_cycle: dict[int, float] = {}
    for row in sorted((r for r in rows if r["outcome"] in ("won", "lost")), key=lambda r: (r["resolved_cycle"], r["id"])):
        by_cycle[row["resolved_cycle"]] = by_cycle.get(row["resolved_cycle"], 0.0) + row["pnl"]
    for cycle, change in sorted(by_cycle.items()):
        pnl += change
        peak = max(peak, pnl)
        if peak - pnl >= limit - 1e-9:
            return cycle, round(peak - pnl, 6)
    raise AssertionError("the ledger never reaches the drawdown")


def events(state_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (state_dir / EVENTS_FILE).read_text().splitlines() if line.strip()]


def test_max_drawdown_trips_at_the_right_bet_survives_a_kill9_and_waits_for_a_resume(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    ControlWriter(state_dir, tool="test").update(lambda c: setattr(c, "risk", RiskLimits(max_drawdown=LIMIT)))
    engine = EngineProcess(state_dir, fast=FASTER).start()
    tripped = engine.wait_for(lambda s: s.risk.tripped is not None, timeout=30, what="the drawdown limit to trip").risk.tripped
    assert tripped is not None and tripped.limit == "max_drawdown" and tripped.threshold == LIMIT
    assert "new entries paused" in tripped.message
    told = ctl(state_dir, "status")
    assert told.returncode == 0 and f"risk     TRIPPED max_drawdown: {tripped.message}" in told.stdout, told.stdout
    assert "foresight ctl risk resume" in told.stdout
    cycle, figure = first_cycle_at_drawdown(ledger_rows(state_dir), LIMIT)
    assert (tripped.cycle, tripped.figure) == (cycle, figure)

    engine.kill9()
    engine = EngineProcess(state_dir, fast=FASTER).start()
    status = engine.wait_cycles(15)  # three 5-minute windows: entries would have happened
    assert status.risk.tripped is not None and status.risk.tripped.id == tripped.id
    assert status.engine.state == "paused"
    assert not [r for r in ledger_rows(state_dir) if r["entered_cycle"] > tripped.cycle], "an entry after the trip"
    trips = trip_rows(state_dir)
    assert [(t["trip_id"], t["limit_name"], t["cleared_at"]) for t in trips] == [(tripped.id, "max_drawdown", None)]

    # A hand-written resume naming another trip resumes nothing, and says so (once), naming the trip.
    ControlWriter(state_dir, tool="test").update(lambda c: setattr(c, "risk_resume", "not-this-trip"))
    status = engine.wait_cycles(3)
    assert status.risk.tripped is not None and status.engine.state == "paused"
    said = [e for e in events(state_dir) if "not-this-trip" in e["message"]]
    assert len(said) == 1 and said[0]["kind"] == "warning" and tripped.id in said[0]["message"], said

    # Raising the limit is not a resume (and keeps the next losses from tripping it again).
    assert main(["ctl", "--state-dir", str(state_dir), "risk", "set", "max_drawdown=1000"]) == 0  # in process: quicker
    assert engine.wait_cycles(2).risk.tripped is not None
    done = ctl(state_dir, "resume")
    assert done.returncode == 0, done.stderr
    engine.wait_for(lambda s: s.risk.tripped is None, what="the trip cleared")
    engine.wait_for(lambda s: any(r["entered_cycle"] > tripped.cycle for r in ledger_rows(state_dir)),
                    timeout=20, what="an entry after the resume")  # fmt: skip
    cleared = trip_rows(state_dir)[0]
    assert cleared["cleared_at"] and "ctl" in cleared["cleared_by"]
    assert engine.stop() == 0


def test_risk_limits_are_refused_whole_before_anything_is_written(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    bad = ctl(state_dir, "risk", "set", "max_daily_loss=20", "max_consecutive_losses=2.5")
    assert bad.returncode == 2 and "max_consecutive_losses" in bad.stderr
    assert not (state_dir / "control.json").exists()
    unknown = ctl(state_dir, "risk", "unset", "max_loss")
    assert unknown.returncode == 2 and "max_daily_loss, max_consecutive_losses" in unknown.stderr


def test_a_rebuilt_control_file_keeps_the_risk_limits_in_force(tmp_path: Path) -> None:
    """control.json gone (or refused): the writer rebuilds from status.json, limits included."""
    from engine.contract.fileio import atomic_write_model
    from engine.contract.models import SCHEMA_VERSION, CodeStatus, EngineInfo, RiskStatus, Status, utc_now_iso

    state_dir = tmp_path / "state"
    state_dir.mkdir()
    engine = EngineInfo(pid=1, host="h", started_at=utc_now_iso(), boot_id="b", state="running", cycle=1,
                        cycle_interval_s=1.0, last_cycle_ms=1.0)  # fmt: skip
    limits = {"max_consecutive_losses": 6, "max_drawdown": 50.0}
    status = Status(schema_version=SCHEMA_VERSION, written_at=utc_now_iso(), engine=engine,
                    code=CodeStatus(version="v"), risk=RiskStatus(limits=limits))  # fmt: skip
    atomic_write_model(state_dir / "status.json", Status.model_validate_json(status.model_dump_json()), durable=False)
    written = ControlWriter(state_dir, tool="test").set_paused(True).control
    assert written.risk == RiskLimits(max_consecutive_losses=6, max_drawdown=50.0)
