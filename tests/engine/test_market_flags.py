"""The market's command line: the maker's quotes as flags set them, and bad flags refused with what to do."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine.cli import build_parser
from engine.config import EngineConfig
from engine.market.makers import FAIR, describe, maker
from engine.market.market_flags import config_fields
from engine.market.quotes import SLOW, quote, true_prob_up
from engine.market_setup import maker_for


def config_of(*flags: str) -> EngineConfig:
    args = build_parser().parse_args(["engine", "--state-dir", "/tmp/unused", *flags])
    return EngineConfig(state_dir=Path("/tmp/unused"), feed=args.feed, speed=args.speed, assets=tuple(args.assets), **config_fields(args))


def test_the_fair_maker_quotes_fair_value_plus_half_the_spread_and_the_fee() -> None:
    rng = random.Random(0)
    at_open = quote(100.0, 100.0, 150.0, 0.55, rng, FAIR)
    assert (at_open.up_ask, at_open.down_ask) == (0.52, 0.52)
    fair = true_prob_up(100.0, 100.1, 60.0, 0.55)
    moved = quote(100.0, 100.1, 60.0, 0.55, rng, FAIR)
    assert moved.up_ask == pytest.approx(fair + 0.02, abs=1e-4) and moved.down_ask == pytest.approx(1 - fair + 0.02, abs=1e-4)


def test_flags_set_the_makers_parameters_and_the_slow_maker_stays_the_lagged_one() -> None:
    assert maker_for(config_of()) == FAIR
    assert maker_for(config_of("--maker", "slow")) == SLOW
    tuned = maker_for(config_of("--spread", "0.04", "--fee", "0", "--lag", "5", "--noise", "0.1"))
    assert (tuned.name, tuned.spread, tuned.fee, tuned.lag_s, tuned.noise) == ("fair", 0.04, 0.0, 5.0, 0.1)
    assert describe(tuned) == "fair (spread 0.04, fee 0, lag 5s, noise 0.1)"
    assert describe(SLOW) == "slow (spread 0, fee 0.01, lag 20s, noise 0.15, shrink 0.7)"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--feed", "binance", "--speed", "300"), "--feed binance trades live prices in real time: drop --speed"),
        (("--feed-url", "ws://127.0.0.1:1/stream"), "--feed-url is the live feed's: use it with --feed binance"),
        (("--feed", "binance", "--assets", "BTC", "--symbols", "ETH=ethusdt"), "--symbols names ETH, not among --assets (BTC)"),
        (("--stale-after", "0"), "--stale-after must be between 0.05 and 3600 seconds"),
    ],
)
def test_bad_market_flags_say_what_to_do(flags: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_of(*flags).validate()


def test_bad_maker_values_and_symbol_maps_are_refused() -> None:
    with pytest.raises(ValueError, match="--spread 2 is out of range: between 0 and 1"):
        maker("fair", spread=2.0)
    with pytest.raises(ValueError, match="unknown maker 'fast': use fair or slow"):
        maker("fast")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["engine", "--symbols", "BTC"])
