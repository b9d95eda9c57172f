"""loss="quantile": one output per target and level, the median the point forecast, the learned
bands checked by coverage against the conformal ones."""
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import RunConfig
from windwidgets.magic_options import config_options
from windwidgets.train.losses import Pinball

TINY = dict(window=12, hidden_size=8, num_layers=1, epochs=3, live=False, lr=1e-2)


def noisy_sine(n: int = 400, seed: int = 0, noise: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"y": np.sin(2 * np.pi * t / 24) + rng.normal(0, noise, n)},
                        index=pd.date_range("2024-01-01", periods=n, freq="h"))


@pytest.fixture(scope="module")
def run():
    return ww.train(noisy_sine(), loss="quantile", horizon=2, **TINY)


def test_the_learned_band_covers_about_as_the_conformal_one_does():
    # N(0, 0.3) noise around a sine: the true 10-90% band is 2 x 1.2816 x 0.3 = 0.77 wide and
    # covers 80% of the next values; measured over 6 seeds: learned 0.76-0.80, conformal 0.79-0.83
    run = ww.train(noisy_sine(1000), loss="quantile", window=24, hidden_size=8, num_layers=1, epochs=12,
                   live=False, lr=1e-2, val_fraction=0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the first origins have no conformal band yet
        result = run.backtest(steps=1, stride=1, interval=0.8)
    learned, conformal = result.quantile_coverage(0.1, 0.9), result.coverage
    width = float(np.nanmean(result.quantiles[0.9] - result.quantiles[0.1]))
    print(f"coverage of 0.8 on {len(result.origins)} held-out rows: learned 0.1-0.9 band {learned:.3f} "
          f"(width {width:.3f}), conformal interval {conformal:.3f} (width {np.nanmean(result.upper - result.lower):.3f})")
    assert 0.7 <= learned <= 0.9 and 0.7 <= conformal <= 0.9
    assert abs(learned - conformal) < 0.1
    assert 0.6 < width < 1.0
    assert 0.02 < np.mean(result.truth < result.quantiles[0.1]) < 0.2  # each tail near its 10%
    assert 0.02 < np.mean(result.truth > result.quantiles[0.9]) < 0.2


def test_the_median_is_the_point_forecast_and_the_levels_never_cross(run):
    assert run.config.train.quantiles == (0.1, 0.5, 0.9)
    for frame in (run.forecast(5), run.forecast(5, interval=0.8), run.forecast(5, start=300),
                  run.forecast(5, keep_state=True)):
        assert list(frame.columns[-3:]) == ["y_q0.1", "y_q0.5", "y_q0.9"]
        assert frame.attrs["quantiles"] == (0.1, 0.5, 0.9)
        first = frame.iloc[:2]  # the first block (horizon 2): the model's own levels
        np.testing.assert_array_equal(first["y_q0.5"], first["y"])
        assert (first["y_q0.1"] <= first["y_q0.5"]).all() and (first["y_q0.5"] <= first["y_q0.9"]).all()
        assert (first["y_q0.9"] > first["y_q0.1"]).all()
        assert frame.iloc[2:][["y_q0.1", "y_q0.5", "y_q0.9"]].isna().all().all()  # fed-back medians after it
        assert frame["y"].notna().all()
    result = run.backtest(steps=3)
    np.testing.assert_array_equal(result.quantiles[0.5][:, :2], result.predictions["model"][:, :2])
    assert np.isnan(result.quantiles[0.5][:, 2]).all()
    assert {"q0.1", "q0.5", "q0.9"} <= set(result.frame.columns)
    assert run.evaluate()["mae"] == pytest.approx(
        float(np.mean(np.abs(run.backtest(stride=1).quantiles[0.5] - run.backtest(stride=1).truth))), rel=1e-6)


def test_the_forecast_figure_draws_the_learned_levels_beside_the_target(run):
    figure = run.plot_forecast(steps=4, interval=0.8)
    assert len(figure.axes) == 1  # the levels are not targets of their own
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert "learned q0.1 to q0.9" in labels and "80% interval" in labels
    assert figure.axes[0].get_title().startswith("lstm forecast of y,")


def test_a_rollout_feeds_back_the_median(run):
    # horizon 2: the second block reads the first block's medians as if they had been observed
    ahead = run.forecast(4)
    data = noisy_sine()
    known = pd.concat([data, ahead[["y"]].iloc[:2]])
    again = run.forecast(2, context=known)
    np.testing.assert_allclose(again["y"].to_numpy(), ahead["y"].iloc[2:].to_numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("settings", [
    dict(mode="sequence"), dict(model="rnn", stateful=True), dict(ensemble=2),
    dict(residual=True, normalize="window"), dict(model="cnn_lstm"), dict(model="peephole_lstm"),
])
def test_quantiles_learn_in_every_mode_and_wrapper(settings):
    run = ww.train(noisy_sine(240), loss="quantile", quantiles=[0.9, 0.5, 0.25, 0.75, 0.1],
                   **{**TINY, "epochs": 1, **settings})
    assert run.config.train.quantiles == (0.1, 0.25, 0.5, 0.75, 0.9)  # sorted
    frame = run.forecast(1)
    levels = frame[[f"y_q{q:g}" for q in run.config.train.quantiles]].to_numpy()  # (1, levels)
    assert (np.diff(levels) >= 0).all()
    assert levels[0, 2] == frame["y"].iloc[0]
    assert np.isfinite(run.history["train_loss"]).all()


def test_a_panel_gives_each_series_its_levels():
    data = noisy_sine(240).rename_axis("time").reset_index()
    panel = pd.concat([data.assign(turbine="T1"), data.assign(turbine="T2", y=data["y"] * 2 + 1)])
    run = ww.train(panel, series="turbine", time="time", loss="quantile", **TINY)
    frame = run.forecast(2)
    first = frame.groupby("turbine").head(1)
    np.testing.assert_array_equal(first["y_q0.5"], first["y"])
    assert first["y_q0.1"].ne(first["y_q0.9"]).all()
    single = run.member("T2").forecast(2)
    np.testing.assert_allclose(frame[frame["turbine"] == "T2"]["y_q0.9"].iloc[0], single["y_q0.9"].iloc[0],
                               rtol=1e-5)
    result = run.backtest()
    for one in result.by_series.values():
        np.testing.assert_array_equal(one.quantiles[0.5], one.predictions["model"])


def test_a_saved_quantile_run_forecasts_the_same(run, tmp_path):
    path = tmp_path / "quantile.pt"
    run.save(path)
    back = ww.load(path)
    assert back.config.train.loss == "quantile" and back.config.train.quantiles == (0.1, 0.5, 0.9)
    pd.testing.assert_frame_equal(back.forecast(4), run.forecast(4))
    payload = torch.load(path, weights_only=True)
    payload["config"]["train"]["quantiles"] = [0.1, 0.9]
    torch.save(payload, tmp_path / "damaged.pt")
    with pytest.raises(ww.WindwidgetsError, match=r"`quantiles` \(\[0.1, 0.9\]\) leaves out 0.5"):
        ww.load(tmp_path / "damaged.pt")


@pytest.mark.parametrize("settings, message", [
    (dict(quantiles=(0.1, 0.5, 0.9)), r"`quantiles` \(\(0.1, 0.5, 0.9\)\) are the levels loss='quantile' learns, "
                                      r"but loss is 'mse'; pass loss='quantile' too"),
    (dict(loss="quantile", quantiles=(0.1, 0.9)), r"`quantiles` \(\[0.1, 0.9\]\) leaves out 0.5: the median is the "
                                                  r"point forecast .* add 0.5"),
    (dict(loss="quantile", quantiles=(0.5, 1.0)), r"`quantiles` \(\[0.5, 1.0\]\) holds 1.0, not strictly between 0 "
                                                  r"and 1"),
    (dict(loss="quantile", quantiles=(0.5, 0.9, 0.9)), r"`quantiles` \(\[0.5, 0.9, 0.9\]\) holds 0.9 more than once"),
    (dict(loss="quantile", quantiles="0.1,0.5"), r"`quantiles` \('0.1,0.5'\) must be a list of levels between 0 and 1"),
    (dict(loss="quantile", quantiles=[]), r"`quantiles` \(\(\)\) must be a list of levels"),
])
def test_quantile_settings_that_cannot_be_are_refused(settings, message):
    with pytest.raises(ww.ConfigError, match=message):
        RunConfig.from_kwargs(**settings)


def test_models_and_data_the_quantile_loss_does_not_fit_are_refused():
    with pytest.raises(ww.ConfigError, match=r"model 'seq2seq' feeds its own outputs back into its decoder"):
        ww.train(noisy_sine(120), loss="quantile", model="seq2seq", **TINY)
    digits, labels = ww.datasets.digits()
    with pytest.raises(ww.ConfigError, match=r"`loss` \('quantile'\) sets a forecaster's loss; task='classify'"):
        ww.train((digits[:40], labels[:40]), task="classify", loss="quantile", epochs=1, live=False)
    point = ww.train(noisy_sine(120), **{**TINY, "epochs": 1})
    assert "y_q0.5" not in point.forecast(2) and point.backtest().quantiles is None
    with pytest.raises(ww.WindwidgetsError, match=r"must be levels the model learned; it learned none"):
        point.backtest().quantile_coverage(0.1, 0.9)


def test_the_magic_reads_quantiles_as_numbers():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    shell.user_ns["noisy"] = noisy_sine(120)
    try:
        shell.run_cell("%windtrain --data noisy --loss quantile --quantiles 0.9,0.5,0.2 --window 12 --hidden-size 8 "
                       "--num-layers 1 --epochs 1 --live false --out quantile_run").raise_error()
        shell.run_cell("%%windtrain --data noisy --out body_run\nloss = 'quantile'\nquantiles = [0.25, 0.5, 0.75]\n"
                       "window = 12\nhidden_size = 8\nepochs = 1\nlive = false").raise_error()
        assert shell.user_ns["quantile_run"].config.train.quantiles == (0.2, 0.5, 0.9)
        assert shell.user_ns["body_run"].config.train.quantiles == (0.25, 0.5, 0.75)
    finally:
        shell.run_line_magic("unload_ext", "windwidgets")
    option = config_options()["quantiles"]
    assert option.from_text("0.1,0.5,0.9") == option.from_text("[0.1, 0.5, 0.9]") == [0.1, 0.5, 0.9]
    assert option.from_toml([0.1, 0.5, 0.9]) == [0.1, 0.5, 0.9]
    with pytest.raises(Exception, match=r"--quantiles takes numbers separated by commas, not 'low'"):
        option.from_text("low")


def test_the_pinball_loss_is_least_at_the_quantiles():
    torch.manual_seed(0)
    samples = torch.randn(4000, 1)  # (samples, outputs)
    guess = torch.zeros(1, 1, 3, requires_grad=True)  # (1, outputs, levels)
    loss, optimizer = Pinball((0.1, 0.5, 0.9)), torch.optim.Adam([guess], lr=0.05)
    for _ in range(400):
        optimizer.zero_grad()
        loss(guess.expand(len(samples), 1, 3), samples).backward()
        optimizer.step()
    expected = torch.quantile(samples[:, 0], torch.tensor([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(guess.detach()[0, 0].numpy(), expected.numpy(), atol=0.05)


@pytest.mark.parametrize("name", ["windwidgets.zoo.quantile", "windwidgets.train.losses"])
def test_the_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), extraglobs={"torch": torch})
    assert result.attempted > 0 and result.failed == 0


def test_a_sweep_cannot_vary_the_levels():
    with pytest.raises(ww.ConfigError, match=r"`space` varies 'quantiles', but a trial's figures .* are in its own "
                                             r"loss's units"):
        ww.sweep(noisy_sine(120), {"quantiles": [[0.1, 0.5, 0.9], [0.25, 0.5, 0.75]]}, loss="quantile", **TINY)


def test_the_views_name_what_a_quantile_fit_minimises_and_scores(run):
    from windwidgets.views.text import score_text

    assert run.plot().axes[0].get_ylabel() == "loss (pinball, mean over the levels, scaled units)"
    assert score_text(run).startswith("val_forecast: MAE of the median of 24-step forecasts")
