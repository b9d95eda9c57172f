"""Metrics left NaN are said once per call, naming the targets and series; a panel's
metrics keep one index shape (issue 22)."""
import warnings

import numpy as np
import pandas as pd
import pytest

from windwidgets.errors import WindwidgetsError
from windwidgets.forecast.backtest import METHODS, Backtest
from windwidgets.forecast.metrics import mase
from windwidgets.forecast.panel import PanelBacktest, PanelEvaluation

ORIGINS, STEPS = 6, 3


def backtest(targets=("speed", "power"), calm: bool = True, flat: bool = False, seed: int = 0) -> Backtest:
    """Forecasts of ``targets``: "power" comes to 0 kW in a calm; a ``flat`` series' power never changes."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(5.0, 10.0, size=(ORIGINS, STEPS, len(targets)))
    if calm and "power" in targets:
        truth[0, 0, targets.index("power")] = 0.0
    predictions = {m: truth + rng.normal(size=truth.shape) for m in METHODS}
    scale = np.ones(len(targets))
    if flat:
        scale[targets.index("power")] = 0.0  # the training part held one value
    index = pd.RangeIndex(40)
    return Backtest(truth, predictions, np.arange(20, 20 + ORIGINS), index, tuple(targets), scale)


def said(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


def test_mase_of_a_constant_target_is_explained_as_mape_is():
    with pytest.warns(UserWarning, match=r"MASE is skipped \(NaN\) for 'power': the training part repeats itself exactly .*"
                                         r"read MAE or sMAPE instead"):
        assert np.isnan(mase(np.ones(3), np.ones(3), 0.0, "power"))
    table, messages = said(lambda: backtest(flat=True).metrics())
    assert len(messages) == 1, messages
    assert messages[0].startswith("MAPE is skipped (NaN) for 'power' (1 of 18 true values lie near zero")
    assert ". MASE is skipped (NaN) for 'power':" in messages[0]
    assert np.isnan(table.loc[("power", "model"), "mase"]) and np.isfinite(table.loc[("speed", "model"), "mase"])


def panel(flat: str | None = None, targets=("speed", "power")) -> PanelBacktest:
    return PanelBacktest({key: backtest(targets, flat=key == flat, seed=k) for k, key in enumerate(["T1", "T2", "T3", "T4"])},
                         "turbine")


def test_a_four_series_two_target_panel_warns_once_per_call_naming_targets_and_series():
    bt = panel()
    table, messages = said(bt.metrics)
    assert len(messages) == 1, messages  # not one per series, target and method
    assert messages[0].startswith("MAPE is skipped (NaN) for 'power' in series 'T1', 'T2', 'T3', 'T4' (1 of 18 true values "
                                  "lie near zero")
    _, messages = said(lambda: bt.by_lead("mape", target="power"))
    assert len(messages) == 1 and "'power' in series 'T1', 'T2', 'T3', 'T4'" in messages[0]
    _, messages = said(lambda: PanelEvaluation(bt))
    assert len(messages) == 1


def test_a_panel_pooled_mase_leaves_out_a_constant_series_and_says_so():
    bt = panel(flat="T2")
    pooled, messages = said(bt.pooled)
    assert len(messages) == 1 and "MASE is skipped (NaN) for 'power' in series 'T2'" in messages[0]
    assert messages[0].endswith("the pooled MASE leaves out series 'T2'")
    assert np.isfinite(pooled.loc[("power", "model"), "mase"])
    others = [b._metrics([]).loc[("power", "model"), "mase"] for key, b in bt.by_series.items() if key != "T2"]
    assert pooled.loc[("power", "model"), "mase"] == pytest.approx(np.mean(others))  # equal origins: equal weights


@pytest.mark.parametrize("targets", [("speed",), ("speed", "power")])
def test_panel_metrics_keep_one_index_shape_and_take_a_target(targets):
    bt = panel(targets=targets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = bt.metrics()
        one = bt.metrics(target="speed")
    assert table.index.names == ["turbine", "target", "method"]
    assert len(table) == 4 * len(targets) * 3
    assert one.index.names == ["turbine", "target", "method"] and set(one.index.get_level_values("target")) == {"speed"}
    pd.testing.assert_frame_equal(one, table.xs("speed", level="target", drop_level=False))
    with pytest.raises(WindwidgetsError, match=r"`target` \('pwr'\) is not one of the targets: 'speed'"):
        bt.metrics(target="pwr")
