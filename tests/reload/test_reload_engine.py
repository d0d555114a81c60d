"""Hot reload in a real engine subprocess running from a temporary copy of the strategies.

The trading state is built once by a fast engine (positions, cooldowns, resolved
bets, P&L), then each test resumes it in an engine whose market clock runs at
wall speed and which is paused: between two statuses taken a few seconds apart,
away from any window boundary, nothing may change the trading state but a bug.
So "equal before and after the reload" is exact.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from engine.contract.models import Ack, Status
from engine.contract.paths import shipped_strategies_dir
from engine.trading.state import TradingState
from tests.reload.helpers import STRATEGY_FILES, V2_REASON, append, line_of
from tests.support.engine_proc import EngineProcess

SLOW = ("--speed", "1", "--cycle-interval", "0.05")
BOUNDARY_S = 300.0  # every window (5m, 15m) ends on a multiple of this
QUIET_S = 15.0  # market seconds a scenario needs without a window end

NO_VOLATILITY = """

def sample_volatility(returns):
    return None
"""

INVALID_SIGNAL = """

import dataclasses as _dc

_evaluate_before = evaluate


def evaluate(view, params):
    decision = _evaluate_before(view, params)
    return None if decision is None else _dc.replace(decision, confidence=1.5)
"""

# Passes the smoke snapshot (history spaced 2.5 s) and fails in this engine (spaced 0.05 s).
RAISES_IN_THE_ENGINE = """

_evaluate_before = evaluate


def evaluate(view, params):
    if view.history_step_s < 1.0:
        raise RuntimeError("fails on the live market only")
    return _evaluate_before(view, params)
"""

NEW_PARAMETER = """

class Params(Params):
    max_spread: float = Field(0.07, ge=0.0, le=0.5, description="added by a reload")
"""


def _copy_strategies(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in STRATEGY_FILES:
        shutil.copyfile(shipped_strategies_dir() / name, target / name)
    return target


@pytest.fixture(scope="module")
def traded_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state directory with open positions, cooldowns, resolved bets and P&L."""
    if not all((shipped_strategies_dir() / name).is_file() for name in STRATEGY_FILES):
        pytest.skip("the shipped strategies are not there yet")
    base = tmp_path_factory.mktemp("traded")
    strategies = _copy_strategies(base / "strategies")
    state_dir = base / "state"
    for _ in range(5):
        # The slow (lagged) maker: against it the shipped strategy bets within seconds; the
        # fair maker leaves it no edge, so no positions to carry through the reloads.
        proc = EngineProcess(state_dir, "--strategies-path", str(strategies), "--maker", "slow").start()
        try:
            proc.wait_for(
                lambda s: s.stats.resolved >= 3 and s.stats.open_positions >= 2, timeout=60, what="trading"
            )
        finally:
            assert proc.stop() == 0, proc.log()[-2000:]
        state = _trading_state(state_dir)
        if any(slot["position"] for slot in state["slots"].values()):
            return state_dir
    pytest.fail("the fast engine never stopped with an open position")


@pytest.fixture
def live(traded_state: Path, tmp_path: Path):
    """A paused engine at wall-clock market speed on a copy of the traded state."""
    state_dir = tmp_path / "state"
    shutil.copytree(traded_state, state_dir)
    strategies = _copy_strategies(tmp_path / "strategies")
    proc = EngineProcess(state_dir, "--strategies-path", str(strategies), fast=SLOW)
    proc.start()
    result = proc.writer.set_paused(True)
    proc.wait_generation(result.control.generation, timeout=20)
    try:
        yield proc, strategies
    finally:
        proc.stop()


def _trading_state(state_dir: Path) -> dict:
    """What no reload may touch: positions, cooldowns, the win-rate buffer, P&L."""
    state = TradingState.model_validate_json((state_dir / "state.json").read_bytes())
    return {
        "slots": {
            slot_id: {
                "position": slot.position.model_dump() if slot.position else None,
                "cooldown_until": slot.cooldown_until,
                "window_start": slot.window_start,
                "open_price": slot.open_price,
            }
            for slot_id, slot in sorted(state.slots.items())
        },
        "results": list(state.results),
        "pnl": state.pnl,
        "staked": state.staked,
    }


def _wait_quiet(proc: EngineProcess) -> Status:
    """A status from which the next window end is at least QUIET_S market seconds away."""
    while True:
        status = proc.wait_cycles(1, timeout=20)
        left = BOUNDARY_S - status.engine.sim_time % BOUNDARY_S
        if left >= QUIET_S:
            return status
        time.sleep(left / status.engine.speed + 0.3)


