"""How one engine process is configured (from the command line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.paths import shipped_strategies_dir
from engine.slots import DEFAULT_ASSETS, DEFAULT_WINDOWS


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
    notify: tuple[str, ...] = ()  # apprise URLs (engine/alerts.py)

    @property
    def step_s(self) -> float:
        """Market seconds that pass in one cycle."""
        return self.cycle_interval_s * self.speed

    def validate(self) -> None:
        if not 0.001 <= self.cycle_interval_s <= 3600:
            raise ValueError("--cycle-interval must be between 0.001 and 3600 seconds")
        if not 0 < self.speed <= 100_000:
            raise ValueError("--speed must be above 0 and at most 100000")
        if not self.strategies_path.is_dir():
            raise ValueError(f"--strategies-path {self.strategies_path} is not a directory")
