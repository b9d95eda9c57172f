import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import ModelConfig
from windwidgets.errors import ConfigError, ModelError
from windwidgets.tasks import GridForecast
from windwidgets.train.depth import DepthWarning
from windwidgets.zoo import ModelSpec, build, entry

ZOO = ["rnn", "lstm", "gru", "peephole_lstm", "convlstm", "cnn_lstm", "seq2seq"]
TINY = dict(hidden_size=8, num_layers=1, epochs=3, batch_size=32, lr=5e-3, live=False)



def test_names_list_the_whole_zoo_with_their_knobs():
    assert set(ZOO) <= set(ww.zoo.names())
    for name in ZOO:
        assert entry(name).summary and "hidden_size" in entry(name).knobs
        assert set(entry(name).knobs) <= set(ModelConfig.__dataclass_fields__)


@pytest.mark.parametrize("name", ["peephole_lstm", "convlstm", "cnn_lstm", "seq2seq"])
def test_every_model_has_the_docstring_form(name):
    module = {"peephole_lstm": "peephole", "convlstm": "convlstm", "cnn_lstm": "cnn_lstm",
              "seq2seq": "seq2seq"}[name]
    model_class = build(name, ModelSpec(2, 2, 2, 8, {"grid": (2, 1, 1)}), ModelConfig()).__class__
    doc = model_class.__doc__
    assert model_class.__module__ == f"windwidgets.zoo.{module}"
    for part in ("math", "Args:", "Inputs:", "Outputs:", "Example::", "hidden_size"):
        assert part in doc, part


def forecast_and_reload(run, tmp_path, steps, **forecast_kwargs):
    """Forecast, save, load, forecast again: the numbers must be identical."""
    before = run.forecast(steps, **forecast_kwargs)
    loaded = ww.load(run.save(tmp_path / "run.pt"), device=run.device)
    after = loaded.forecast(steps, **forecast_kwargs)
    assert type(loaded) is type(run) and loaded.config == run.config
    # tables, not dicts: a skipped MAPE is NaN, which equals nothing
    pd.testing.assert_frame_equal(loaded.evaluate().table, run.evaluate().table)
    return before, after


@pytest.mark.parametrize("bidirectional", [False, True])
def test_peephole_lstm_trains_forecasts_and_reloads(tmp_path, small_wind, bidirectional):
    run = ww.train(small_wind, target="speed", covariates=["pressure"], model="peephole_lstm", window=24,
                   horizon=2, bidirectional=bidirectional, **TINY)
    assert run.model.carries_state is not bidirectional
    assert run.history["train_loss"].iloc[-1] < run.history["train_loss"].iloc[0]
    before, after = forecast_and_reload(run, tmp_path, 9)
    assert list(before.columns) == ["speed"] and len(before) == 9
    pd.testing.assert_frame_equal(before, after)


def test_cnn_lstm_trains_forecasts_and_reloads(tmp_path, small_wind):
    run = ww.train(small_wind, target="speed", covariates=["pressure", "temperature", "direction"],
                   model="cnn_lstm", window=24, horizon=3, options={"kernel_size": 5, "channels": 6},
                   **TINY)
    assert not run.model.carries_state and run.model.encoder[0].kernel_size == (5,)
    before, after = forecast_and_reload(run, tmp_path, 10)
    pd.testing.assert_frame_equal(before, after)
    with pytest.raises(ConfigError, match=r"`mode='stateful'` is not a way 'cnn_lstm' can learn: it learns in mode 'window'; leave `mode` \(or `stateful`\) out"):
        ww.train(small_wind, target="speed", model="cnn_lstm", window=24, stateful=True, **TINY)
    with pytest.raises(ModelError, match=r"cnn_lstm option `kernel_size` \(0\) must be a whole number"):
        ww.train(small_wind, target="speed", model="cnn_lstm", options={"kernel_size": 0}, **TINY)


@pytest.mark.filterwarnings("ignore:MAPE is skipped")
def test_mlp_is_a_soft_sensor_of_inputs_known_ahead(tmp_path):
    rng = np.random.default_rng(0)
    u = np.cumsum(rng.normal(0, 0.3, 700))
    u -= np.convolve(u, np.ones(50) / 50, mode="same")  # a wandering input without a trend
    frame = pd.DataFrame({"q": np.tanh(2 * u) + rng.normal(0, 0.02, 700), "u": u})
    run = ww.train(frame.iloc[:600], target="q", future_covariates=["u"], model="mlp", window=12,
                   options={"lags": 3}, **{**TINY, "hidden_size": 16, "epochs": 30})
    assert run.model.lags == 3 and not run.model.carries_state
    forecast = run.forecast(100, future=frame.iloc[600:][["u"]])["q"].to_numpy()
    truth = frame["q"].to_numpy()[600:]
    error, persistence = np.abs(forecast - truth).mean(), np.abs(frame["q"].iloc[599] - truth).mean()
    assert error < 0.3 * persistence, (error, persistence)  # measured: 0.12 against 0.62
    before, after = forecast_and_reload(run, tmp_path, 5, future=frame.iloc[600:][["u"]])
    pd.testing.assert_frame_equal(before, after)
    far = frame.iloc[600:][["u"]].assign(u=50.0)  # an instrument 50 training deviations out: read as 5
    with pytest.warns(DepthWarning, match=r"u \(80\)"):
        out = run.forecast(5, future=far)["q"]
    with pytest.warns(DepthWarning, match=r"u \(820\)"):
        further = run.forecast(5, future=far.assign(u=far["u"] * 10))["q"]
    assert np.isfinite(out).all() and out.iloc[-1] == further.iloc[-1]
    with pytest.raises(ModelError, match=r"mlp option `lags` \(0\) must be a whole number"):
        ww.train(frame, target="q", model="mlp", options={"lags": 0}, **TINY)


