"""The engine never resumes with less than it had (engine/trading/state.py, engine/trading/state_damage.py,
engine/trading/slot_coverage.py): each way the state files can be short of what was persisted is
refused at start with the file, the line and what to do; --accept-loss starts from what
can be proved, keeps the damaged journal aside and writes the loss to events.jsonl.

One real engine run (kill -9 with positions in its journal) is the template each case copies.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.contract.models import STATE_FILE
from engine.events import read_events
from engine.trading.state import TradingState, journal_path, load_state
from tests.support.engine_proc import EngineProcess, run_engine

EAGER = {"snipe_window_s": 900, "edge_margin": 0.0, "confidence_threshold": 0.5}
# 3 market seconds a cycle: a 5-minute window lasts 100 cycles, so the journal after a
# window's checkpoint holds the entries made since, for seconds of wall time.
SLOW = ("--speed", "60", "--cycle-interval", "0.05")


def positions(state: TradingState) -> dict[str, str]:
    return {slot_id: slot.position.side for slot_id, slot in state.slots.items() if slot.position is not None}


def journal_holds_more(state_dir: Path) -> bool:
    """The journal carries positions the checkpoint does not: losing it would lose them."""
    resumed = load_state(state_dir / STATE_FILE).value
    checkpoint = TradingState.model_validate_json((state_dir / STATE_FILE).read_bytes())
    records = journal_path(state_dir / STATE_FILE).read_bytes().count(b"\n") - 1
    return (
        resumed is not None
        and records >= 3
        and len(positions(resumed)) >= 3
        and bool(set(positions(resumed)) - set(positions(checkpoint)))
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("resume")
    state_dir = base / "state"
    for _attempt in range(3):
        engine = EngineProcess(state_dir, fast=SLOW).start()
        try:
            engine.writer.update(lambda c: c.overrides.update(EAGER))
            engine.wait_for(lambda s: s.stats.open_positions >= 3 and journal_holds_more(state_dir), timeout=30, what="positions in the journal")
        finally:
            engine.kill9()
        if journal_holds_more(state_dir):  # a checkpoint may have landed between the look and the kill
            return state_dir
    raise AssertionError("no kill landed with positions in the journal")


def copy_of(template: Path, tmp_path: Path) -> Path:
    state_dir = tmp_path / "state"
    shutil.copytree(template, state_dir, symlinks=True)
    return state_dir


def start(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_engine(state_dir, "--quiet", *SLOW, "--max-cycles", "1", *args)


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("foresight engine: state in ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr  # one line, no traceback
    return lines[0]


def test_a_damaged_journal_line_is_refused_then_accepted_as_a_loss(template: Path, tmp_path: Path) -> None:
    state_dir = copy_of(template, tmp_path)
    journal = journal_path(state_dir / STATE_FILE)
    lines = journal.read_bytes().split(b"\n")
    assert len(lines) >= 5  # header, three lines or more, the end
    lines[2] = b'{"cycle": 12, "sim_ti'  # damage early in the journal, lines follow it
    damaged = b"\n".join(lines)
    journal.write_bytes(damaged)
    before = TradingState.model_validate_json((state_dir / STATE_FILE).read_bytes())

    message = refusal(start(state_dir))
    assert f"{journal} line 3: not valid JSON" in message
    assert "--accept-loss" in message and "Restore state.json and state.journal" in message
    assert journal.read_bytes() == damaged  # nothing truncated away

    accepted = start(state_dir, "--accept-loss")
    assert accepted.returncode == 0, accepted.stderr
    kept = list(state_dir.glob("state.journal.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged
    losses = [e for e in read_events(state_dir / "events.jsonl") if e["kind"] == "loss"]
    assert len(losses) == 1 and "line 3" in losses[0]["message"] and kept[0].name in losses[0]["message"]
    after = load_state(state_dir / STATE_FILE).value
    # From what is proved: the checkpoint and the whole line before the damage; then one cycle run.
    assert after is not None and after.cycle == before.cycle + 2
    # No position of what was proved is dropped: each is still open or resolved.
    assert after.resolved + len(positions(after)) >= before.resolved + len(positions(before))


def test_a_missing_state_json_with_its_journal_is_refused(template: Path, tmp_path: Path) -> None:
    state_dir = copy_of(template, tmp_path)
    (state_dir / STATE_FILE).unlink()
    message = refusal(start(state_dir))
    assert "state.json: is missing, but state.journal is there" in message
    assert journal_path(state_dir / STATE_FILE).exists()


def test_a_missing_journal_is_refused(template: Path, tmp_path: Path) -> None:
    state_dir = copy_of(template, tmp_path)
    journal_path(state_dir / STATE_FILE).unlink()
    message = refusal(start(state_dir))
    assert "state.journal: is missing, but state.json (the checkpoint at cycle" in message
    assert "the positions entered or settled in them" in message


def test_a_newer_state_version_is_refused_not_downgraded(template: Path, tmp_path: Path) -> None:
    state_dir = copy_of(template, tmp_path)
    path = state_dir / STATE_FILE
    raw = json.loads(path.read_bytes())
    raw["state_version"], raw["margin_account"] = 99, {"held": 12.5}
    path.write_text(json.dumps(raw))
    written = path.read_bytes()
    message = refusal(start(state_dir))
    assert "state_version 99 is newer than this engine's 1" in message
    assert path.read_bytes() == written  # not rewritten as version 1, the field kept


def test_a_negative_cycle_is_refused(template: Path, tmp_path: Path) -> None:
    state_dir = copy_of(template, tmp_path)
    path = state_dir / STATE_FILE
    raw = json.loads(path.read_bytes())
    raw["cycle"] = -5
    path.write_text(json.dumps(raw))
    message = refusal(start(state_dir))
    assert "state.json: cycle: Input should be greater than or equal to 0" in message


def test_a_narrower_slot_set_with_open_positions_is_refused_with_the_list(template: Path, tmp_path: Path) -> None:
    state_dir = copy_of(template, tmp_path)
    held = positions(load_state(state_dir / STATE_FILE).value)  # type: ignore[arg-type]
    assets = sorted({slot_id.split("-")[0] for slot_id in held})
    keep = assets[:1]
    message = refusal(start(state_dir, "--assets", ",".join(keep)))
    orphaned = sorted(slot_id for slot_id in held if slot_id.split("-")[0] not in keep)
    assert f"{len(orphaned)} open position(s) on slots this --assets/--windows does not trade" in message
    for slot_id in orphaned:
        assert f"{slot_id} ({held[slot_id]} $" in message
    assert re.search(r"window ends \d{4}-\d\d-\d\d \d\d:\d\d UTC", message), message
    # The flags it proposes keep what was asked and add what the positions need, and resume them.
    proposed = re.search(r"restart with --assets (\S+) --windows (\S+)", message)
    assert proposed is not None, message
    assert proposed.group(1).split(",")[: len(keep)] == keep
    assert start(state_dir, "--assets", proposed.group(1), "--windows", proposed.group(2)).returncode == 0
