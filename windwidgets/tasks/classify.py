"""task="classify": many-to-one sequence classification with any zoo model that reads a
window into one output block (rnn, lstm, gru, peephole_lstm, cnn_lstm, a user's own)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import zoo
from ..config import RunConfig
from ..settle import settle
from ..data import Scaler
from ..data.sequences import as_sequences, prepare_sequences
from ..errors import ConfigError, DataError, WindwidgetsError
from ..fit import BaseRun
from ..train import Events, Trainer

FORMAT = "windwidgets.classify/1"


class SequenceCrossEntropy(nn.Module):
    """Cross entropy of the logits a model writes as its one-step block (batch, 1, classes)."""

    def forward(self, prediction: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(prediction[:, -1], labels)  # logits (batch, classes)


def accuracy(prediction: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Share of samples whose largest logit is their class."""
    return (prediction[:, -1].argmax(dim=-1) == labels).float().mean()


def check_settings(config: RunConfig) -> None:
    """The settings a classification cannot honour, named with the fix."""
    d, t = config.data, config.train
    for name in ("target", "covariates", "future_covariates", "static_covariates"):
        if getattr(d, name) is not None:
            raise ConfigError(f"task='classify' reads (sequences, labels); `{name}` ({getattr(d, name)!r}) "
                              "does not apply, leave it out")
    if d.horizon != 1:
        raise ConfigError(f"task='classify' predicts one class per sequence; `horizon` ({d.horizon}) "
                          "must be 1")
    if config.model.ensemble != 1:
        raise ConfigError(f"`ensemble` ({config.model.ensemble}) is for forecasters; task='classify' trains one "
                          "model, leave `ensemble` out")
    if t.loss != "mse":
        raise ConfigError(f"`loss` ({t.loss!r}) sets a forecaster's loss; task='classify' learns by cross "
                          "entropy, leave `loss` out")
    if t.mode not in ("auto", "window"):
        raise ConfigError(f"`mode={t.mode!r}` learns along one long "
                          "series; task='classify' reads separate sequences, leave it out")


def prepare_classifier(data, config: RunConfig, device: torch.device) -> "ClassifyRun":
    """An unfitted :class:`ClassifyRun`: data checked and split, model built, trainer ready."""
    check_settings(config)
    config = settle(config, ("window",))
    prepared = prepare_sequences(data, config.data, config.train.seed, device)
    spec = zoo.ModelSpec(input_size=prepared.features, output_size=len(prepared.classes), horizon=1,
                         window=prepared.time, extra={"task": "classify", "classes": len(prepared.classes)})
    model = zoo.build(config.model.model, spec, config.model).to(device)
    trainer = Trainer(model, prepared, config.train, device, Events(), loss=SequenceCrossEntropy(),
                      metrics={"val_accuracy": accuracy})
    windows = prepared.windows
    validation = (windows.x[windows.val_index], windows.y[windows.val_index])
    return ClassifyRun(config, model, device, prepared.scaler, prepared.classes, spec, validation,
                       trainer=trainer)


