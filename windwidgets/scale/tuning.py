"""The Tune side of ``ww.sweep``: the driver that runs a :class:`~windwidgets.scale.sweep.Sweep`'s
trials on Ray Tune, and the trial that runs in each Ray worker.

A subscriber to each trial's fit reports every epoch to Tune and, when the epoch it keeps
improves, sends the weights to the kernel through a Ray queue (and, when the fit stops itself
on a NaN or inf loss, its message). A Tune callback, which runs in the kernel, hands the
reports to the Sweep for the table and the views.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import threading
import time

import torch

from ..config import RunConfig
from ..errors import TrainingError
from ..train import Event
from .cluster import RaySession, first_line

NEW_OUTPUT = "RAY_AIR_NEW_OUTPUT"
METRICS = ("val_forecast", "val_loss", "train_loss")  # what a trial reports each epoch; the sweep minimises one
WEIGHTS, ENDED = "weights", "ended"  # what a trial sends through the sweep's queue


def tune(sweep, session: RaySession) -> None:
    """Run the trials of ``sweep`` on Tune; its records fill as they report. Ends ``session``."""
    from ray import tune
    from ray.util.queue import Queue

    start = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="windsweep-")  # Tune's own records; removed at the end
    try:
        sweep._queue = Queue(actor_options={"num_cpus": 0})  # the trials' best weights and endings, to here
        epochs = sweep.space.most("epochs", sweep.fixed.get("epochs", RunConfig().train.epochs))
        scheduler = tune.schedulers.ASHAScheduler(time_attr="training_iteration", max_t=epochs,
                                                  grace_period=max(1, epochs // 4), reduction_factor=2)
        trainable = tune.with_resources(tune.with_parameters(run_trial, data=sweep.data, fixed=sweep.fixed,
                                                             weights=sweep._queue, metric=sweep.metric),
                                        {"cpu": 1})
        tuner = tune.Tuner(
            trainable,
            param_space=sweep.space.to_tune(sampled=sweep.trials is not None),
            tune_config=tune.TuneConfig(metric=sweep.metric, mode="min", scheduler=scheduler,
                                        num_samples=sweep.trials or 1, reuse_actors=True,
                                        max_concurrent_trials=sweep.concurrent_trials),
            run_config=tune.RunConfig(
                name="windsweep", storage_path=folder, verbose=0,
                stop=StopAll(sweep._stop), callbacks=[Reports(sweep)]),
        )
        with _quiet_tune():  # the views say what happens; Tune's own tables would repeat it
            grid = tuner.fit()
        drain(sweep)
        _collect(sweep, grid)
    except BaseException as error:  # the caller (or .wait()) gets it
        sweep._error = error
    finally:
        sweep.seconds = time.perf_counter() - start
        shutil.rmtree(folder, ignore_errors=True)
        if sweep._queue is not None:
            sweep._queue.shutdown()
        session.__exit__(None, None, None)
        for view in sweep._views:
            view.finish(sweep)


def _collect(sweep, grid) -> None:
    """Note the trials that failed; raise when every one did."""
    failed = []
    for result in grid:
        if result.error is None:
            continue
        failed.append(result.error)
        key = (result.metrics or {}).get("trial_id")
        if key in sweep.records:
            sweep.records[key]["status"] = "error"
            sweep.records[key]["message"] = first_line(result.error)
    if failed and not sweep._weights:
        raise TrainingError(f"every trial of the sweep failed; the first: {first_line(failed[0])}")


def drain(sweep) -> None:
    """What the trials sent since the last look: weights (each trial's latest is its
    best) and how a fit ended that stopped itself."""
    if sweep._queue is None:
        return
    while not sweep._queue.empty():
        key, kind, value = sweep._queue.get()
        if kind == WEIGHTS:
            epoch, data, members = value
            sweep._weights[key] = (epoch, torch.load(io.BytesIO(data), map_location="cpu", weights_only=True), members)
        else:
            sweep._endings[key] = value



def run_trial(settings: dict, data=None, fixed=None, weights=None, metric: str = "val_loss") -> None:
    """One trial in a Ray worker: an ordinary fit that reports each epoch to Tune and sends
    its weights to the sweep's queue whenever the epoch it keeps improves, and there too
    the message of a fit that stopped itself (a NaN or inf loss), before it returns."""
    from ray import tune

    torch.set_num_threads(1)  # a trial holds one CPU
    from ..api import prepare

    run = prepare(data, **{**fixed, **settings, "live": False})
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

    run.fit(view=report)


def StopAll(flag: threading.Event):
    """A Tune stopper that ends every trial once the sweep's Stop is asked for."""
    return _tune_classes()[0](flag)


def Reports(owner):
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


def _searched(owner, config: dict) -> dict:
    return {name: _plain(config[name]) for name in owner.space.names if name in config}


def _plain(value):
    return value.item() if hasattr(value, "item") else value
