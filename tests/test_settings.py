"""Every setting on every kind of data: one series, a panel, grids. Each works (the same way on
one series as on a panel), warns, or is refused by one rule whose message names the setting
and the kind of data. The README's "Settings on every kind of data" table is this one."""
import warnings

import numpy as np
import pandas as pd
import pytest

import windwidgets as ww
from windwidgets.config import describe

KINDS = ("one series", "panel", "grids")
WORKS = "works"
GRIDS = r"does not apply to grids: a model that reads grids \(such as the convlstm\) forecasts every cell"



class Per(dict):
    """A value that differs by kind of data: {kind: value}."""


class Together(dict):
    """Settings tried together: {name: value}."""


# setting -> (value, {kind: outcome}); an outcome is "works", ("warns", regex) or ("refused", regex)
MATRIX = {
    "target": ("speed", {"grids": ("refused", GRIDS)}),
    "covariates": ("pressure", {"grids": ("refused", GRIDS)}),
    "future_covariates": ("temperature", {"grids": ("refused", GRIDS)}),
    "static_covariates": ("height", {kind: ("refused", r"`static_covariates` \('height'\) hold one value per series of "
                                                      r"a panel, but `series` is None") for kind in ("one series", "grids")}),
    "window": (4, {}),
    "horizon": (2, {}),
    "val_fraction": (0.3, {}),
    "scaler": ("minmax", {}),
    "calendar": (True, {"grids": ("refused", GRIDS)}),
    "season": (12, {}),
    "task": ("classify", {"one series": ("refused", r"task='classify' reads \(sequences, labels\)"),
                          "panel": ("refused", r"task='classify' reads \(sequences, labels\)"),
                          "grids": ("refused", r"task='classify' takes data=\(sequences, labels\); got a ndarray")}),
    "series": ("turbine", {"grids": ("refused", GRIDS)}),
    "series_scaling": ("series", {"one series": ("warns", r"without `series=` the data is one series"),
                                  "grids": ("warns", r"without `series=` the data is one series")}),
    "time": ("stamp", {"grids": ("refused", GRIDS)}),
    "time_unit": (Per({"one series": Together(time="seconds", time_unit="s"),
                       "panel": Together(time="seconds", time_unit="s"), "grids": Together(time_unit="s")}),
                  {"grids": ("refused", r"`time_unit` \('s'\) says what the numbers of a time column count, but "
                                        r"`time` names none")}),
    "freq": ("1h", {"grids": ("refused", r"`freq` \('1h'\) regularises timestamps, but the data's index holds "
                                         r"positions")}),
    "fill": ("ffill", {}),
    "fill_limit": (Per({"one series": Together(fill="ffill", fill_limit="3h"),
                        "panel": Together(fill="ffill", fill_limit="3h"),
                        "grids": Together(fill="ffill", fill_limit=3)}), {}),
    "bounds": (Per({"one series": {"speed": (0, None)}, "panel": {"speed": (0, None)}, "grids": {"0:0:0": (0, 1)}}),
               {}),
    "model": (Per({"one series": "gru", "panel": "gru", "grids": "convlstm"}), {}),
    "hidden_size": (3, {}),
    "num_layers": (2, {}),
    "dropout": (0.1, {}),
    "bidirectional": (True, {}),
    "nonlinearity": ("relu", {kind: ("warns", r"model '(lstm|convlstm)' does not read nonlinearity='relu'")
                              for kind in KINDS}),
    "bias": (False, {}),
    "options": (Per({"one series": Together(model="cnn_lstm", options={"kernel_size": 3}),
                     "panel": Together(model="cnn_lstm", options={"kernel_size": 3}),
                     "grids": Together(options={"kernel_size": 1})}), {}),
    "ensemble": (2, {}),
    "residual": (True, {"grids": ("refused", r"`residual=True` wraps forecasters of a table's rows; it does not "
                                             r"apply to grids")}),
    "normalize": ("window", {"grids": ("refused", r"`normalize='window'` wraps forecasters of a table's rows; it "
                                                  r"does not apply to grids")}),
    "epochs": (2, {}),
    "mode": ("sequence", {"grids": ("refused", r"`mode='sequence'` is not a way 'convlstm' can learn")}),
    "batch_size": (8, {}),
    "chunk": (8, {kind: ("refused", r"`chunk` \(8\) shapes the chunks of mode='sequence', but this fit learns in "
                                    r"mode 'window'") for kind in KINDS}),
    "free_steps": (2, {kind: ("refused", r"`free_steps` \(2\) shapes the chunks of mode='sequence'") for kind in KINDS}),
    "forecast_steps": (6, {}),
    "loss": ("mae", {}),
    "quantiles": (Together(loss="quantile", quantiles=[0.1, 0.5, 0.9]),
                  {"grids": ("refused", r"`loss='quantile'` \(quantiles=\(0.1, 0.5, 0.9\)\) learns quantiles of a "
                                        r"table's targets; it does not apply to grids")}),
    "lr": (1e-2, {}),
    "clip_grad": (None, {}),
    "patience": (1, {}),
    "min_delta": (Per({kind: Together(patience=1, min_delta=0.05) for kind in KINDS}), {}),
    "lr_factor": (Per({kind: Together(patience=1, lr_factor=0.1) for kind in KINDS}), {}),
    "refit": (True, {}),
    "stateful": (True, {"panel": ("refused", r"mode 'stateful' carries the state through one series .* a panel of "
                                             r"2 series \(series='turbine'\)")}),
    "device": ("cpu", {}),
    "threads": (1, {}),
    "seed": (3, {}),
    "live": ("text", {}),
}


