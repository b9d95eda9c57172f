"""``ww.train(..., workers=N)``: data-parallel training on Ray Train, watched from the kernel.

Every worker prepares the same data and builds the same model (same seed, so the same first
weights) and runs the ordinary :class:`~windwidgets.train.Trainer` on its share of each
epoch's batches, ``batch_size // workers`` windows a batch, so a step sees as many windows as
a single-worker step and an epoch takes as many steps. Gradients are averaged over the
workers (gloo all-reduce) after each backward pass, so every worker keeps the same weights;
each validates on the whole validation part, so all agree on the best epoch and on early
stopping. After each backward pass one more all-reduce shares what all must agree on: the
batch's loss (the mean of the workers', so a NaN or inf met on one worker's windows stops
every worker at the same step, with the message and the best weights of a single fit) and
whether a Stop was asked. Worker 0 sends the trainer's events (and the best weights when
they improve) through a Ray queue to the kernel, where they drive the usual views; a Stop
asked in the kernel reaches worker 0 through a second queue, so all stop after the same batch.
"""
from __future__ import annotations

import dataclasses
import io
import math
import tempfile
import threading
import time

import torch

from ..config import RunConfig
from ..errors import ConfigError, TrainingError, check_whole, warn
from ..train import Event, Trainer, TrainingWarning
from .cluster import RaySession, first_line, require_ray
from .tuning import release

EVENT_INTERVAL = 0.2  # seconds between two batch events sent to the kernel at least
PROGRESS = ("epoch", "batch", "samples", "batch_loss", "train_loss", "val_loss", "grad_norm", "metrics",
            "best_epoch", "best_val_loss", "member_epochs", "kept_score", "seconds", "stop_reason", "warning")


def check_workers(workers, config: RunConfig) -> int:
    workers = check_whole("workers", workers, hint=", such as workers=2")
    if config.data.task != "forecast":
        raise ConfigError(f"`workers` ({workers}) trains forecasters on several workers; task={config.data.task!r} "
                          "trains on one: leave `workers` out")
    if config.train.refit:
        raise ConfigError(f"`workers` ({workers}) share a fit's epochs; `refit=True` learns again on one machine "
                          "after the fit: leave out `refit` or `workers`")
    return workers


class RayTrainer:
    """Trains a Run's model on Ray workers in place of its own trainer (``run.fit(trainer=...)``):
    ``fit`` replays worker 0's events here on the local trainer's ``progress`` and ``events``,
    so the Run and its views see an ordinary fit; ``stop`` reaches every worker at the next
    batch. ``local`` is the Run's own trainer, ``config`` its settled config."""

    def __init__(self, local: Trainer, data, config: RunConfig, workers: int, address: str | None):
        if config.train.mode == "stateful":
            raise ConfigError(f"`workers` ({workers}) splits each epoch's batches between workers; mode "
                              "'stateful' carries the state through the series in order: leave `workers` out "
                              "or use mode='window'")
        ray = require_ray("ww.train(..., workers=...)")
        if address is None and ray.is_initialized():  # a Ray with fewer CPUs would wait for ever
            cpus = int(ray.cluster_resources().get("CPU", 0))
            if cpus < workers:
                raise ConfigError(f"`workers` ({workers}) needs {workers} CPUs, one a worker; the Ray running in "
                                  f"this session has {cpus}: use workers={max(cpus, 1)}, or ray.shutdown() first "
                                  "so that a Ray with enough CPUs starts")
        self.source, self.run_config, self.workers, self.address = data, config, workers, address
        self.model, self.progress, self.events = local.model, local.progress, local.events
        self.score = local.score  # what val_forecast scores, for the views to say
        self.where = f"on {workers} Ray workers"  # for the view's title
        self.stop_requested = threading.Event()
        self._stops = None

    def stop(self) -> None:
        self.stop_requested.set()
        if self._stops is not None:
            self._stops.put(True)

    def fit(self):
        ray = require_ray("ww.train(..., workers=...)")
        from ray.util.queue import Queue

        with RaySession(self.address, num_cpus=None if self.address else self.workers):
            release()  # the trial workers a kept sweep left each hold a CPU these workers need
            events, self._stops = Queue(actor_options={"num_cpus": 0}), Queue(actor_options={"num_cpus": 0})
            if self.stop_requested.is_set():
                self._stops.put(True)
            outcome: dict = {}
            thread = threading.Thread(target=self._train, args=(ray.put(self.source), events, self._stops, outcome),
                                      daemon=True, name="windwidgets-ray-train")
            thread.start()
            try:
                self._follow(thread, events)
            finally:
                self._follow(thread, events)  # after an interrupt: the workers stop, their last events still come
                events.shutdown()
                self._stops.shutdown()
                self._stops = None
        if "error" in outcome:
            p = self.progress
            p.stop_reason, p.warning = "error", f"a Ray worker failed: {first_line(outcome['error'])}"
            self.events.emit(Event.FIT_END, p)
            raise TrainingError(p.warning)
        if self.progress.stop_reason == "nan":  # warned in a worker; said here, as a single fit does
            warn(self.progress.warning, TrainingWarning)
        return self.progress

    def _train(self, data_ref, events, stops, outcome: dict) -> None:
        from ray.train import RunConfig as RayRunConfig
        from ray.train import ScalingConfig
        from ray.train.torch import TorchConfig, TorchTrainer

        try:
            with tempfile.TemporaryDirectory(prefix="windwidgets-train-") as folder:
                TorchTrainer(
                    train_worker,
                    train_loop_config={"data": data_ref, "config": self.run_config.to_dict(), "events": events,
                                       "stops": stops},
                    scaling_config=ScalingConfig(num_workers=self.workers, use_gpu=False),
                    torch_config=TorchConfig(backend="gloo"),
                    run_config=RayRunConfig(name="windwidgets-train", storage_path=folder),
                ).fit()
        except Exception as error:  # noqa: BLE001 - reported in the kernel with its first line
            outcome["error"] = error

    def _follow(self, thread: threading.Thread, events) -> None:
        """Replay worker 0's events here until the workers end."""
        while True:
            alive = thread.is_alive()
            try:
                while not events.empty():
                    self._replay(*events.get())
            except KeyboardInterrupt:  # the kernel's interrupt: the workers stop after this batch
                self.stop()
                continue
            if not alive:
                return
            try:
                thread.join(0.05)
            except KeyboardInterrupt:
                self.stop()

    def _replay(self, name: str, values: dict, row: dict | None, state: bytes | None) -> None:
        p = self.progress
        for key, value in values.items():
            setattr(p, key, value)
        if row is not None:
            p.history.append(row)
        if state is not None:
            self.model.load_state_dict(torch.load(io.BytesIO(state), map_location="cpu", weights_only=True))
        self.events.emit(Event(name), p)


