"""The Python API: ``prepare``, ``train`` and ``load``. The magics and the dashboard call these."""
from __future__ import annotations

import inspect

from . import tasks
from .config import RunConfig, field_docs
from .device import resolve_device
from .errors import ModelError, WindwidgetsError
from .files import read_run_file
from .run import Run


def prepare(data, **settings) -> Run:
    """An unfitted Run for ``data`` and the settings of :func:`train` (the full text is set below)."""
    return tasks.prepare(data, RunConfig.from_kwargs(**settings))


def train(data, workers=None, address=None, **settings) -> Run:
    """Train a model on ``data`` and return its :class:`Run`. Settings are listed below."""
    if workers is None and address is None:
        return prepare(data, **settings).fit()
    from .scale.cluster import check_address
    from .scale.parallel import RayTrainer, check_workers

    config = RunConfig.from_kwargs(**settings)
    workers = check_workers(1 if workers is None else workers, config)
    check_address(address)  # before Ray is imported: a head that does not answer is found in seconds
    run = tasks.prepare(data, config)
    return run.fit(trainer=RayTrainer(run.trainer, data, run.config, workers, address))


def fit(data, config: RunConfig, show=None, background: bool | None = None) -> Run:
    """Train with a ready :class:`RunConfig` (the dashboard's): ``show`` places the live panel
    in the dashboard's own layout."""
    return tasks.prepare(data, config).fit(show=show, background=background)


def load(path, device="cpu") -> Run:
    """Load a saved Run onto ``device``; weights-only loading, so no arbitrary code runs."""
    device = resolve_device(device)
    payload = read_run_file(path)
    task = tasks.by_format(payload["format"], path)
    try:
        return task.load(payload, device)
    except WindwidgetsError as error:  # say which file; the reason stays the library's own
        raise type(error)(f"{str(path)!r}: {error}") from None
    except KeyError as error:
        reason = f"it lacks its {error.args[0]!r} part"
    except (TypeError, ValueError, AttributeError):
        reason = "its settings do not read as this version's"
    except RuntimeError:  # load_state_dict: shapes or names that do not match
        reason = "its weights do not fit the model its settings describe"
    raise ModelError(f"{str(path)!r} is damaged or from another version of windwidgets: {reason}; "
                     "save the run again with run.save(path)")


RAY_SETTINGS = {  # ww.train's keywords that are not settings of the fit itself
    "workers": "train data-parallel on this many Ray workers (needs windwidgets[ray]); None: here",
    "address": "the Ray cluster for workers (auto, ray://head:10001); None: Ray on this machine",
}


