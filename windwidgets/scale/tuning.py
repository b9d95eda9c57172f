"""The Ray side of ``ww.sweep``: trial workers kept between trials and sweeps, and the driver
that hands them the trials of a :class:`~windwidgets.scale.sweep.Sweep` and stops bad ones.

Each worker is a Ray actor holding one CPU, with torch and windwidgets imported once. A trial
is an ordinary fit in it; at the end of each epoch the fit hands its figures (and, when the
epoch it keeps improved, its weights) to the driver and waits for a word: go on, or stop
(asynchronous successive halving, :class:`Halving`, or the sweep's Stop). The driver, in the
kernel, fills the Sweep's records as the reports come.

Why not Ray Tune's own trial loop: for fits of a second or two, its per-trial bookkeeping
(trial folders, result loggers, placement groups, a new worker process and a queue actor for
each sweep) cost 1.4-2.5 s a trial on 2 cores (``benchmarks/sweep_overhead.py``); here a
trial costs two actor calls and one per epoch.
"""
from __future__ import annotations

import io
import math
import queue
import time

import numpy as np
import torch

from ..errors import TrainingError
from ..train import Event
from .cluster import RaySession, first_line

METRICS = ("val_forecast", "val_loss", "train_loss")  # what a trial reports each epoch; the sweep minimises one
POLL_SECONDS = 0.2  # how often the driver looks at the sweep's Stop while it waits for reports


def tune(sweep, session: RaySession) -> None:
    """Run the trials of ``sweep`` on the session's workers; its records fill as they report.
    Ends ``session`` (Ray stays up, workers and all, where it keeps Ray)."""
    import ray

    start = time.perf_counter()
    try:
        points = sweep.space.trials(sweep.trials, int(sweep.fixed.get("seed", 0)))
        workers = pool(min(len(points), sweep.concurrent_trials or session.cpus()))
        Driver(sweep, workers, ray.put(sweep.data), points).run()
        if sweep._failed and not sweep._weights:
            raise TrainingError(f"every trial of the sweep failed; the first: {sweep._failed[0]}")
    except BaseException as error:  # the caller (or .wait()) gets it
        sweep._error = error
    finally:
        sweep.seconds = time.perf_counter() - start
        if not session.keep:
            release()
        session.__exit__(None, None, None)
        for view in sweep._views:
            view.finish(sweep)


