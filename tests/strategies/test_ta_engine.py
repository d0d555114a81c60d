"""ta_engine against values computed by hand (the arithmetic is in the comments)."""

import math

import pytest

from strategies import ta_engine


def test_sma_of_last_period_values() -> None:
    # (2 + 3 + 4) / 3 = 3
    assert ta_engine.sma([1.0, 2.0, 3.0, 4.0], 3) == pytest.approx(3.0)


def test_ema_seeded_with_sma() -> None:
    # alpha = 2/(2+1) = 2/3; seed = SMA(1, 2) = 1.5; 1.5 + 2/3 * (3 - 1.5) = 2.5
    assert ta_engine.ema([1.0, 2.0, 3.0], 2) == pytest.approx(2.5)
    # alpha = 2/(3+1) = 0.5; seed = (2 + 4 + 6)/3 = 4; 4 + 0.5*(8 - 4) = 6; 6 + 0.5*(4 - 6) = 5
    assert ta_engine.ema((2.0, 4.0, 6.0, 8.0, 4.0), 3) == pytest.approx(5.0)


def test_ema_with_exactly_period_values_is_their_mean_and_period_one_is_last() -> None:
    assert ta_engine.ema([1.0, 5.0], 2) == pytest.approx(3.0)
    assert ta_engine.ema([1.0, 5.0, 9.0], 1) == pytest.approx(9.0)


def test_rsi_wilder_by_hand() -> None:
    # prices 1,2,1,2,3 -> changes +1,-1,+1,+1, period 2
    # seed: gain (1+0)/2 = 0.5, loss (0+1)/2 = 0.5
    # +1: gain (0.5*1 + 1)/2 = 0.75,  loss (0.5*1 + 0)/2 = 0.25
    # +1: gain (0.75*1 + 1)/2 = 0.875, loss (0.25*1 + 0)/2 = 0.125
    # RS = 0.875/0.125 = 7; RSI = 100 - 100/(1+7) = 87.5
    assert ta_engine.rsi([1.0, 2.0, 1.0, 2.0, 3.0], 2) == pytest.approx(87.5)


def test_rsi_extremes() -> None:
    rising = [float(x) for x in range(1, 30)]
    assert ta_engine.rsi(rising, 14) == 100.0
    assert ta_engine.rsi(rising[::-1], 14) == 0.0
    assert ta_engine.rsi([5.0] * 20, 14) == 50.0


def test_rate_of_change_by_hand() -> None:
    # 110/100 - 1 = 0.1
    assert ta_engine.rate_of_change([100.0, 110.0]) == pytest.approx(0.1)
    # 60/50 - 1 = 0.2 (period 2 skips the 40)
    assert ta_engine.rate_of_change([50.0, 40.0, 60.0], 2) == pytest.approx(0.2)
    assert ta_engine.rate_of_change([0.0, 1.0]) is None


def test_log_returns_and_realised_volatility_by_hand() -> None:
    e = math.e
    # ln(e/1) = 1, ln(1/e) = -1
    assert ta_engine.log_returns([1.0, e, 1.0]) == pytest.approx((1.0, -1.0))
    # returns (1, -1): mean 0, squares 1 + 1 = 2, / (n-1 = 1) = 2 -> sqrt(2)
    assert ta_engine.realised_volatility([1.0, e, 1.0]) == pytest.approx(math.sqrt(2.0))
    # returns (1, -1, 1) with window 2 -> the last two, (-1, 1) -> sqrt(2) again
    assert ta_engine.realised_volatility([1.0, e, 1.0, e], window=2) == pytest.approx(math.sqrt(2.0))
    # a constant growth rate has no volatility
    assert ta_engine.realised_volatility([1.0, 2.0, 4.0, 8.0]) == pytest.approx(0.0)
    # the same, of log returns given as they are: (1, -1) -> sqrt(2); fewer than 2 -> None
    assert ta_engine.sample_volatility((1.0, -1.0)) == pytest.approx(math.sqrt(2.0))
    assert ta_engine.sample_volatility((0.5,)) is None