DEFAULTS_CHOSEN = """
Notes
-----
How the defaults were chosen: ``benchmarks/real_wind.py`` forecasts one and two days of
hourly wind (real and synthetic) from 30 origins, over 3 seeds, against AutoARIMA; the
README's "Forecast quality on wind" gives its table.

- ``forecast_steps`` (a day of hourly data): the epoch kept is the one whose rolled
  day-ahead validation forecasts are best; the best one-step loss kept epochs that
  forecast worse two days ahead on both series.
- ``horizon=1``: a direct 24-step block (``horizon=24``) forecast a day no better on
  either series, and worse on the synthetic one.
- ``mode="auto"``: windows for the gated cells (sequence mode won on one series and lost
  on the other), sequences for the Elman rnn, which drifts otherwise.
- ``loss="mse"``, ``hidden_size=64``, ``num_layers=2``: ``loss="mae"`` with a 32 x 1 LSTM
  fits six times faster, 3% better on the real series over 6 seeds and as well on the
  synthetic one: within the seed-to-seed spread, so worth trying, not (yet) the default.
- ``ensemble=1``: three members (``ensemble=3``) narrowed the spread between seeds from
  about 8% to about 3% and moved the mean error by up to 2%, at three times the fit: worth
  it where one seed's luck matters, too slow to be every fit's default.
- ``lr_factor=0.5``, ``min_delta=0`` (both act only with ``patience``): on
  ``benchmarks/real_wind.py --quick`` with ``patience=4`` (3 seeds) halving the learning rate
  after each epoch that does not lower the validation loss took the day-ahead MAE from 2.491
  to 2.304 m/s on the real series and from 1.340 to 1.296 on the synthetic one, in about the
  same time. ``min_delta=0.01`` (stop once an epoch gains under 1%) cut the epochs of
  ``benchmarks/wait.py`` from 7, 8 and 13 to 4, 8 and 7, but with it the real series' MAE
  was 2.588: it stays off until asked for. A learning-rate schedule with a higher peak
  (warm-up, then halving each epoch or half epoch, peaks 2e-3 and 3e-3) reached the plain
  loop's MAE no sooner than a constant 1e-3, so ``lr`` stays.
- ``residual=False``, ``normalize=None``: on the soft-sensor benchmark
  (``benchmarks/soft_sensor.py``, the README's "Soft sensors") ``residual=True`` starts as
  persistence and stays at or below it one row ahead on the reactor, but its 60-row rollouts
  drift further than the plain model's there, and on the real plant, whose inputs leave their
  training range, they run away unless ``normalize="window"`` reads each window in its own
  level; together they beat persistence there at every lead (on the mean of 3 seeds), where
  the plain model is 2 to 4.5 times behind it.
  Neither helps every series and neither was measured on wind: try both where inputs are
  known ahead, and compare ``run.evaluate()`` with its naive row.
- ``refit=False``, ``model="lstm"``, ``scaler="standard"``: on the soft-sensor benchmark at
  30 epochs ``refit=True`` cut every network's error by 40-45% on the real plant with its 89
  tags (the plant changes operating point in the validation rows) and by 1-13% elsewhere, but
  it doubles the fit and leaves no validation rows to score or calibrate intervals on until
  later rows come: it is asked for, not assumed. ``model="mlp"`` is 3-14% behind the
  gradient-boosted tree on the plant's 5 screened tags (with ``ensemble=3`` and refit) and
  12% behind ridge on the reactor 20-60 rows ahead; the LSTM 8-18% and 25-44%. Neither was
  measured on wind. ``scaler="robust"`` did worse than the standard one on the screened plant
  (the mlp's MAE 0.10 against 0.087 one row ahead, at 10 epochs).
- No covariates unless named: wind direction (as sine and cosine), temperature and
  ``calendar=True`` each helped one series at most. Compare ``run.history.val_forecast``
  with and without them.
"""


def _describe_settings() -> None:
    """Give ``train`` a real signature and a docstring listing every setting."""
    docs = field_docs()
    parameters = [inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    lines = []
    for name, (default, comment) in docs.items():
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
        lines.append(f"{name} : default {default!r}\n    {comment}")
    prepare.__signature__ = inspect.Signature(list(parameters), return_annotation=Run)
    prepare.__doc__ = (
        "An unfitted :class:`Run` for ``data``: the settings and the data checked, the data made into\n"
        "what the model reads, the model built, the settings it leaves open settled (``run.config``).\n"
        "``run.fit()`` trains it; ``ww.train(data, **settings)`` is ``ww.prepare(data, **settings).fit()``\n"
        "(with ``workers=``, ``fit`` is given the Ray driver as its ``trainer``).\n\n"
        "Parameters\n----------\n"
        "data : DataFrame, Series, ndarray, or the path of a CSV/Parquet file\n"
        "    the series, one row per time step\n" + "\n".join(lines)
    )
    for name, comment in RAY_SETTINGS.items():
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None))
        lines.append(f"{name} : default None\n    {comment}")
    train.__signature__ = inspect.Signature(parameters, return_annotation=Run)
    train.__doc__ = (
        "Train a recurrent forecaster on ``data`` and return its :class:`Run`.\n\n"
        "In a notebook with the live panel (``live='auto'``) the fit runs in a background thread\n"
        "and the call returns at once, so the Stop button stays live: ``run.wait()`` blocks until\n"
        "it ends; ``forecast``, ``evaluate`` and ``save`` wait by themselves. Elsewhere it returns\n"
        "when the fit ends.\n\n"
        "Parameters\n----------\n"
        "data : DataFrame, Series, ndarray, or the path of a CSV/Parquet file\n"
        "    the series, one row per time step\n" + "\n".join(lines) + "\n\n"
        "Returns\n-------\nRun\n    the model, its history and scaler; ``run.forecast(72)``, ``run.backtest()``,\n"
        "    ``run.evaluate()``, ``run.save(path)``. A panel gives a ``PanelRun``, a grid a ``GridRun``,\n"
        "    ``task='classify'`` a ``ClassifyRun``.\n" + DEFAULTS_CHOSEN
    )


_describe_settings()