def _command(proc: EngineProcess, kind: str, result: str | None = None) -> tuple[Ack, Status]:
    _, command = proc.writer.send_command(kind)  # type: ignore[arg-type]
    status = proc.wait_for(
        lambda s: any(a.id == command.id and (result is None or a.result == result) for a in s.control.acks),
        timeout=30,
        what=f"{kind} acknowledged {result or ''}",
    )
    return next(a for a in status.control.acks if a.id == command.id), status


def _scenario(proc: EngineProcess, kind: str = "reload", result: str | None = None) -> tuple[Ack, Status, Status]:
    """Run one command; the engine stays the same process, the trading state stays equal."""
    before = _wait_quiet(proc)
    state_before = _trading_state(proc.state_dir)
    ack, after = _command(proc, kind, result)
    after = proc.wait_cycles(1, timeout=20)
    state_after = _trading_state(proc.state_dir)
    assert after.engine.sim_time // BOUNDARY_S == before.engine.sim_time // BOUNDARY_S, "a window ended: inconclusive"
    assert after.engine.pid == before.engine.pid == proc.pid and proc.proc.poll() is None
    assert after.engine.boot_id == before.engine.boot_id
    assert after.engine.cycle > before.engine.cycle
    assert state_after == state_before
    assert before.stats.resolved == after.stats.resolved and before.stats.pnl == after.stats.pnl
    assert before.stats.win_rate == after.stats.win_rate
    return ack, before, after


def _reasons(status: Status) -> list[str]:
    return [slot.signal.reason for slot in status.slots if slot.signal is not None]


def _next_status(proc: EngineProcess, after: Status) -> Status:
    return proc.wait_for(lambda s: s.engine.cycle > after.engine.cycle + 1, timeout=20, what="later cycles")


# ------------------------------------------------------------------ applied


def test_changed_code_shows_in_the_next_signals(live) -> None:
    proc, strategies = live
    assert any(slot.position for slot in proc.status().slots), "the resumed state holds open positions"
    old = proc.status().code.version
    append(strategies / "strategy.py", V2_REASON)
    ack, before, after = _scenario(proc)
    assert ack.result == "applied", ack.detail
    assert after.code.version != old and after.code.last_reload.ok
    assert after.code.last_reload.changed == ["strategy"] and after.code.previous_version == old
    assert after.code.reloads == before.code.reloads + 1
    later = _next_status(proc, after)
    assert _reasons(later) and all(reason.startswith("v2: ") for reason in _reasons(later))
    assert not any(reason.startswith("v2: ") for reason in _reasons(before))
    events = (proc.state_dir / "events.jsonl").read_text()
    assert '"reload"' in events and after.code.version in events


def test_change_in_ta_engine_alone_reaches_the_decisions(live) -> None:
    proc, strategies = live
    assert _reasons(proc.wait_cycles(1))
    append(strategies / "ta_engine.py", NO_VOLATILITY)
    ack, _, after = _scenario(proc)
    assert ack.result == "applied", ack.detail
    assert after.code.last_reload.changed == ["ta_engine"]
    # strategy.py says "no opinion" without a volatility estimate: every signal is gone
    assert _reasons(_next_status(proc, after)) == []


def test_same_size_edit_in_the_same_second_is_loaded(live) -> None:
    proc, strategies = live
    path = strategies / "strategy.py"
    append(path, V2_REASON)
    ack, _, first = _scenario(proc)
    assert ack.result == "applied"
    stat = path.stat()
    path.write_text(path.read_text().replace('reason="v2: "', 'reason="v3: "'))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    ack, _, after = _scenario(proc)
    assert ack.result == "applied", ack.detail
    assert after.code.version != first.code.version
    later = _next_status(proc, after)
    assert _reasons(later) and all(reason.startswith("v3: ") for reason in _reasons(later))


def test_rollback_restores_the_old_behaviour(live) -> None:
    proc, strategies = live
    original = proc.status().code.version
    append(strategies / "strategy.py", V2_REASON)
    ack, _, _ = _scenario(proc)
    assert ack.result == "applied"
    ack, _, after = _scenario(proc, "rollback")
    assert ack.result == "applied", ack.detail
    assert after.code.version == original
    later = _next_status(proc, after)
    assert _reasons(later) and not any(reason.startswith("v2: ") for reason in _reasons(later))


def test_check_reports_changes_and_swaps_nothing(live) -> None:
    proc, strategies = live
    original = proc.status().code.version
    append(strategies / "momentum_strategy.py", "\n# an edit\n")
    ack, _, after = _scenario(proc, "check")
    assert ack.result == "applied" and "momentum_strategy" in ack.detail, ack.detail
    assert after.code.version == original and after.code.last_reload.kind == "check"


