"""The Python API: ``train`` and ``load``. The magics and the dashboard call these."""
from __future__ import annotations

import inspect

import numpy as np
import torch

from . import tasks
from .config import RunConfig, field_docs
from .errors import ConfigError, ModelError, WindwidgetsError
from .files import read_run_file
from .forecast.rollout import as_array, carries, rollout
from .run import Run
from .views import TextView, in_notebook, make_view


def train(data, workers=None, address=None, **settings) -> Run:
    """Train a model on ``data`` and return its :class:`Run`. Settings are listed below."""
    config = RunConfig.from_kwargs(**settings)
    if workers is None and address is None:
        return fit(data, config)
    from .scale.parallel import fit_parallel

    return fit_parallel(data, config, 1 if workers is None else workers, address)


def fit(data, config: RunConfig, show=None, background: bool | None = None) -> Run:
    """Train with a ready :class:`RunConfig` (what ``train`` does after parsing keywords).

    ``show`` places a live panel somewhere else than the cell's output (the dashboard).
    In a notebook the live view trains in a background thread: see :func:`in_background`;
    ``background`` True or False decides it instead (the dashboard always trains in one).
    """
    run = prepare_run(data, config)
    m = config.model
    view = make_view(config.train.live, stop=run.stop, preview=forecast_preview(run), show=show,
                     title=f"{m.model}, {m.size}")
    if view is not None:
        run.trainer.events.subscribe(view)
    return run._fit(background=in_background(view) if background is None else background)


def in_background(view) -> bool:
    """Whether a fit watched by ``view`` runs in a background thread: a widget panel in a
    notebook kernel, whose Stop button is heard only while the kernel is free. The cell
    then returns at once with a Run that is still training; ``run.wait()`` blocks until it
    ends, and ``forecast``, ``evaluate`` and ``save`` wait by themselves. A kernel interrupt
    reaches the fit only while a cell waits on it; the Stop button works at any time."""
    return view is not None and not isinstance(view, TextView) and in_notebook()


def prepare_run(data, config: RunConfig) -> Run:
    """Everything before the first batch: the device, the data, the model and its trainer.

    The Run comes back unfitted; subscribe to ``run.trainer.events``, then call
    ``run._fit()``. ``fit`` does exactly that with the view ``config.train.live`` asks for.
    """
    device = resolve_device(config.train.device)
    torch.manual_seed(config.train.seed)
    return tasks.TASKS[config.data.task].prepare(data, config, device)


def forecast_preview(run: Run, steps: int | None = None):
    """For live views: a callable returning the model's free-running forecast over the start
    of the validation part and the truth there, for the first target, in original units
    (a dict of ``name``, ``context``, ``truth``, ``forecast`` arrays). None when there is
    nothing to roll forward. Call it between batches (it switches the model to eval mode)."""
    if not isinstance(run, Run):  # a classifier has no series to roll forward
        return None
    d, layout = run.config.data, run.layout
    steps = min(len(run.frame) - run.n_train, steps or max(2 * d.window, 48))
    if steps < 1:
        return None
    target = layout.targets[0]
    column = list(layout.outputs).index(target)
    series = run.frame[target].to_numpy(np.float64)
    context = series[max(0, run.n_train - d.window) : run.n_train]
    truth = series[run.n_train : run.n_train + steps]
    encoded = run.trainer.data.inputs  # (rows, inputs), scaled, on the device
    if run.trainer.data.segments:  # a panel: the first series, as run.frame is
        first, rows, _ = run.trainer.data.segments[0]
        encoded = encoded[first : first + rows]  # (rows of the first series, inputs)
    outputs = slice(0, len(layout.outputs))

    def preview() -> dict:
        training = run.model.training
        run.model.eval()
        try:
            scaled = rollout(run.model, encoded, run.n_train, steps, d.window, d.horizon,
                             len(layout.outputs), carries(run.config.train.mode))  # (steps, outputs)
        finally:
            run.model.train(training)
        forecast = as_array(run.scaler.inverse(scaled, outputs))[:, column]  # (steps,)
        return {"name": target, "context": context, "truth": truth, "forecast": forecast}

    return preview


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


def resolve_device(device) -> torch.device:
    """"auto" -> cuda, then mps, then cpu; anything else must name an available device."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"`device` ({device!r}) is not a torch device; use 'auto', 'cpu' or 'cuda'") from None
    mps = getattr(torch.backends, "mps", None)
    for kind, available in (("cuda", torch.cuda.is_available()),
                            ("mps", mps is not None and mps.is_available())):
        if device.type == kind and not available:
            raise ConfigError(f"`device` ({str(device)!r}) asks for {kind.upper()}, which this machine "
                              "lacks; use device='auto' to fall back to the CPU")
    return device


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
- ``residual=False``, ``normalize=None``: on the soft-sensor benchmark
  (``benchmarks/soft_sensor.py``, the README's "Soft sensors") ``residual=True`` starts as
  persistence and stays at or below it one row ahead on the reactor, but its 60-row rollouts
  drift further than the plain model's there, and on the real plant, whose inputs leave their
  training range, they run away unless ``normalize="window"`` reads each window in its own
  level; together they beat persistence there at every lead (on the mean of 3 seeds), where
  the plain model is 2 to 4.5 times behind it.
  Neither helps every series and neither was measured on wind: try both where inputs are
  known ahead, and compare ``run.evaluate()`` with its naive row.
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
