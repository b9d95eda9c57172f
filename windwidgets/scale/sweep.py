"""``ww.sweep``: many ordinary fits over a search space on Ray, bad ones stopped early,
and the :class:`Sweep` that holds their results.

Every trial is a ``ww.train`` fit (``live=False``) in a Ray worker kept between trials and
sweeps (see :mod:`windwidgets.scale.tuning`, which drives them). The best trial comes back as an ordinary
:class:`Run`: the same data and settings made into a Run here, with the trial's best weights
and history (:func:`windwidgets.tasks.forecast.trained`).
"""
from __future__ import annotations

import math
import threading

import pandas as pd

from ..config import RunConfig
from ..errors import ConfigError, TrainingError, WindwidgetsError, check_whole
from ..run import Run
from ..tasks import prepare
from ..tasks.forecast import trained
from .cluster import RaySession, require_ray
from .space import SearchSpace, check_sweep_arguments
from .tuning import METRICS, tune

AUTO = "auto"  # the metric that picks each fit's best epoch: val_forecast where forecasts are scored
ROW = ("epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm", "val_forecast")  # a history row


def sweep(data, space: dict, *, metric: str = AUTO, trials: int | None = None, address: str | None = None,
          num_cpus: int | None = None, concurrent_trials: int | None = None, keep_ray: bool = False,
          live="auto", **settings) -> "Sweep":
    """Train one model per point of ``space`` on Ray and keep the best.

    Parameters
    ----------
    data : what ``ww.train`` takes.
    space : setting -> values to try. A list is the values (``"model": ["lstm", "gru"]``);
        ``{"loguniform": [low, high]}`` and ``{"uniform": [low, high]}`` are ranges (whole
        numbers at both ends draw whole numbers).
    metric : the value of each trial's best epoch (the epoch its Run keeps) that picks the best
        trial: "auto" is what picks the epochs, "val_forecast" (the error of rolled
        validation forecasts of ``forecast_steps`` rows, as in ``ww.train``) where the fits
        score them, else "val_loss"; or "val_forecast", "val_loss" or "train_loss". A trial
        whose forecasts are no longer than its horizon scores none of its own: its
        ``val_loss`` measures them, and stands for its ``val_forecast``.
    trials : None runs every combination of the lists once (ranges drawn once for each);
        a number runs that many trials, each drawing every list and range at random (the
        draws follow the ``seed`` setting).
    address : None runs Ray on this machine, bound to loopback (or joins ``RAY_ADDRESS``);
        "auto" or "ray://head:10001" runs the trials on a cluster.
    num_cpus : CPUs for a local Ray (one trial per CPU at a time); None lets Ray count.
    concurrent_trials : at most this many trials at a time; None: one per CPU. On a few busy
        cores one at a time can be faster: each concurrent trial starts a worker process.
    keep_ray : leave a Ray that this sweep started running, and its trial workers (torch and
        windwidgets imported, one CPU each), for the next sweep: its trials start at once.
        Without it the workers end with the sweep.
    live : "auto" shows a leaderboard widget in a notebook and a line per report in a
        terminal; "widgets" or "text" force one; False shows nothing.
    **settings : fixed ``ww.train`` settings for every trial (target, window, epochs, ...).

    Bad trials are stopped early by asynchronous successive halving on ``metric``, as Ray
    Tune's ASHA does it (:class:`~windwidgets.scale.tuning.Halving`).
    In a notebook with the widget, the sweep runs in a background thread so the Stop button
    is heard; ``.wait()`` blocks, and ``.best``, ``.table`` and ``.runs`` wait by themselves.

    Examples
    --------
    >>> result = ww.sweep(wind, {"model": ["lstm", "gru"], "lr": {"loguniform": [1e-4, 1e-2]}},
    ...                   target="speed", epochs=10, trials=8)          # doctest: +SKIP
    >>> result.table; result.best.forecast(24)                         # doctest: +SKIP
    """
    check_sweep_arguments(live, keep_ray)
    if metric not in (AUTO, *METRICS):
        raise ConfigError(f"`metric` ({metric!r}) is not one a trial reports; use one of "
                          f"{', '.join(map(repr, (AUTO, *METRICS)))}")
    if trials is not None:
        trials = check_whole("trials", trials, hint=", or None to try every combination of the lists once")
    if concurrent_trials is not None:
        concurrent_trials = check_whole("concurrent_trials", concurrent_trials,
                                        hint=", or None for one trial per CPU")
    RunConfig.from_kwargs(**settings)  # the fixed settings alone, with the usual messages
    search = SearchSpace(space, settings)
    for name in ("loss", "quantiles"):  # the levels of loss='quantile' make its loss what it is
        if name in search.names:
            raise ConfigError(f"`space` varies {name!r}, but a trial's figures (val_forecast, val_loss, train_loss) "
                              "are in its own loss's units, so trials with different losses cannot be ranked; sweep "
                              "one loss at a time and compare the best runs with run.evaluate()")
    if settings.get("refit") or "refit" in search.names:  # the trials send their weights epoch by epoch
        raise ConfigError("`refit=True` in a sweep: each trial's Run keeps the weights of the epoch its validation "
                          "chose, never a refit's; sweep without refit, then train the best trial's settings again: "
                          "ww.train(data, **result.settings(trial), refit=True)")
    result = Sweep(data, search, settings, metric, trials)
    result.concurrent_trials = concurrent_trials
    result.metric = _settled_metric(metric, result._check_data())
    require_ray()  # after the checks: a mistake is named first, Ray or not
    session = RaySession(address, num_cpus, keep_ray)
    from ..views import in_notebook
    from ..views.leaderboard import Leaderboard, make_sweep_view

    view = make_sweep_view(live, stop=result.stop, names=search.names, metric=result.metric)
    result.view = view
    if view is not None:
        result._views.append(view)
    session.__enter__()  # Ray starts in the kernel's main thread
    if isinstance(view, Leaderboard) and in_notebook():  # its Stop is heard only while the kernel is free
        result._thread = threading.Thread(target=tune, args=(result, session), daemon=True, name="windsweep")
        result._thread.start()
    else:
        tune(result, session)
        result._raise()
    return result


