"""refit=True: after the validation rows have chosen the epoch, the model learns again on every
row; nothing it learned is scored afterwards."""
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import RunConfig
from windwidgets.errors import ConfigError, WindwidgetsError
from windwidgets.views.text import stop_line

SMALL = dict(model="mlp", window=12, hidden_size=8, num_layers=1, epochs=12, lr=5e-3, live=False, loss="mae")


def shifted(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A quality that follows a known-ahead load; the plant moves to a new operating point in
    its last 15% of rows, so only the validation rows of a fit on the first 560 show it."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = np.where(t < 470, 0.0, 1.2) + 0.3 * rng.normal(size=n)
    return pd.DataFrame({"quality": 0.8 * load + 0.3 * np.sin(t / 6) + rng.normal(0, 0.05, n), "load": load})


def forecast_error(run, later: pd.DataFrame) -> float:
    forecast = run.forecast(len(later), future=later[["load"]])["quality"].to_numpy()
    return float(np.abs(forecast - later["quality"].to_numpy()).mean())


@pytest.mark.filterwarnings("ignore::windwidgets.train.depth.DepthWarning")  # the shift it is about
def test_refit_learns_the_latest_rows_and_scores_only_later_ones(tmp_path):
    errors = {"plain": [], "refit": []}
    for seed in range(3):
        data = shifted(seed=seed)
        fit, later = data.iloc[:560], data.iloc[560:]
        plain = ww.train(fit, target="quality", future_covariates=["load"], **SMALL)
        refit = ww.train(fit, target="quality", future_covariates=["load"], refit=True, **SMALL)
        errors["plain"].append(forecast_error(plain, later))
        errors["refit"].append(forecast_error(refit, later))
        # the validated fit is the same fit: same seed, same history, same epoch kept
        pd.testing.assert_frame_equal(plain.history.drop(columns="seconds"), refit.history.drop(columns="seconds"))
        assert refit.progress.refit == refit.progress.best_epoch and plain.progress.refit == 0
        assert plain.n_train == 448 and refit.n_train == 560  # every row it was given is a training row
    mean = {name: np.mean(values) for name, values in errors.items()}
    assert mean["refit"] < 0.6 * mean["plain"], errors  # measured: 0.14 against 0.31 (0.19 to 0.53)
    for score in (refit.evaluate, lambda: refit.forecast(5, future=later[["load"]], interval=0.9)):
        with pytest.raises(WindwidgetsError, match=r"learned every row it was given \(refit=True\).*run\.update"):
            score()
    refit.update(later)
    backtest = refit.backtest(steps=5, stride=5)
    assert backtest.origins.min() == 560  # only rows the model has not learned are scored
    loaded = ww.load(refit.save(tmp_path / "refit.pt"))
    assert len(loaded.frame) - loaded.n_train == 40 and loaded.config.train.refit  # a file keeps the last rows
    pd.testing.assert_frame_equal(loaded.backtest(steps=5, stride=5).metrics(), backtest.metrics())


def test_refit_is_repeatable_and_starts_from_the_first_weights():
    data = shifted().iloc[:560]
    runs = [ww.train(data, target="quality", future_covariates=["load"], refit=True, **SMALL) for _ in range(2)]
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values()):
        assert torch.equal(a, b)
    plain = ww.train(data, target="quality", future_covariates=["load"], **SMALL)
    assert not torch.equal(plain.model.state_dict()["head.weight"], runs[0].model.state_dict()["head.weight"])


def test_a_stopped_fit_keeps_its_validated_weights_without_a_refit():
    data = shifted().iloc[:560]
    run = ww.prepare(data, target="quality", future_covariates=["load"], refit=True, **SMALL)
    run.fit(view=lambda event, progress: progress.epoch == 3 and run.stop())
    assert run.stop_reason == "stopped" and run.progress.refit == 0 and run.n_train == 448
    assert run.evaluate()["mae"] > 0  # the validation rows are still held out


def test_refit_on_a_panel_and_in_sequence_mode():
    frames = [shifted(seed=k).iloc[:500].assign(unit=f"U{k}") for k in range(2)]
    panel = ww.train(pd.concat(frames), target="quality", future_covariates=["load"], series="unit", refit=True,
                     mode="sequence", **{**SMALL, "model": "gru", "epochs": 3})
    assert panel.progress.refit == panel.progress.best_epoch
    assert [panel.member(key).n_train for key in panel.series] == [500, 500]
    with pytest.raises(WindwidgetsError, match=r"refit=True"):
        panel.backtest(steps=5)


def test_an_ensemble_refits_each_member_for_its_own_epochs():
    data = shifted().iloc[:560]
    settings = dict(target="quality", future_covariates=["load"], ensemble=3, **{**SMALL, "epochs": 8, "lr": 5e-2})
    validated, refit = ww.train(data, **settings), ww.train(data, refit=True, **settings)
    epochs = refit.progress.member_epochs
    assert epochs == validated.progress.member_epochs and refit.progress.refit == max(epochs)
    assert len(set(epochs)) > 1, epochs  # the members keep different epochs here, so each is cut on its own
    for before, after in zip(validated.model.members, refit.model.members):
        assert not torch.equal(before.head.weight, after.head.weight)
    assert refit.n_train == 560 and np.isfinite(refit.forecast(5, future=shifted().iloc[560:][["load"]])).all().all()


