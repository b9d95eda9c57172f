"""``ww.sweep``: many ordinary fits over a search space on Ray Tune, bad ones stopped early.

Every trial is a ``ww.train`` fit (``live=False``) in a Ray worker; a subscriber to its
trainer's events reports each epoch to Tune and, when the epoch it keeps improves, sends
the weights to this process through a Ray queue (and, when the fit stops itself on a NaN or
inf loss, its message). A Tune callback, which runs in this process, collects the reports
for the table and the views. The best trial comes back as an ordinary :class:`Run`: built
with :func:`windwidgets.api.prepare_run` on the same data and settings, then given the
trial's best weights and history.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import tempfile
import threading
import time

import pandas as pd
import torch

from ..api import prepare_run
from ..config import RunConfig
from ..errors import ConfigError, TrainingError, WindwidgetsError, check_whole
from ..run import Run
from ..train import Event
from .cluster import RaySession, first_line, require_ray
from .space import SearchSpace, check_sweep_arguments

NEW_OUTPUT = "RAY_AIR_NEW_OUTPUT"
METRICS = ("val_forecast", "val_loss", "train_loss")  # what a trial reports each epoch; the sweep minimises one
AUTO = "auto"  # the metric that picks each fit's best epoch: val_forecast where forecasts are scored
ROW = ("epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm", "val_forecast")  # a history row
WEIGHTS, ENDED = "weights", "ended"  # what a trial sends through the sweep's queue


def sweep(data, space: dict, *, metric: str = AUTO, trials: int | None = None, address: str | None = None,
          num_cpus: int | None = None, concurrent_trials: int | None = None, keep_ray: bool = False,
          live="auto", **settings) -> "Sweep":
    """Train one model per point of ``space`` on Ray Tune and keep the best.

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
        a number runs that many trials, each drawing every list and range at random.
    address : None runs Ray on this machine, bound to loopback (or joins ``RAY_ADDRESS``);
        "auto" or "ray://head:10001" runs the trials on a cluster.
    num_cpus : CPUs for a local Ray (one trial per CPU at a time); None lets Ray count.
    concurrent_trials : at most this many trials at a time; None: one per CPU. On a few busy
        cores one at a time can be faster: each concurrent trial starts a worker process.
    keep_ray : leave a Ray that this sweep started running, for the next sweep.
    live : "auto" shows a leaderboard widget in a notebook and a line per report in a
        terminal; "widgets" or "text" force one; False shows nothing.
    **settings : fixed ``ww.train`` settings for every trial (target, window, epochs, ...).

    Bad trials are stopped early by ASHA (asynchronous successive halving) on ``metric``.
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
    if "loss" in search.names:
        raise ConfigError("`space` varies 'loss', but a trial's figures (val_forecast, val_loss, train_loss) are "
                          "in its own loss's units, so trials with different losses cannot be ranked; sweep one "
                          "loss at a time and compare the best runs with run.evaluate()")
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
        result._thread = threading.Thread(target=result._tune, args=(session,), daemon=True, name="windsweep")
        result._thread.start()
    else:
        result._tune(session)
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
        self._queue = None  # a Ray queue, while the sweep runs
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
        return self._table().sort_values(self.metric, na_position="last").reset_index(drop=True)

    @property
    def best(self) -> Run:
        """The best trial as an ordinary Run (forecast, evaluate, save, plot)."""
        self.wait()
        done = {key: r for key, r in self.records.items() if key in self._weights}
        if not done:
            raise TrainingError("no trial of the sweep finished an epoch, so there is no best Run; "
                                "run it again with more time (do not stop it so early) or fewer trials")
        key = self._leader(done)
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
        key = self._leader()
        if key is not None:
            best = self.records[key]
            shown = ", ".join(f"{k}={v!r}" for k, v in best["settings"].items())
            text += f"; best: trial {best['trial']} ({shown}), {self.metric} {best['best'][self.metric]:.4g}"
        return text

    def _repr_html_(self) -> str:
        return f"<p>{self!r}</p>" + self._table().to_html(index=False, float_format=lambda v: f"{v:.4g}")

    # -- building the table and the Runs -----------------------------------------------------
    def _leader(self, keys=None):
        """The trial (its id) whose kept epoch has the lowest ``metric``, finite ones first;
        None when none has reported one."""
        keys = [k for k in (self.records if keys is None else keys) if self.metric in self.records[k]["best"]]
        return min(keys, key=lambda k: _order(self.records[k]["best"][self.metric]), default=None)

    def _table(self) -> pd.DataFrame:
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
            run = prepare_run(self.data, config)
            epoch, state, members = self._weights[key]
            run.model.load_state_dict(state)
            run.model.eval()
            progress = run.trainer.progress
            progress.history.extend(dict(row) for row in record["history"])
            progress.epoch = len(record["history"])
            progress.best_epoch, progress.member_epochs = epoch, members
            progress.best_val_loss = record["best"]["val_loss"]
            progress.seconds = record["seconds"]
            run.trainer.best_state = {k: v.detach().clone() for k, v in state.items()}
            self._runs[key] = run
        return self._runs[key]

    def _check_data(self) -> Run:
        """The data with every value of the space (:meth:`SearchSpace.points`), prepared here:
        errors before Ray starts. The first trial's Run comes back."""
        first = None
        for name, value, point in self.space.points():
            try:
                run = prepare_run(self.data, RunConfig.from_kwargs(**{**self.fixed, **point, "live": False}))
            except WindwidgetsError as error:
                if name is None:
                    raise
                raise type(error)(f"`space` gives {name!r} the value {value!r}, which fails on the data: "
                                  f"{error}") from None
            if first is None:
                first = run
        return first

    # -- the Tune side -----------------------------------------------------------------------
    def _tune(self, session: RaySession) -> None:
        from ray import tune
        from ray.util.queue import Queue

        start = time.perf_counter()
        folder = tempfile.mkdtemp(prefix="windsweep-")  # Tune's own records; removed at the end
        try:
            self._queue = Queue(actor_options={"num_cpus": 0})  # the trials' best weights and endings, to here
            epochs = self.space.most("epochs", self.fixed.get("epochs", RunConfig().train.epochs))
            scheduler = tune.schedulers.ASHAScheduler(time_attr="training_iteration", max_t=epochs,
                                                      grace_period=max(1, epochs // 4), reduction_factor=2)
            trainable = tune.with_resources(tune.with_parameters(run_trial, data=self.data, fixed=self.fixed,
                                                                 weights=self._queue, metric=self.metric),
                                            {"cpu": 1})
            tuner = tune.Tuner(
                trainable,
                param_space=self.space.to_tune(sampled=self.trials is not None),
                tune_config=tune.TuneConfig(metric=self.metric, mode="min", scheduler=scheduler,
                                            num_samples=self.trials or 1, reuse_actors=True,
                                            max_concurrent_trials=self.concurrent_trials),
                run_config=tune.RunConfig(
                    name="windsweep", storage_path=folder, verbose=0,
                    stop=StopAll(self._stop), callbacks=[Reports(self)]),
            )
            with _quiet_tune():  # the views say what happens; Tune's own tables would repeat it
                grid = tuner.fit()
            self._drain()
            self._collect(grid)
        except BaseException as error:  # the caller (or .wait()) gets it
            self._error = error
        finally:
            self.seconds = time.perf_counter() - start
            shutil.rmtree(folder, ignore_errors=True)
            if self._queue is not None:
                self._queue.shutdown()
            session.__exit__(None, None, None)
            for view in self._views:
                view.finish(self)

    def _collect(self, grid) -> None:
        """Note the trials that failed; raise when every one did."""
        failed = []
        for result in grid:
            if result.error is None:
                continue
            failed.append(result.error)
            key = (result.metrics or {}).get("trial_id")
            if key in self.records:
                self.records[key]["status"] = "error"
                self.records[key]["message"] = first_line(result.error)
        if failed and not self._weights:
            raise TrainingError(f"every trial of the sweep failed; the first: {first_line(failed[0])}")

    def _drain(self) -> None:
        """What the trials sent since the last look: weights (each trial's latest is its
        best) and how a fit ended that stopped itself."""
        if self._queue is None:
            return
        while not self._queue.empty():
            key, kind, value = self._queue.get()
            if kind == WEIGHTS:
                epoch, data, members = value
                self._weights[key] = (epoch, torch.load(io.BytesIO(data), map_location="cpu", weights_only=True), members)
            else:
                self._endings[key] = value

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _report(self, trial_id: str, settings: dict, result: dict) -> None:
        """A trial's epoch, heard in this process (a Tune callback)."""
        self._drain()
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
        self._drain()  # a trial sends how it ended before it returns
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


def run_trial(settings: dict, data=None, fixed=None, weights=None, metric: str = "val_loss") -> None:
    """One trial in a Ray worker: an ordinary fit that reports each epoch to Tune and sends
    its weights to the sweep's queue whenever the epoch it keeps improves, and there too
    the message of a fit that stopped itself (a NaN or inf loss), before it returns."""
    from ray import tune

    torch.set_num_threads(1)  # a trial holds one CPU
    run = prepare_run(data, RunConfig.from_kwargs(**{**fixed, **settings, "live": False}))
    trial_id = tune.get_context().get_trial_id()

    def send(epoch: int, state: dict) -> None:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        weights.put((trial_id, WEIGHTS, (epoch, buffer.getvalue(), list(run.trainer.progress.member_epochs))))

    def report(event: Event, progress) -> None:
        if event is Event.FIT_END and progress.stop_reason == "nan":
            weights.put((trial_id, ENDED, (progress.stop_reason, progress.warning)))
        if event is not Event.EPOCH_END:
            return
        # sent before the report, so the sweep has it when it hears (Tune may end the trial at
        # the report of its last epoch); an ensemble's members may improve at any epoch
        if progress.best_epoch == progress.epoch or run.trainer.members:
            send(progress.best_epoch, run.trainer.kept_state())
        row = dict(progress.history[-1])
        # a fit whose forecasts are no longer than its horizon scores none: its val_loss measures them
        row.setdefault(metric, row["val_loss"])
        tune.report({**row, "best_epoch": progress.best_epoch})

    run.trainer.events.subscribe(report)
    run._fit()


def _settled_metric(metric: str, first: Run) -> str:
    """The metric that ranks the trials: for "auto", what picks the epoch of the first trial's
    fit (``first``, prepared in this process)."""
    scored = first.trainer.score is not None
    if metric == AUTO:
        return "val_forecast" if scored else "val_loss"
    if metric == "val_forecast" and not scored:
        d, t = first.config.data, first.config.train
        raise ConfigError(f"`metric` ('val_forecast') ranks trials by rolled validation forecasts, which these "
                          f"fits do not score (forecast_steps={t.forecast_steps}, horizon={d.horizon}; a panel or "
                          "a grid scores none): use metric='val_loss', or forecast_steps longer than the horizon")
    return metric


def _order(value: float) -> tuple:
    """Lower is better; NaN and inf after any finite value."""
    return (0, value) if math.isfinite(value) else (1, 0.0)


def StopAll(flag: threading.Event):
    """A Tune stopper that ends every trial once the sweep's Stop is asked for."""
    return _tune_classes()[0](flag)


def Reports(owner: Sweep):
    """A Tune callback (it runs in this process) that hands each trial's reports to the sweep."""
    return _tune_classes()[1](owner)


_CLASSES: list = []


def _tune_classes() -> list:
    """The stopper and callback classes, made once Ray is imported (it is an optional extra).
    Tune pickles its settings to save the experiment; the flag and the sweep stay here."""
    if _CLASSES:
        return _CLASSES
    from ray import tune

    class _StopAll(tune.Stopper):
        def __init__(self, flag):
            self.flag = flag

        def __call__(self, trial_id, result) -> bool:
            return self.stop_all()

        def stop_all(self) -> bool:
            flag = getattr(self, "flag", None)
            return flag is not None and flag.is_set()

        def __getstate__(self):
            return {}

    class _Reports(tune.Callback):
        def __init__(self, owner):
            self.owner = owner

        def on_trial_result(self, iteration, trials, trial, result, **info):
            self.owner._report(trial.trial_id, _searched(self.owner, trial.config), result)

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.owner._finish_trial(trial.trial_id, _searched(self.owner, trial.config), "finished")

        def on_trial_error(self, iteration, trials, trial, **info):
            self.owner._finish_trial(trial.trial_id, _searched(self.owner, trial.config), "error")

        def __getstate__(self):
            return {}

    _CLASSES.extend([_StopAll, _Reports])
    return _CLASSES


@contextlib.contextmanager
def _quiet_tune():
    """Tune's console reporter off (with ``verbose=0``) for the length of a sweep."""
    before = os.environ.get(NEW_OUTPUT)
    os.environ[NEW_OUTPUT] = "0"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(NEW_OUTPUT, None)
        else:
            os.environ[NEW_OUTPUT] = before


def _searched(owner: Sweep, config: dict) -> dict:
    return {name: _plain(config[name]) for name in owner.space.names if name in config}


def _plain(value):
    return value.item() if hasattr(value, "item") else value