@pytest.mark.parametrize("extra", [{}, {"loss": "quantile"}, {"ensemble": 2}])
def test_mlp_refuses_unscaled_inputs_its_clamp_would_clip(extra):
    # in kilowatts every input lies past 5 and would read as 5: the model would be blind, silently
    t = np.arange(200)
    frame = pd.DataFrame({"power": 2000 + 300 * np.sin(t / 9), "load": 1000 + 150 * np.sin(t / 9)})
    with pytest.raises(ConfigError, match=r"model='mlp' clamps its inputs at 5 scaled units .* with scaler=None "
                                          r"they stay in their own units .*leave `scaler` at 'standard'"):
        ww.train(frame, target="power", future_covariates=["load"], model="mlp", scaler=None, window=4, **TINY,
                 **extra)
    assert ww.train(frame, target="power", model="mlp", scaler="minmax", window=4, **TINY).n_train > 0


def test_seq2seq_trains_with_future_covariates_forecasts_and_reloads(tmp_path, small_wind):
    run = ww.train(small_wind, target="speed", future_covariates=["temperature", "pressure"],
                   model="seq2seq", window=24, horizon=6, **TINY)
    assert run.model.carries_state and run.model.uses_targets
    after_data = pd.date_range(small_wind.index[-1], periods=16, freq="h")[1:]
    future = small_wind.iloc[:15].set_axis(after_data)  # known-ahead values for the forecast's rows
    before, after = forecast_and_reload(run, tmp_path, 15, future=future)
    pd.testing.assert_frame_equal(before, after)
    with pytest.raises(ConfigError, match=r"`mode='sequence'` is not a way 'seq2seq' can learn: it learns "
                                          r"in mode 'window'; leave `mode` out"):
        ww.train(small_wind, target="speed", model="seq2seq", window=24, mode="sequence", **TINY)


def test_convlstm_trains_forecasts_grids_and_reloads(tmp_path):
    grids = ww.datasets.grid(n=120, size=8)
    run = ww.train(grids, model="convlstm", window=5, horizon=2, **TINY)
    before, after = forecast_and_reload(run, tmp_path, 4)
    assert isinstance(before, GridForecast) and before.grids.shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(before.grids, after.grids)
    pd.testing.assert_frame_equal(before.frame, after.frame)


def test_seq2seq_decoder_reads_each_steps_covariates_and_teacher_forcing_fades():
    torch.manual_seed(0)
    spec = ModelSpec(input_size=3, output_size=1, horizon=4, window=10)  # 2 future covariates
    model = build("seq2seq", spec, ModelConfig(hidden_size=8, num_layers=2))
    with torch.no_grad():
        model.encoder.weight_ih_l0[:, 1:] = 0.0  # the encoder ignores the covariates: only the decoder reads them
    x = torch.randn(2, 10, 3)
    y, _ = model.eval()(x)
    changed = x.clone()
    changed[:, 10 - 4 + 2, 1:] += 1.0  # the covariates of the third predicted step
    y2, _ = model(changed)
    assert torch.allclose(y[:, :2], y2[:, :2]) and not torch.allclose(y[:, 2:], y2[:, 2:])
    assert model.ratio(0.0) == 1.0 and model.ratio(0.35) == pytest.approx(0.5) and model.ratio(0.7) == 0.0
    model.train()
    target = torch.randn(2, 4, 1)
    other = target + 5.0
    forced = [model(x, target=t, fraction_done=0.0)[0] for t in (target, other)]
    free = [model(x, target=t, fraction_done=0.9)[0] for t in (target, other)]
    assert torch.allclose(forced[0][:, 0], forced[1][:, 0])  # the first step never sees a target
    assert not torch.allclose(forced[0][:, 1:], forced[1][:, 1:])  # later steps read the true values
    assert torch.allclose(free[0], free[1])  # free-running: the targets are not read


def test_the_trainer_hands_targets_and_the_share_done_to_models_that_ask():
    seen = []

    class Recorder(torch.nn.Module):
        uses_targets = True
        carries_state = False

        def __init__(self, spec):
            super().__init__()
            self.linear = torch.nn.Linear(spec.window * spec.input_size, spec.horizon * spec.output_size)
            self.shape = (spec.horizon, spec.output_size)

        def forward(self, x, state=None, target=None, fraction_done=None):
            if self.training:
                seen.append((fraction_done, target.shape))
            return self.linear(x.flatten(1)).unflatten(1, self.shape), None

    ww.zoo.register("recorder", lambda spec, config: Recorder(spec))
    ww.train(ww.datasets.sine(n=300), model="recorder", window=10, horizon=2, epochs=3, batch_size=64, live=False)
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions == sorted(fractions) and 0.9 < fractions[-1] < 1.0
    assert all(shape[1:] == (2, 1) for _, shape in seen)


def test_bidirectional_is_refused_where_it_would_read_the_future(small_wind):
    with pytest.raises(ConfigError, match=r"`mode='stateful'` is not a way 'peephole_lstm' with bidirectional=True \(a "
                                          r"backward pass would read the future\) can learn"):
        ww.train(small_wind, target="speed", model="peephole_lstm", bidirectional=True, stateful=True,
                 window=24, **TINY)
    spec = ModelSpec(input_size=3, output_size=1, horizon=2, window=10)
    two_way = build("seq2seq", spec, ModelConfig(hidden_size=6, bidirectional=True))
    assert not two_way.carries_state and two_way(torch.randn(2, 10, 3))[0].shape == (2, 2, 1)
