"""A state directory resumed on another feed: its open bets never settle on another market's prices.

Every command defaults to one state directory, so a replay and then `--feed binance` (or the
simulated market) share one book unless the engine tells them apart.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.engine_proc import EngineProcess, ctl, run_engine

ALWAYS_ENTER = Path(__file__).parent / "fixtures" / "always_enter"
START = 1_798_761_600  # 2027-01-01 00:00 UTC: a recording far from the simulated market's clock


def recording(path: Path, points: int = 400, step: int = 15) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{START + i * step},1,1,1,{2_000.0 + i:.1f},1" for i in range(points)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_open_bets_made_on_a_replay_are_not_settled_on_another_feed(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    eth = recording(tmp_path / "ETH.csv")
    engine = EngineProcess(state_dir, "--feed", f"replay:{eth}", "--assets", "ETH", "--strategies-path", str(ALWAYS_ENTER)).start()
    try:
        engine.wait_for(lambda s: any(x.position is not None for x in s.slots), timeout=20, what="a bet on the replay")
    finally:
        assert engine.stop() == 0
    before = json.loads((state_dir / "status.json").read_text())["stats"]

    refused = run_engine(state_dir, "--feed", "sim", "--assets", "ETH", "--max-cycles", "3", "--quiet")
    assert refused.returncode == 2, refused.stderr
    assert f"--feed replay:{eth.name}" in refused.stderr and "--feed sim" in refused.stderr and "--state-dir" in refused.stderr
    after = json.loads((state_dir / "status.json").read_text())["stats"]
    assert after == before  # nothing settled

    # On its own recording it goes on.
    assert run_engine(state_dir, "--feed", f"replay:{eth}", "--assets", "ETH", "--max-cycles", "3", "--quiet").returncode == 0


def test_a_book_without_open_bets_goes_on_with_the_new_feeds_market_afresh(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    eth = recording(tmp_path / "ETH.csv")
    assert ctl(state_dir, "--queue", "pause").returncode == 0  # no bets
    first = run_engine(state_dir, "--feed", f"replay:{eth}", "--assets", "ETH", "--max-cycles", "5", "--quiet")
    assert first.returncode == 0, first.stderr
    replayed = json.loads((state_dir / "status.json").read_text())
    assert replayed["engine"]["sim_time"] >= START

    again = run_engine(state_dir, "--feed", "sim", "--assets", "ETH", "--max-cycles", "2", "--quiet")
    assert again.returncode == 0, again.stderr
    status = json.loads((state_dir / "status.json").read_text())
    assert status["engine"]["sim_time"] < START  # the simulated market's own clock, not the recording's
    eth_5m = next(s for s in status["slots"] if s["id"] == "ETH-5m")
    assert abs(eth_5m["price"] - 2_000.0) > 50  # the simulated ETH, not the recording's last price
    said = (state_dir / "events.jsonl").read_text()
    assert f"made on --feed replay:{eth.name}" in said and "afresh on --feed sim" in said