@pytest.mark.parametrize("settings, message", [
    ({"task": "classify"}, r"`refit=True` is for forecasters"),
])
def test_refit_refuses_what_it_cannot_do(settings, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig.from_kwargs(target="quality", refit=True, **settings)


def test_refit_is_not_for_ray_workers():
    with pytest.raises(ConfigError, match=r"`workers` \(2\) share a fit's epochs; `refit=True` learns again"):
        ww.train(shifted().iloc[:200], target="quality", workers=2, refit=True, **SMALL)


def test_an_ensemble_refit_says_the_validated_members_score_not_one_on_rows_they_learned():
    data = shifted().iloc[:560]
    settings = dict(target="quality", future_covariates=["load"], ensemble=3, forecast_steps=6,
                    **{**SMALL, "epochs": 8, "lr": 5e-2})
    validated, refit = ww.train(data, **settings), ww.train(data, refit=True, **settings)
    assert np.isfinite(validated.progress.kept_score)
    # the members' validation score together is the validated members', as a lone model's best epoch is
    assert refit.progress.kept_score == pytest.approx(validated.progress.kept_score)
    assert "then each learned again on every row" in stop_line(refit.progress)
    said = f"refit=learned again on every row for {max(refit.progress.member_epochs)} epochs"
    assert said in repr(refit) and "refit" not in repr(validated)


class Tripped(torch.nn.Module):
    """A linear model on the window whose training steps, once ``trip["left"]`` more have run,
    raise ``trip["what"]`` (or call it, or give NaN for "nan"): a fault in the middle of a refit."""

    trip: dict = {"left": None, "what": None}

    def __init__(self, spec):
        super().__init__()
        self.linear = torch.nn.Linear(spec.input_size * spec.window, spec.horizon * spec.output_size)

    def forward(self, x):
        y = self.linear(x.flatten(1))  # (batch, horizon * outputs)
        if self.training and self.trip["left"] is not None:
            self.trip["left"] -= 1
            if self.trip["left"] < 0:
                what, self.trip["left"] = self.trip["what"], None
                if what == "nan":
                    return y * float("nan")
                raise what()
        return y


@pytest.mark.parametrize("what", [KeyboardInterrupt, RuntimeError, "nan"])
def test_a_fault_in_the_middle_of_a_refit_keeps_the_validated_weights_and_their_validation_rows(what):
    ww.zoo.register("tripped", lambda spec, config: Tripped(spec))
    settings = dict(target="quality", future_covariates=["load"], **{**SMALL, "model": "tripped", "epochs": 4})
    data = shifted().iloc[:560]
    validated = ww.train(data, **settings)
    run = ww.prepare(data, refit=True, **settings)
    batches = run.trainer.progress.batches

    def arm(event, progress):  # after the fit's last epoch: the fault comes in the refit's second epoch
        if event is ww.Event.EPOCH_END and progress.epoch == 4:
            Tripped.trip.update(left=batches + 2, what=what)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            run.fit(view=arm)
        except RuntimeError:
            assert what is RuntimeError
    assert run.progress.refit == 0 and run.n_train == 448, (run.progress.refit, run.n_train)
    assert "refit" not in stop_line(run.progress)
    for a, b in zip(validated.model.state_dict().values(), run.model.state_dict().values()):
        assert torch.equal(a, b)


def test_the_comparison_leaves_out_a_refit_run_and_says_why():
    from windwidgets.views.compare import compare_figure, summary

    data = shifted().iloc[:560]
    plain = ww.train(data, target="quality", future_covariates=["load"], **SMALL)
    refit = ww.train(data, target="quality", future_covariates=["load"], refit=True, **SMALL)
    figure = compare_figure({"run 0": plain, "run 1": refit}, 12)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["quality (truth)", "run 0"]
    assert "left out, having learned every row (refit=True): run 1" in figure.axes[0].get_title()
    assert np.isnan(summary(refit, 1)["MAE"]) and summary(plain, 0)["MAE"] > 0  # nothing held out to score


@pytest.mark.parametrize("extra", [{"horizon": 3}, {"horizon": 2, "series": "unit", "model": "gru"}])
def test_refit_of_a_model_that_predicts_a_block_of_rows(extra):
    # every row a training row leaves each series' validation windows empty, whatever the horizon
    frames = [shifted(seed=k).iloc[:300].assign(unit=f"U{k}") for k in range(2)]
    data = pd.concat(frames) if "series" in extra else frames[0].drop(columns="unit")
    run = ww.train(data, target="quality", future_covariates=["load"], refit=True, **{**SMALL, "epochs": 3, **extra})
    assert run.progress.refit == run.progress.best_epoch > 0
    assert len(run.trainer.data.every_row().windows.val_index) == 0