class Driver:
    """Hands the ``points`` (each trial's searched settings) to the ``workers`` one trial each,
    hears their epochs, answers each with go on or stop, and gives the next point to a worker
    as soon as its trial ends."""

    def __init__(self, sweep, workers: list, data, points: list):
        self.sweep, self.data, self.points = sweep, data, list(points)
        self.idle, self.waiting = list(workers), {}  # waiting: ObjectRef of a worker's next report -> trial
        epochs = sweep.space.most("epochs", sweep.fixed.get("epochs", _default_epochs()))
        self.halving = Halving(epochs)
        self.numbers = iter(range(1, len(points) + 1))
        self.stopping = False

    def run(self) -> None:
        import ray

        try:
            while self.points or self.waiting:
                while self.points and self.idle and not self.sweep.stopped:
                    self._start(self.idle.pop(), self.points.pop(0))
                if self.sweep.stopped and not self.stopping:  # the Stop: each running trial ends after its batch
                    self.stopping = True
                    self.points.clear()
                    self._stop_all()
                ready, _ = ray.wait(list(self.waiting), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    trial = self.waiting.pop(ref)
                    try:
                        report = ray.get(ref)
                    except ray.exceptions.RayError as error:  # the worker died: the trial fails, the sweep goes on
                        report = ("end", {"error": first_line(error)})
                        forget(trial.pop("worker"))
                    self._heard(trial, report)
        finally:  # an interrupt or an error here: no trial may wait for a word that never comes
            self._stop_all()

    def _stop_all(self) -> None:
        for trial in self.waiting.values():
            trial["worker"].stop.remote(trial["key"])

    def _start(self, worker, settings: dict) -> None:
        key = f"trial_{next(self.numbers):05d}"
        trial = {"key": key, "worker": worker, "settings": settings, "started": time.perf_counter()}
        self.sweep._record(key, settings)
        worker.fit.remote(self.data, key, {**self.sweep.fixed, **settings, "live": False}, self.sweep.metric)
        self.waiting[worker.next.remote(key, None)] = trial

    def _heard(self, trial: dict, report: tuple) -> None:
        kind, value = report
        key, sweep = trial["key"], self.sweep
        if kind == "epoch":
            state = value.pop("state", None)
            if state is not None:  # the epoch it keeps improved: its weights now
                sweep._weights[key] = (value["best_epoch"], torch.load(io.BytesIO(state), map_location="cpu",
                                                                       weights_only=True), value["member_epochs"])
            value["time_total_s"] = time.perf_counter() - trial["started"]
            sweep._report(key, trial["settings"], value)
            go_on = not sweep.stopped and self.halving.go_on(key, value["epoch"], value[sweep.metric])
            self.waiting[trial["worker"].next.remote(key, go_on)] = trial
            return
        if value.get("error"):
            sweep._failed.append(value["error"])
            sweep._endings[key] = ("error", value["error"])
        elif value.get("stop_reason") == "nan":
            sweep._endings[key] = ("nan", value["warning"])
        sweep._finish_trial(key, trial["settings"], "finished")
        if "worker" in trial:
            self.idle.append(trial["worker"])


class Halving:
    """Asynchronous successive halving as Ray Tune's ASHA does it (one bracket, reduction
    factor 2): rungs at ``grace`` (a quarter of the epochs, at least 1) times 1, 2, 4, ... up
    to ``epochs``; a trial that reaches a rung goes on only if its metric is no worse than the
    median of those that reached that rung before it (NaN never stops one; inf does)."""

    def __init__(self, epochs: int):
        grace = max(1, epochs // 4)
        count = int(math.log(epochs / grace) / math.log(2) + 1)
        self.rungs = {grace * 2**k: {} for k in reversed(range(count))}  # epoch -> {trial: metric}, last first

    def go_on(self, key: str, epoch: int, value: float) -> bool:
        for rung, recorded in self.rungs.items():
            if epoch < rung or key in recorded:
                continue
            known = [v for v in recorded.values() if not math.isnan(v)]
            recorded[key] = value
            return not known or not value > np.percentile(known, 50)
        return True


_POOL: dict = {}  # the workers kept for the next sweep, and the Ray job they belong to


def pool(size: int) -> list:
    """``size`` trial workers: those kept from an earlier sweep in this Ray, and new ones."""
    import ray

    context = ray.get_runtime_context()
    job = (context.get_job_id(), context.get_node_id())  # a Ray started anew has another node
    if _POOL.get("job") != job:
        _POOL.clear()
        _POOL.update(job=job, workers=[])
    workers = _POOL["workers"]
    while len(workers) < size:
        workers.append(_worker_class().remote())
    return workers[:size]


def forget(worker) -> None:
    """Drop a worker that died from the kept ones."""
    if worker in _POOL.get("workers", []):
        _POOL["workers"].remove(worker)


def release() -> None:
    """End the kept workers (each holds a CPU), as a sweep that does not keep Ray does."""
    import ray

    for worker in _POOL.get("workers", []):
        ray.kill(worker)
    _POOL.clear()


class TrialWorker:
    """One trial at a time: :meth:`fit` runs the fit (in one of the actor's threads) and
    :meth:`next` (in another) passes on the driver's word about the last epoch, then waits for
    the next epoch's figures or the fit's end. ``key`` names the trial in every call, so a
    word meant for a trial that has ended is never read by the next."""

    def __init__(self):
        torch.set_num_threads(1)  # a trial holds one CPU
        self.reports, self.words = queue.Queue(), queue.Queue()
        self.run, self.key = None, None

    def fit(self, data, key: str, settings: dict, metric: str) -> None:
        from ..config import RunConfig
        from ..tasks import prepare

        self.key, self.run = key, None
        try:
            self.run = prepare(data, RunConfig.from_kwargs(**settings))  # ww.prepare(data, **settings)
            self.run.fit(view=lambda event, progress: self._epoch(key, metric, event, progress))
            p = self.run.trainer.progress
            self.reports.put((key, ("end", {"stop_reason": p.stop_reason, "warning": p.warning})))
        except Exception as error:  # the trial's row says why; the sweep goes on
            self.reports.put((key, ("end", {"error": first_line(f"{type(error).__name__}: {error}")})))

    def next(self, key: str, go_on):
        if go_on is not None:
            self.words.put((key, go_on))
        while True:
            sent, report = self.reports.get()
            if sent == key:
                return report

    def stop(self, key: str) -> None:
        """The sweep's Stop: end the trial ``key`` at once if it is this worker's."""
        if self.key == key and self.run is not None:
            self.run.trainer.stop()
            self.words.put((key, False))

    def _epoch(self, key: str, metric: str, event, progress) -> None:
        if event is not Event.EPOCH_END:
            return
        row = dict(progress.history[-1])
        row.setdefault(metric, row["val_loss"])  # no forecasts longer than the horizon: val_loss measures them
        row.update(best_epoch=progress.best_epoch, member_epochs=list(progress.member_epochs))
        # an ensemble's members may improve at any epoch
        if progress.best_epoch == progress.epoch or self.run.trainer.members:
            buffer = io.BytesIO()
            torch.save(self.run.trainer.kept_state(), buffer)
            row["state"] = buffer.getvalue()
        self.reports.put((key, ("epoch", row)))
        while True:
            sent, go_on = self.words.get()
            if sent == key:
                break
        if not go_on:
            self.run.trainer.stop()


_CLASSES: list = []


def _worker_class():
    """:class:`TrialWorker` as a Ray actor, made once Ray is imported (an optional extra)."""
    if not _CLASSES:
        import ray

        _CLASSES.append(ray.remote(num_cpus=1, max_concurrency=3)(TrialWorker))
    return _CLASSES[0]


def _default_epochs() -> int:
    from ..config import RunConfig

    return RunConfig().train.epochs
