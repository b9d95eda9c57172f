import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import windwidgets as ww
from windwidgets.config import RunConfig
from windwidgets.errors import ConfigError, DataError, ModelError, WindwidgetsError
from windwidgets.tasks import ClassifyRun
from windwidgets.train import Event



@pytest.fixture(scope="module")
def digits():
    return ww.datasets.digits()


@pytest.fixture(scope="module")
def digit_run(digits):
    """An LSTM reads each 8x8 digit row by row; the accuracy is announced while it trains."""
    run = ww.prepare(digits, task="classify", model="lstm", hidden_size=32, num_layers=1, epochs=6, lr=1e-2)
    heard = []
    return run.fit(view=lambda event, p: heard.append(dict(p.metrics)) if event is Event.EPOCH_END else None), heard


def test_digits_are_sequences_of_rows(digits):
    sequences, labels = digits
    assert sequences.shape == (1797, 8, 8) and sequences.dtype == np.float32
    assert labels.shape == (1797,) and set(labels) == set(range(10))


def test_the_digits_classifier_is_well_above_chance(digit_run):
    run, heard = digit_run
    assert isinstance(run, ClassifyRun)
    accuracy = run.evaluate()["accuracy"]
    assert accuracy > 0.9  # measured 0.95 (chance: 0.1)
    history = run.history
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds", "grad_norm"]
    assert [h["val_accuracy"] for h in heard] == list(history["val_accuracy"])
    best = history.loc[history["val_loss"].idxmin()]
    assert accuracy == pytest.approx(best["val_accuracy"], abs=1e-6)  # the best epoch's weights are kept


def test_confusion_matrix_and_plots(digit_run, digits):
    run, _ = digit_run
    matrix = run.confusion()
    per_class = [round(0.2 * count) for count in np.bincount(digits[1])]  # a fifth of each class validates
    assert matrix.shape == (10, 10) and list(matrix.sum(axis=1)) == per_class
    assert np.trace(matrix.to_numpy()) / sum(per_class) == pytest.approx(run.evaluate()["accuracy"])
    for figure in (run.plot_confusion(), run.plot_confusion(normalize=True), run.plot()):
        assert isinstance(figure, Figure)
    assert "task=classify 10 classes, sequences of 8 x 8" in repr(run)


def test_save_load_predicts_the_same(tmp_path, digit_run, digits):
    run, _ = digit_run
    sequences, labels = digits
    loaded = ww.load(run.save(tmp_path / "digits.pt"), device=run.device)
    assert isinstance(loaded, ClassifyRun) and loaded.classes == list(range(10))
    pd.testing.assert_frame_equal(loaded.predict_proba(sequences[:50]), run.predict_proba(sequences[:50]))
    np.testing.assert_array_equal(loaded.predict(sequences), run.predict(sequences))
    assert loaded.evaluate() == run.evaluate()
    pd.testing.assert_frame_equal(loaded.history, run.history)
    assert (run.predict(sequences) == labels).mean() > 0.85


@pytest.mark.parametrize("model", ["gru", "peephole_lstm", "cnn_lstm"])
def test_other_models_classify_both_ways(model):
    """String labels, two features per step, and a bidirectional reader (valid: no future here)."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 12)
    phase = rng.uniform(0, 2 * np.pi, 240)
    kind = rng.integers(0, 2, 240)
    wave = np.where(kind[:, None] == 0, np.sin(t + phase[:, None]), np.sign(np.sin(t + phase[:, None])))
    sequences = np.stack([wave, rng.normal(0, 0.1, wave.shape)], axis=2)  # (240, 12, 2)
    labels = np.where(kind == 0, "sine", "square")
    run = ww.train((sequences, labels), task="classify", model=model, bidirectional=True, hidden_size=8,
                   num_layers=1, epochs=10, lr=2e-2, batch_size=16, live=False)
    assert run.classes == ["sine", "square"] and not run.model.carries_state
    assert run.evaluate()["accuracy"] > 0.9  # measured 1.0 for each model
    assert set(run.predict(sequences[:10])) <= {"sine", "square"}


def test_classification_errors_say_what_to_do(digits):
    sequences, labels = digits
    small = (sequences[:100], labels[:100])
    settings = dict(task="classify", hidden_size=4, num_layers=1, epochs=1, live=False)
    with pytest.raises(DataError, match=r"task='classify' takes data=\(sequences, labels\); got a ndarray"):
        ww.train(sequences, **settings)
    with pytest.raises(DataError, match=r"one label per sequence: 100 sequences but labels of shape \(99,\)"):
        ww.train((sequences[:100], labels[:99]), **settings)
    with pytest.raises(DataError, match=r"a single class \(0\)"):
        ww.train((sequences[:10], np.zeros(10, dtype=int)), **settings)
    with pytest.raises(ConfigError, match=r"`horizon` \(3\) must be 1"):
        ww.train(small, horizon=3, **settings)
    with pytest.raises(ConfigError, match=r"`target` \('y'\) does not apply"):
        ww.train(small, target="y", **settings)
    with pytest.raises(ConfigError, match=r"`ensemble` \(3\) is for forecasters"):
        ww.train(small, ensemble=3, **settings)
    with pytest.raises(ConfigError, match=r"`loss` \('mae'\) sets a forecaster's loss; task='classify' learns by"):
        ww.train(small, loss="mae", **settings)
    with pytest.raises(ConfigError, match="reads separate sequences, leave it out"):
        ww.train(small, stateful=True, **settings)
    with pytest.raises(ConfigError, match=r"`mode='sequence'` learns along one long series"):
        ww.train(small, mode="sequence", **settings)
    for model in ("seq2seq", "convlstm"):
        with pytest.raises(ModelError, match=f"model '{model}' cannot be trained for task='classify'; models "
                                             "that can: rnn, lstm, gru, peephole_lstm, cnn_lstm"):
            ww.train(small, model=model, **settings)
    run = ww.train(small, **settings)
    with pytest.raises(WindwidgetsError, match=r"predicts classes, not future values; use run.predict\(sequences\)"):
        run.forecast(5)
    with pytest.raises(DataError, match="have 3 features per step; this classifier was trained on 8"):
        run.predict(np.zeros((2, 8, 3)))


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # as if scikit-learn were not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'windwidgets\[digits\]'"):
        ww.datasets.digits()


def test_the_text_view_shows_the_accuracy(digits):
    import io

    from windwidgets.views.text import TextView

    sequences, labels = digits
    stream = io.StringIO()
    ww.prepare((sequences[:200], labels[:200]), task="classify", hidden_size=4, num_layers=1, epochs=2).fit(
        view=TextView(stream))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("epoch   1/2") and "val_accuracy 0." in lines[0] and "val_accuracy" in lines[1]
