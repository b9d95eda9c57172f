"""Saying when a model is out of its depth: inputs far outside their training range, and a
validation loss many times the training loss (issue 23)."""
import warnings

import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.train.depth import DepthWarning, loss_message, outside

TINY = dict(hidden_size=8, num_layers=1, epochs=2, window=12, live=False)


def test_outside_counts_training_deviations_beyond_the_range():
    train = np.column_stack([np.arange(10.0), np.zeros(10), np.arange(10.0)])  # (rows, columns)
    spread = np.std(np.arange(10.0))  # 2.87
    names = ["a", "flat", "b"]
    far = outside(train, np.array([[9.0 + 7 * spread, 0.5, 3.0], [0.0, 0.0, np.nan]]), names)
    assert far == {"a": pytest.approx(7.0)}  # the flat column's 0.5 and the missing value are no news
    far = outside(train, np.array([[4.0, 8.0, -6 * spread]]), names)
    assert list(far.items()) == [("flat", 8.0), ("b", pytest.approx(6.0))]  # furthest first; flat in units of 1
    assert outside(train, train, names) == {}


def test_loss_message_needs_a_large_ratio_and_a_loss_that_matters():
    assert "is 25 times the training loss" in loss_message(0.16, 4.0)
    assert loss_message(1e-5, 1e-3) is None  # a clean fit validating at a hundred times: still tiny
    assert loss_message(0.5, 2.0) is None
    assert loss_message(float("nan"), 2.0) is None


def drifting(rows: int = 400) -> pd.DataFrame:
    """A target that follows an input whose last fifth moves far above anything before."""
    rng = np.random.default_rng(0)
    drive = rng.normal(0, 1, rows)
    drive[int(rows * 0.8):] += 40.0  # a sensor that drifts in the validation period
    steady = rng.normal(0, 1, rows)
    target = np.convolve(steady, np.ones(5) / 5, mode="same") + 0.01 * drive
    index = pd.date_range("2024-01-01", periods=rows, freq="5min", name="time")
    return pd.DataFrame({"y": target, "drive": drive, "steady": steady}, index=index)


def test_fit_backtest_and_forecast_warn_of_inputs_far_outside_their_training_range():
    data = drifting()
    with pytest.warns(DepthWarning, match=r"the validation rows: input column\(s\) lie far outside their "
                                          r"training range.*: drive \(3\d\)"):
        run = ww.train(data, target="y", future_covariates=["drive", "steady"], **TINY)
    assert "drive" in run.trainer.progress.warning
    assert "warning=the validation rows: input column(s) lie far outside" in repr(run)  # the Run's summary
    with pytest.warns(DepthWarning, match=r"the backtest's rows: .*drive \(3\d\)"):
        evaluation = run.evaluate(steps=4)
    assert len(evaluation.warnings) == 1 and "drive" in evaluation.warnings[0]
    assert "warning: the backtest's rows" in repr(evaluation) and "warning:" in repr(evaluation.backtest)
    future = data[["drive", "steady"]].iloc[:5].set_axis(pd.date_range(data.index[-1], periods=6, freq="5min")[1:])
    with pytest.warns(DepthWarning, match=r"the future covariates of this forecast: .*drive"):
        run.forecast(5, future=future.assign(drive=100.0))


def test_nothing_is_said_where_the_inputs_stay_in_range():
    data = drifting()
    data["drive"] = np.random.default_rng(1).normal(0, 1, len(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DepthWarning)
        run = ww.train(data, target="y", future_covariates=["drive", "steady"], **TINY)
        assert run.evaluate(steps=4).warnings == []
        assert run.trainer.progress.warning is None
