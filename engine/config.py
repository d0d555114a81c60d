"""How one engine process is configured (from the command line)."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from engine.contract.paths import shipped_strategies_dir
from engine.market.binance_symbols import checked_url, symbol_map
from engine.market.lag_buffer import lag_refusal
from engine.market.makers import maker
from engine.market.replay_layouts import not_regular
from engine.reload.guard import Budgets
from engine.trading.slots import DEFAULT_ASSETS, DEFAULT_WINDOWS, slot_set

FEEDS_HELP = "sim, binance (live trades; --feed-url, --symbols), or replay:FILE.csv[,FILE.csv...]"


def check_replay_files(files: tuple[Path, ...], *, several: bool) -> None:
    """Each file exists and is a regular file; `several`: the flag had commas, said when a
    piece of it is missing (a path holding a comma that is no file is split)."""
    for path in files:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            hint = " (commas separate the files of --feed replay:A.csv,B.csv)" if several else ""
            raise ValueError(f"--feed replay: no file {path}: {exc.strerror}{hint}") from None
        if not stat.S_ISREG(mode):
            raise ValueError(f"--feed replay: {path} is {not_regular(mode).removeprefix('it is ')}")


@dataclass(frozen=True)
class EngineConfig:
    state_dir: Path
    speed: float = 1.0
    cycle_interval_s: float = 1.0
    seed: int = 0
    feed: str = "sim"
    strategies_path: Path = shipped_strategies_dir()
    assets: tuple[str, ...] = DEFAULT_ASSETS
    windows: tuple[str, ...] = DEFAULT_WINDOWS
    max_cycles: int | None = None
    echo_events: bool = False
    probation_cycles: int = 3
    accept_loss: bool = False  # start from what can be proved when the journal is damaged (engine/trading/state_damage.py)
    # The market (docs/market.md): the live feed's options and the paper maker's parameters
    # (None: the named maker's own).
    feed_url: str | None = None
    symbols: tuple[tuple[str, str], ...] = ()
    stale_after_s: float = 10.0
    first_price_wait_s: float = 10.0
    maker: str = "fair"
    spread: float | None = None
    fee: float | None = None
    lag_s: float | None = None
    noise: float | None = None
    notify: tuple[str, ...] = ()  # apprise URLs (engine/ops/alerts.py)
    # Time budgets of strategy calls (engine/reload/guard.py); None: derived from the cycle interval.
    call_budget_s: float | None = None
    load_budget_s: float | None = None
    grace_s: float | None = None
    smoke_budget_s: float | None = None
    load_from_disk: bool = False  # start on the strategies directory, not the version that was running
    keep_versions: int = 10
    shadow_room: float = 0.8  # share of the cycle interval a cycle with a shadow may fill (engine/shadow/runner.py)

    @property
    def budgets(self) -> Budgets:
        return Budgets.for_interval(self.cycle_interval_s, self.call_budget_s, self.load_budget_s, self.grace_s, self.smoke_budget_s)

    @property
    def step_s(self) -> float:
        """Market seconds that pass in one cycle."""
        return self.cycle_interval_s * self.speed

    @property
    def replay_files(self) -> tuple[Path, ...]:
        """The files of a `replay:` feed (none for another feed)."""
        if not self.feed.startswith("replay:"):
            return ()
        spec = self.feed.removeprefix("replay:")
        if "," in spec and Path(spec.strip()).is_file():
            return (Path(spec.strip()),)  # one file whose name holds a comma
        return tuple(Path(p.strip()) for p in spec.split(",") if p.strip())

    def validate(self) -> None:
        if self.feed not in ("sim", "binance") and not self.feed.startswith("replay:"):
            raise ValueError(f"unknown feed {self.feed!r}: use {FEEDS_HELP}")
        if self.feed.startswith("replay:") and not self.replay_files:
            raise ValueError("--feed replay: names no file (e.g. --feed replay:prices.csv)")
        check_replay_files(self.replay_files, several="," in self.feed)
        slot_set(self.assets, self.windows)  # raises ValueError on an empty, malformed or repeated name
        if self.max_cycles is not None and self.max_cycles < 1:
            raise ValueError("--max-cycles must be at least 1")
        if not 0.001 <= self.cycle_interval_s <= 3600:
            raise ValueError("--cycle-interval must be between 0.001 and 3600 seconds")
        if not 0 < self.speed <= 100_000:
            raise ValueError("--speed must be above 0 and at most 100000")
        if self.feed == "binance" and self.speed != 1.0:
            raise ValueError(f"--feed binance trades live prices in real time: drop --speed (got {self.speed:g}, must be 1)")
        if self.feed_url is not None and self.feed != "binance":
            raise ValueError("--feed-url is the live feed's: use it with --feed binance")
        if self.feed_url is not None:
            checked_url(self.feed_url)
        quoting = maker(self.maker, spread=self.spread, fee=self.fee, lag_s=self.lag_s, noise=self.noise)  # raises ValueError on a bad value
        refusal = lag_refusal(quoting.lag_s, self.step_s)
        if refusal:
            raise ValueError(refusal)
        if self.probation_cycles < 0:
            raise ValueError("--probation-cycles must be at least 0")
        if not 0.05 <= self.stale_after_s <= 3600:
            raise ValueError("--stale-after must be between 0.05 and 3600 seconds")
        if not 0 <= self.first_price_wait_s <= 600:
            raise ValueError("--first-price-wait must be between 0 and 600 seconds")
        unknown = sorted({asset for asset, _ in self.symbols} - set(self.assets))
        if unknown:
            raise ValueError(f"--symbols names {', '.join(unknown)}, not among --assets ({','.join(self.assets)})")
        if self.feed == "binance":
            symbol_map(self.assets, dict(self.symbols))  # raises ValueError on two assets sharing a symbol
        _ = self.budgets  # raises ValueError on a budget out of range
        if not 0.05 <= self.shadow_room <= 1000:
            raise ValueError("--shadow-room must be between 0.05 and 1000 (a share of the cycle interval)")
        if self.keep_versions < 2:
            raise ValueError("--keep-versions must be at least 2")
        if not self.strategies_path.is_dir():
            raise ValueError(f"--strategies-path {self.strategies_path} is not a directory")