def test_a_new_parameter_appears_in_the_schema(live) -> None:
    proc, strategies = live
    assert "max_spread" not in proc.status().params.schema_["properties"]
    append(strategies / "strategy.py", NEW_PARAMETER)
    ack, _, after = _scenario(proc)
    assert ack.result == "applied", ack.detail
    later = _next_status(proc, after)
    assert later.params.schema_["properties"]["max_spread"]["default"] == 0.07
    assert later.params.values["max_spread"] == 0.07


# ----------------------------------------------------------------- rejected


@pytest.mark.parametrize(
    ("file", "text", "expected", "marker"),
    [
        ("strategy.py", "\ndef broken(:\n", "SyntaxError", "def broken(:"),
        ("momentum_strategy.py", "\nLATE = 1\nraise RuntimeError('at import')\n", "RuntimeError: at import", "raise RuntimeError"),
        ("strategy.py", "\ndel evaluate\n", "evaluate(view, params) is missing", None),
        ("strategy.py", INVALID_SIGNAL, "confidence=1.5", None),
    ],
    ids=["syntax-error", "import-time-exception", "missing-api", "invalid-signal"],
)
def test_broken_code_is_rejected_and_the_old_keeps_running(live, file: str, text: str, expected: str, marker: str | None) -> None:
    proc, strategies = live
    original = proc.status().code
    append(strategies / file, text)
    ack, _, after = _scenario(proc)
    assert ack.result == "rejected"
    assert expected in ack.detail and str(strategies) in ack.detail
    if marker is not None:
        assert f"{strategies / file}:{line_of(strategies / file, marker)}:" in ack.detail
    assert after.code.version == original.version
    assert [m.sha256 for m in after.code.modules] == [m.sha256 for m in original.modules]
    assert after.code.last_reload.ok is False and expected in after.code.last_reload.error
    assert _reasons(_next_status(proc, after))  # the old code still decides


def test_removed_function_is_gone(live) -> None:
    """ta_engine without a function strategy.py calls: a bare importlib.reload would keep the
    old function in the module and succeed; here the new module really lacks it."""
    proc, strategies = live
    path = strategies / "ta_engine.py"
    text = path.read_text()
    start = text.index("def annualise_volatility")
    end = text.find("\ndef ", start + 1)
    path.write_text(text[:start] + (text[end + 1 :] if end != -1 else ""))
    ack, _, after = _scenario(proc)
    assert ack.result == "rejected"
    assert "has no attribute 'annualise_volatility'" in ack.detail, ack.detail


# ------------------------------------------------------------- rolled back


def test_strategy_failing_after_the_swap_is_rolled_back(live) -> None:
    proc, strategies = live
    original = proc.status().code.version
    append(strategies / "strategy.py", RAISES_IN_THE_ENGINE)
    ack, _, after = _scenario(proc, "reload", result="rolled_back")
    assert "fails on the live market only" in ack.detail, ack.detail
    assert after.code.version == original
    assert after.code.last_reload.kind == "auto_rollback" and after.code.last_reload.ok is False
    later = _next_status(proc, after)
    assert _reasons(later) and all(slot.error is None for slot in later.slots)


# ------------------------------------------------------ parameters, repeats

NARROWER_EDGE_MARGIN = """

class Params(Params):
    edge_margin: float = Field(0.03, ge=0.0, le=0.1, description="narrowed by a reload")
"""


def test_an_override_the_new_code_refuses_is_dropped_with_a_warning(live) -> None:
    proc, strategies = live
    written = proc.writer.set_overrides({"edge_margin": 0.2, "stake": 7.0})
    status = proc.wait_generation(written.control.generation, timeout=20)
    assert status.params.values["edge_margin"] == 0.2
    append(strategies / "strategy.py", NARROWER_EDGE_MARGIN)
    ack, _, after = _scenario(proc)
    assert ack.result == "applied", ack.detail
    assert after.params.values["edge_margin"] == 0.03 and after.params.values["stake"] == 7.0
    assert after.control.applied.overrides == {"stake": 7.0}
    assert any("edge_margin" in warning for warning in after.control.warnings), after.control.warnings


def test_two_reloads_in_one_cycle_are_one_reload_both_acknowledged(live) -> None:
    from engine.contract.control_writer import new_command

    proc, strategies = live
    append(strategies / "strategy.py", V2_REASON)
    before = _wait_quiet(proc)
    first, second = new_command("reload"), new_command("reload")
    proc.writer.update(lambda c: setattr(c, "commands", [*c.commands, first, second]))
    after = proc.wait_for(
        lambda s: {first.id, second.id} <= {a.id for a in s.control.acks}, timeout=30, what="both acks"
    )
    acks = {a.id: a for a in after.control.acks}
    assert acks[first.id].result == acks[second.id].result == "applied"
    assert after.code.reloads == before.code.reloads + 1