def train_worker(loop: dict) -> None:
    """The loop of one Ray Train worker (module level, so workers import it by name)."""
    import ray
    import torch.distributed as dist
    from ray import train

    from ..tasks import prepare
    from ..tasks.forecast import forecast_trainer

    torch.set_num_threads(1)
    context = train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    run = prepare(ray.get(loop["data"]), RunConfig.from_dict(loop["config"]).replace(live=False))
    data, config = run.trainer.data, run.config  # settled: the mode and the forecast steps
    if config.train.mode == "window":  # an equal share of the windows each, so every step is shared
        index = data.windows.train_index
        share = len(index) // world * world
        data.windows.train_index = index[:share][rank::world]
    share = dataclasses.replace(config.train, batch_size=max(1, config.train.batch_size // world))
    agree = _Agree(rank, world, loop["stops"])
    # built as a single fit's (the epoch picked by the same forecast score), on this worker's share
    trainer = forecast_trainer(run.model, data, dataclasses.replace(config, train=share), run.device,
                               reduce_loss=agree)
    agree.stop = trainer.stop
    trainer.generator.manual_seed(share.seed + rank)  # sequence mode draws different chunks on each
    for parameter in run.model.parameters():
        if parameter.requires_grad:
            parameter.register_post_accumulate_grad_hook(_average(world))
    if rank == 0:
        trainer.events.subscribe(_Send(trainer, loop["events"]))
    trainer.fit()
    dist.barrier()


def _average(world: int):
    import torch.distributed as dist

    def hook(parameter: torch.Tensor) -> None:
        dist.all_reduce(parameter.grad)
        parameter.grad /= world

    return hook


class _Agree:
    """What the workers agree on after every backward pass, in one all-reduce: the batch's
    loss, averaged over the workers (the trainer checks and records that mean, so a NaN or
    inf on any worker stops every one at the same step, and each epoch's train loss is the
    mean of all), and whether the kernel asked for a Stop (then all stop after this batch)."""

    def __init__(self, rank: int, world: int, stops):
        self.rank, self.world, self.stops = rank, world, stops
        self.stop = None  # the worker's Trainer.stop, once the trainer is built
        self._last = -math.inf

    def __call__(self, loss: float) -> float:
        import torch.distributed as dist

        asked = 0.0
        now = time.monotonic()
        if self.rank == 0 and now - self._last >= EVENT_INTERVAL:
            self._last = now
            asked = float(not self.stops.empty())
        shared = torch.tensor([loss, asked], dtype=torch.float64)  # (loss, stop asked)
        dist.all_reduce(shared)
        if shared[1].item() > 0:
            self.stop()
        return shared[0].item() / self.world


class _Send:
    """Worker 0's events to the kernel: batch events at most every EVENT_INTERVAL seconds."""

    def __init__(self, trainer: Trainer, queue):
        self.trainer, self.queue = trainer, queue
        self._last = -math.inf

    def __call__(self, event: Event, p) -> None:
        now = time.monotonic()
        if event is Event.BATCH_END:
            if now - self._last < EVENT_INTERVAL:
                return
            self._last = now
        values = {key: getattr(p, key) for key in PROGRESS}
        row = dict(p.history[-1]) if event is Event.EPOCH_END else None
        state = None
        if (event is Event.EPOCH_END and p.best_epoch == p.epoch) or event is Event.FIT_END:
            buffer = io.BytesIO()
            torch.save(self.trainer.kept_state(), buffer)
            state = buffer.getvalue()
        self.queue.put((event.value, values, row, state))