class Sweep:
    """The trials of a sweep: ``.table`` (one row each), ``.best`` (a Run), ``.runs``."""

    def __init__(self, data, space: SearchSpace, fixed: dict, metric: str, trials: int | None):
        self.data, self.space, self.fixed, self.metric, self.trials = data, space, fixed, metric, trials
        self.records: dict = {}  # trial id -> {"trial", settings, "history", "status", ...}
        self._weights: dict = {}  # trial id -> (epoch, state_dict, member epochs) of the weights it keeps
        self._endings: dict = {}  # trial id -> (stop reason, message) of a fit that stopped itself
        self._views: list = []
        self.view = None  # the leaderboard widget or the text view, None with live=False
        self._runs: dict = {}
        self._stop = threading.Event()
        self._thread = None
        self._error = None
        self._failed: list = []  # the messages of trials that failed
        self.concurrent_trials = None  # at most this many trials at a time; None: one per CPU
        self.seconds = 0.0

    # -- the public side ---------------------------------------------------------------------
    def stop(self) -> "Sweep":
        """End the sweep: running trials stop; what they and the finished ones reported stays."""
        self._stop.set()
        return self

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> "Sweep":
        """Block until a sweep running in the background ends; raise what failed it."""
        if self._thread is not None:
            self._thread.join(timeout)
        self._raise()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def table(self) -> pd.DataFrame:
        """One row per trial: trial, the searched settings, epochs, the figures of the epoch
        its Run keeps (val_forecast where the fits score forecasts, val_loss, train_loss),
        seconds, status (finished, stopped early, stopped, nan or error) and the message of a
        trial that did not finish; sorted by ``metric``, best first."""
        self.wait()
        return self.live_table().sort_values(self.metric, na_position="last").reset_index(drop=True)

    @property
    def best(self) -> Run:
        """The best trial as an ordinary Run (forecast, evaluate, save, plot)."""
        self.wait()
        done = {key: r for key, r in self.records.items() if key in self._weights}
        if not done:
            raise TrainingError("no trial of the sweep finished an epoch, so there is no best Run; "
                                "run it again with more time (do not stop it so early) or fewer trials")
        key = self.leader(done)
        if key is None:
            raise TrainingError("no trial of the sweep reported its best epoch, so there is no best Run; "
                                "run it again with more time (do not stop it so early) or fewer trials")
        return self._run(key)

    @property
    def runs(self) -> list:
        """A Run for every trial that finished at least one epoch, in trial order."""
        self.wait()
        keys = sorted((k for k in self.records if k in self._weights), key=lambda k: self.records[k]["trial"])
        return [self._run(key) for key in keys]

    def settings(self, trial: int) -> dict:
        """The full ``ww.train`` settings of trial number ``trial``."""
        for record in self.records.values():
            if record["trial"] == trial:
                return {**self.fixed, **record["settings"]}
        raise ConfigError(f"there is no trial {trial}; trials are numbered 1 to {len(self.records)}")

    def __repr__(self) -> str:
        done = sum(r["status"] == "finished" for r in self.records.values())
        text = f"Sweep: {len(self.records)} trials ({done} finished all epochs) in {self.seconds:.1f}s"
        key = self.leader()
        if key is not None:
            best = self.records[key]
            shown = ", ".join(f"{k}={v!r}" for k, v in best["settings"].items())
            text += f"; best: trial {best['trial']} ({shown}), {self.metric} {best['best'][self.metric]:.4g}"
        return text

    def _repr_html_(self) -> str:
        return f"<p>{self!r}</p>" + self.live_table().to_html(index=False, float_format=lambda v: f"{v:.4g}")

    # -- building the table and the Runs -----------------------------------------------------
    def leader(self, keys=None):
        """The trial (its id) whose kept epoch has the lowest ``metric``, finite ones first;
        None when none has reported one."""
        keys = [k for k in (self.records if keys is None else keys) if self.metric in self.records[k]["best"]]
        return min(keys, key=lambda k: _order(self.records[k]["best"][self.metric]), default=None)

    def live_table(self) -> pd.DataFrame:
        """The table so far, in trial order, without waiting (the views redraw it)."""
        scores = [name for name in METRICS
                  if name == self.metric or any(name in r["best"] for r in self.records.values())]
        columns = ["trial", *self.space.names, "epochs", *scores, "seconds", "status", "message"]
        rows = []
        for record in sorted(self.records.values(), key=lambda r: r["trial"]):
            best = record["best"]
            rows.append({"trial": record["trial"], **record["settings"], "epochs": len(record["history"]),
                         **{name: best.get(name, float("nan")) for name in scores},
                         "seconds": record["seconds"], "status": record["status"], "message": record["message"]})
        return pd.DataFrame(rows, columns=columns)

    def _run(self, key: str) -> Run:
        if key not in self._runs:
            record = self.records[key]
            config = RunConfig.from_kwargs(**{**self.fixed, **record["settings"], "live": False})
            epoch, state, members = self._weights[key]
            progress = {"best_epoch": epoch, "member_epochs": members, "seconds": record["seconds"]}
            self._runs[key] = trained(self.data, config, state, record["history"], progress)
        return self._runs[key]

    def _check_data(self) -> Run:
        """The data with every value of the space (:meth:`SearchSpace.points`), prepared here:
        errors before Ray starts. The first trial's Run comes back."""
        first = None
        for name, value, point in self.space.points():
            try:
                run = prepare(self.data, RunConfig.from_kwargs(**{**self.fixed, **point, "live": False}))
            except WindwidgetsError as error:
                if name is None:
                    raise
                raise type(error)(f"`space` gives {name!r} the value {value!r}, which fails on the data: "
                                  f"{error}") from None
            if first is None:
                first = run
        return first

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _report(self, trial_id: str, settings: dict, result: dict) -> None:
        """A trial's epoch, heard in this process."""
        record = self._record(trial_id, settings)
        row = {k: result[k] for k in ROW if k in result}
        record["history"].append(row)
        kept = [r for r in record["history"] if r["epoch"] == result.get("best_epoch")]
        if kept:  # the epoch the trial's Run keeps: its figures rank it
            record["best"] = {name: kept[0][name] for name in METRICS if name in kept[0]}
        record["seconds"] = float(result.get("time_total_s", record["seconds"]))  # the trial's, set-up included
        for view in self._views:
            view.update(self, record)

    def _record(self, trial_id: str, settings: dict) -> dict:
        if trial_id not in self.records:
            self.records[trial_id] = {"trial": len(self.records) + 1, "settings": settings, "history": [],
                                      "best": {}, "seconds": 0.0, "status": "running", "message": ""}
        return self.records[trial_id]

    def _finish_trial(self, trial_id: str, settings: dict, status: str) -> None:
        record = self._record(trial_id, settings)
        if trial_id in self._endings and record["status"] == "running":  # it stopped itself: a NaN loss
            record["status"], record["message"] = self._endings[trial_id]
        if record["status"] == "running":
            epochs = int(self.fixed.get("epochs", settings.get("epochs", RunConfig().train.epochs)))
            record["status"] = status if status != "finished" or len(record["history"]) >= epochs else "stopped early"
            if self.stopped and record["status"] == "stopped early":
                record["status"] = "stopped"
        for view in self._views:
            view.update(self, record)


def _settled_metric(metric: str, first: Run) -> str:
    """The metric that ranks the trials: for "auto", what picks the epoch of the first trial's
    fit (``first``, prepared in this process)."""
    scored = first.trainer.score is not None
    if metric == AUTO:
        return "val_forecast" if scored else "val_loss"
    if metric == "val_forecast" and not scored:
        d, t = first.config.data, first.config.train
        raise ConfigError(f"`metric` ('val_forecast') ranks trials by rolled validation forecasts, which these "
                          f"fits do not score (forecast_steps={t.forecast_steps}, horizon={d.horizon}, or no validation "
                          "part that long): use metric='val_loss', or forecast_steps longer than the horizon")
    return metric


def _order(value: float) -> tuple:
    """Lower is better; NaN and inf after any finite value."""
    return (0, value) if math.isfinite(value) else (1, 0.0)


