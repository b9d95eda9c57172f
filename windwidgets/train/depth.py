"""When a model is out of its depth: inputs far outside the range it trained on, and a
validation loss many times its training loss.

A recurrent model extrapolates badly: an input many training standard deviations beyond
anything it saw drives its gates where they never were, and its forecast can be off by any
amount without looking odd. These checks say so beside the figures, as warnings that name
the columns and how far they lie out; they change nothing.
"""
from __future__ import annotations

import warnings

import numpy as np

FAR = 5.0  # training standard deviations beyond the training range that count as far outside
LOSS_RATIO = 10.0  # a validation loss this many times the training loss is a warning...
LOSS_FLOOR = 0.1  # ...when it is this large too (scaled units): a clean fit at 1e-5 validating at 1e-4 is fine


class DepthWarning(UserWarning):
    """The model is asked about inputs, or scored on a period, unlike those it trained on."""


def training_range(train) -> tuple:
    """(low, high, spread) per column of ``train`` (rows, columns): the range and the standard
    deviation (1 where a column is constant) that :func:`outside` measures against."""
    train = np.asarray(train, dtype=np.float64)
    low, high = np.nanmin(train, axis=0), np.nanmax(train, axis=0)  # (columns,)
    spread = np.nanstd(train, axis=0)  # (columns,)
    return low, high, np.where(spread > 0, spread, 1.0)


def outside(train, rows: np.ndarray, names) -> dict:
    """How far each column of ``rows`` lies beyond its range in ``train``, in training
    standard deviations, for the columns further out than :data:`FAR`: {name: distance},
    furthest first. ``train`` is the (rows, columns) training array or its
    :func:`training_range`, in the units of ``rows`` (any per-column affine scaling gives the
    same distances). Missing values are left out; a column constant in training counts its
    distance in units of 1.
    """
    rows = np.asarray(rows, dtype=np.float64)
    if not len(rows) or (not isinstance(train, tuple) and not len(train)):
        return {}
    low, high, spread = train if isinstance(train, tuple) else training_range(train)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column missing in every row: NaN, left out
        beyond = np.fmax(np.nanmax(rows, axis=0) - high, low - np.nanmin(rows, axis=0)) / spread  # (columns,)
    far = {str(name): float(d) for name, d in zip(names, beyond) if np.isfinite(d) and d > FAR}
    return dict(sorted(far.items(), key=lambda item: -item[1]))


def outside_message(far: dict, where: str) -> str | None:
    """A warning's text for :func:`outside`'s answer, or None when nothing lies far out."""
    if not far:
        return None
    shown = ", ".join(f"{name} ({distance:.0f})" for name, distance in list(far.items())[:5])
    more = f" and {len(far) - 5} more" if len(far) > 5 else ""
    return (f"{where}: input column(s) lie far outside their training range, by this many training "
            f"standard deviations: {shown}{more}; a model extrapolates there and its forecasts may be "
            "far off. Train on data that spans these values, leave the columns out, or try "
            "normalize='window'")


def loss_message(train_loss: float, val_loss: float) -> str | None:
    """A warning's text when the validation loss is :data:`LOSS_RATIO` times the training
    loss or more, and at least :data:`LOSS_FLOOR`, else None."""
    if not (np.isfinite(train_loss) and np.isfinite(val_loss)) or train_loss <= 0 or val_loss < LOSS_FLOOR:
        return None
    ratio = val_loss / train_loss
    if ratio < LOSS_RATIO:
        return None
    return (f"the validation loss ({val_loss:.3g}) is {ratio:.0f} times the training loss ({train_loss:.3g}): "
            "the validation part is unlike the training part (a shift between periods) or the model "
            "learned the training rows by heart; compare run.evaluate() with its naive baseline, and "
            "try refit=True (it learns those latest rows too), normalize='window', residual=True or a smaller "
            "model")


def fit_warning(progress, data, most: int = 3) -> str | None:
    """At the end of a fit: what :func:`loss_message` says of the kept epoch and
    :func:`outside_message` of each series' validation rows (``data.parts``: each series'
    ``frame`` in original units and ``n_train``), or None."""
    kept = next((row for row in progress.history if row["epoch"] == progress.best_epoch), None)
    messages = [kept and loss_message(kept["train_loss"], kept["val_loss"])]
    far = []
    grids = bool(getattr(getattr(data, "layout", None), "grid", ()))  # scaled per channel, not per cell
    for key, part in ({} if grids else getattr(data, "parts", {})).items():
        values = part.frame.to_numpy(np.float64)  # (rows, inputs)
        where = "the validation rows" + ("" if key is None else f" of series {key!r}")
        said = outside_message(outside(values[: part.n_train], values[part.n_train :], list(part.frame.columns)),
                               where)
        if said:
            far.append(said)
    messages += far[:most] + ([f"and {len(far) - most} more series"] if len(far) > most else [])
    messages = [m for m in messages if m]
    return "; ".join(messages) or None