def test_annualise_volatility_by_hand() -> None:
    # a quarter-year step: vol * sqrt(4) = 0.1 * 2 = 0.2
    year = ta_engine.SECONDS_PER_YEAR
    assert year == 31_536_000.0  # 365 * 24 * 3600
    assert ta_engine.annualise_volatility(0.1, year / 4) == pytest.approx(0.2)
    # 1e-4 per second: 1e-4 * sqrt(31_536_000) = 1e-4 * 5615.69... = 0.561569...
    assert ta_engine.annualise_volatility(1e-4, 1.0) == pytest.approx(0.5615692, rel=1e-6)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (ta_engine.sma, ([1.0, 2.0], 3)),
        (ta_engine.ema, ([1.0, 2.0], 3)),
        (ta_engine.ema, ([], 1)),
        (ta_engine.rsi, ([1.0, 2.0, 3.0], 3)),
        (ta_engine.rate_of_change, ([1.0], 1)),
        (ta_engine.realised_volatility, ([1.0, 2.0],)),
        (ta_engine.realised_volatility, ([],)),
    ],
)
def test_short_input_returns_none(call, args) -> None:
    assert call(*args) is None


def test_short_input_to_log_returns_is_empty() -> None:
    assert ta_engine.log_returns([]) == ()
    assert ta_engine.log_returns([3.0]) == ()


@pytest.mark.parametrize("period", [0, -1, 2.0, True, None])
@pytest.mark.parametrize("func", [ta_engine.sma, ta_engine.ema, ta_engine.rsi, ta_engine.rate_of_change])
def test_bad_period_raises(func, period) -> None:
    with pytest.raises(ValueError):
        func([1.0, 2.0, 3.0], period)


@pytest.mark.parametrize(
    ("call", "args", "kwargs"),
    [
        (ta_engine.log_returns, ([1.0, 0.0, 2.0],), {}),
        (ta_engine.log_returns, ([1.0, -2.0],), {}),
        (ta_engine.log_returns, ([1.0, math.nan],), {}),
        (ta_engine.realised_volatility, ([1.0, 2.0, 3.0],), {"window": 0}),
        (ta_engine.annualise_volatility, (0.1, 0.0), {}),
        (ta_engine.annualise_volatility, (0.1, -1.0), {}),
        (ta_engine.annualise_volatility, (-0.1, 1.0), {}),
        (ta_engine.annualise_volatility, (0.1, 1.0), {"year_s": 0.0}),
    ],
)
def test_nonsensical_arguments_raise(call, args, kwargs) -> None:
    with pytest.raises(ValueError):
        call(*args, **kwargs)


class _Carrying(tuple):
    log_returns: tuple[float, ...]


def _carrying(prices: list[float], returns: tuple[float, ...]) -> _Carrying:
    seq = _Carrying(prices)
    seq.log_returns = returns
    return seq


def test_log_returns_carried_by_the_prices_are_taken_when_they_fit() -> None:
    prices = [1.0, math.e, 1.0]
    assert ta_engine.log_returns(_carrying(prices, (0.25, 0.5))) == (0.25, 0.5)  # taken as they are
    assert ta_engine.realised_volatility(_carrying(prices, (0.25, 0.5))) == pytest.approx(math.sqrt(0.03125))
    # Another length, or a non-finite one, and they are measured from the prices again.
    assert ta_engine.log_returns(_carrying(prices, (0.25,))) == pytest.approx((1.0, -1.0))
    assert ta_engine.log_returns(_carrying(prices, (0.25, math.nan))) == pytest.approx((1.0, -1.0))
    with pytest.raises(ValueError):
        ta_engine.log_returns(_carrying([1.0, 0.0, 2.0], (math.nan, math.nan)))
    assert ta_engine.all_positive_finite(_carrying(prices, (1.0, -1.0)))
    assert not ta_engine.all_positive_finite(_carrying([1.0, 0.0, 2.0], (math.nan, math.nan)))
    assert not ta_engine.all_positive_finite(_carrying([math.inf, 1.0], (-math.inf,)))