def data_of(kind: str):
    """Tiny data of each kind, and the settings it always needs."""
    if kind == "grids":
        return ww.datasets.grid(n=60, size=4), dict(model="convlstm")
    wind = ww.datasets.wind(days=5)[["speed", "temperature", "pressure"]]
    table = wind.rename_axis("stamp").reset_index()
    table["seconds"] = table["stamp"].astype("int64") // 10**6  # the same times as epoch seconds
    parts = [table.assign(turbine="T1", height=80.0)]  # height: a static covariate, one value per turbine
    if kind == "panel":
        parts.append(table.assign(turbine="T2", speed=table["speed"] * 1.2, height=100.0))
    panel = dict(series="turbine") if kind == "panel" else {}
    return pd.concat(parts, ignore_index=True), dict(target="speed", time="stamp", **panel)


BASE = dict(window=6, hidden_size=4, num_layers=1, epochs=1, batch_size=16, live=False)


def test_the_matrix_names_every_setting():
    assert set(MATRIX) == set(describe()), "add the new setting to MATRIX (and the README's table)"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(MATRIX))
def test_each_setting_on_each_kind_of_data(name, kind):
    value, outcomes = MATRIX[name]
    value = value[kind] if isinstance(value, Per) else value
    data, needs = data_of(kind)
    settings = {**BASE, **needs, **(value if isinstance(value, Together) else {name: value})}
    outcome = outcomes.get(kind, WORKS)
    if outcome == WORKS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # works without a word of doubt
            warnings.filterwarnings("ignore", message="MAPE")
            run = ww.train(data, **settings)
        assert np.isfinite(run.history["train_loss"]).all()
        recorded = run.config.to_dict()
        for key, expected in settings.items():  # the run records what it was given
            section = next(s for s in recorded.values() if key in s)
            assert section[key] == expected or key == "bounds", key  # (bounds' pairs are recorded as lists)
        return
    verdict, pattern = outcome
    if verdict == "warns":
        with pytest.warns(UserWarning, match=pattern):
            ww.train(data, **settings)
    else:
        with pytest.raises(ww.WindwidgetsError, match=pattern):
            ww.train(data, **settings)


def table_markdown() -> str:
    """The README's table: a row per setting, a column per kind of data."""
    lines = ["| setting | one series | panel (`series=`) | grids (convlstm) |", "|---|---|---|---|"]
    for name, (_, outcomes) in MATRIX.items():
        cells = []
        for kind in KINDS:
            outcome = outcomes.get(kind, WORKS)
            cells.append(outcome if outcome == WORKS else f"{outcome[0]}")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