class ClassifyRun(BaseRun):
    """A trained sequence classifier: ``predict``, ``evaluate`` (accuracy), a confusion matrix.

    The model reads a whole sequence (its length is the window) and writes one logit per
    class; the validation part is a seeded draw of ``val_fraction`` of each class. The
    history has a ``val_accuracy`` column, also announced in ``progress.metrics`` while the
    fit runs. Forecasting does not apply; ``forecast`` and its kin say so.
    """

    FORMAT = FORMAT
    HISTORY = ("epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds", "grad_norm")
    LOSS = "loss (cross entropy)"
    FORECASTING = ("forecast", "plot_forecast", "update", "backtest", "plot_errors", "reset_state")

    def __init__(self, config: RunConfig, model: nn.Module, device: torch.device, scaler: Scaler,
                 classes: list, spec: zoo.ModelSpec, validation: tuple, history: list | None = None,
                 trainer=None):
        super().__init__(config, model, device, scaler, history, trainer)
        self.classes, self.spec = list(classes), spec
        self.validation = validation  # scaled x (samples, time, features), class indices (samples,)

    def __getattr__(self, name: str):
        if name in self.FORECASTING:
            raise WindwidgetsError("a classifier (task='classify') predicts classes, not future values; "
                                   "use run.predict(sequences), run.predict_proba(sequences) or run.evaluate()")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- predictions -----------------------------------------------------------------------
    @torch.no_grad()
    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        parts = [self.model(x[first : first + 1024].to(self.device))[0][:, -1]  # (batch, classes)
                 for first in range(0, len(x), 1024)]
        return torch.cat(parts)  # (samples, classes)

    def _scaled(self, sequences) -> torch.Tensor:
        values = as_sequences(sequences)
        if values.shape[2] != self.spec.input_size:
            raise DataError(f"`sequences` have {values.shape[2]} features per step; this classifier "
                            f"was trained on {self.spec.input_size}")
        return self.scaler.transform(torch.from_numpy(values))  # (samples, time, features)

    def predict_proba(self, sequences) -> pd.DataFrame:
        """Class probabilities, one row per sequence and one column per class."""
        self._fitted()
        probabilities = torch.softmax(self._logits(self._scaled(sequences)), dim=1)  # (samples, classes)
        return pd.DataFrame(probabilities.cpu().numpy().astype(np.float64), columns=self.classes)

    def predict(self, sequences) -> np.ndarray:
        """The most likely class of each sequence, as the labels the fit was given."""
        self._fitted()
        index = self._logits(self._scaled(sequences)).argmax(dim=1).cpu().numpy()
        return np.asarray(self.classes, dtype=object if isinstance(self.classes[0], str) else None)[index]

    def evaluate(self) -> dict:
        """On the validation sequences: ``accuracy`` (0 to 1) and mean ``cross_entropy``."""
        self._fitted()
        x, y = self.validation
        logits = self._logits(x)
        y = y.to(logits.device)
        return {"accuracy": float((logits.argmax(dim=1) == y).float().mean()),
                "cross_entropy": float(nn.functional.cross_entropy(logits, y))}

    def confusion(self) -> pd.DataFrame:
        """Counts on the validation sequences: rows the true class, columns the predicted one."""
        self._fitted()
        x, y = self.validation
        predicted = self._logits(x).argmax(dim=1).cpu()
        k = len(self.classes)
        counts = torch.bincount(y.cpu() * k + predicted, minlength=k * k).view(k, k)  # (true, predicted)
        return pd.DataFrame(counts.numpy(), index=pd.Index(self.classes, name="true"),
                            columns=pd.Index(self.classes, name="predicted"))

    # -- pictures ---------------------------------------------------------------------------
    def plot_confusion(self, normalize: bool = False):
        """The validation confusion matrix as a matplotlib Figure; ``normalize`` shows each
        true class's row as shares."""
        from ..views.plots import confusion_figure

        return confusion_figure(self.confusion(), normalize=normalize)

    # -- files -----------------------------------------------------------------------------
    def save(self, path):
        """One file: weights, config, scaler, classes, the validation sequences, history."""
        x, y = self.validation
        spec = {"input_size": self.spec.input_size, "output_size": self.spec.output_size,
                "horizon": self.spec.horizon, "window": self.spec.window, "extra": dict(self.spec.extra)}
        return self._write(path, classes=list(self.classes), spec=spec,
                           validation={"x": x.detach().cpu(), "y": y.detach().cpu()})

    # -- display ---------------------------------------------------------------------------
    def _description(self) -> list[tuple[str, str]]:
        c = self.config
        return [
            ("model", f"{c.model.model} ({c.model.size})"),
            ("task", f"classify {len(self.classes)} classes, sequences of {self.spec.window} x "
                     f"{self.spec.input_size}"),
            ("device", str(self.device)),
        ]


def load_classifier(payload: dict, device: torch.device) -> ClassifyRun:
    config = RunConfig.from_file(payload["config"])
    spec = zoo.ModelSpec(**payload["spec"])
    model = zoo.build(config.model.model, spec, config.model)
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    validation = (payload["validation"]["x"].to(device), payload["validation"]["y"].to(device))
    return ClassifyRun(config, model, device, Scaler.from_state(payload["scaler"]), payload["classes"],
                       spec, validation, history=payload["history"])
