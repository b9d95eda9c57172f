"""The training loop: Adam on the windows, guards, early stopping, events; no drawing."""
from __future__ import annotations

import math
import threading
from functools import partial
import time

import torch
from torch import nn

from ..config import WINDOW_BATCH, TrainConfig
from ..data.windows import Chunks, SideBySide, Streams, member_orders
from ..errors import warn
from .depth import DepthWarning, fit_warning
from .events import Event, Events, Progress
from .guards import GradientWatch
from .losses import LOSSES, training_loss  # noqa: F401 (LOSSES is also read from here)
from .refit import refit, refitting
from .stopping import on_plateau, patience_stop
from .threads import fit_threads, restore_torch_state, snapshot, torch_state

NAN_ADVICE = (
    "the loss became {value} at epoch {epoch}, batch {batch}; training stopped and the weights "
    "of epoch {best} were restored. Likely causes: a learning rate too high (try lr={lr:.0e}), "
    "unscaled data (keep scaler='standard'), or exploding gradients (set clip_grad=1.0)"
)


class TrainingWarning(UserWarning):
    """Training ended early for a reason the person should know."""


class Trainer:
    """Fits ``model`` on prepared windows and announces each step through ``events``.

    Parameters
    ----------
    model : a forecaster (see :mod:`windwidgets.zoo.registry`).
    data : the prepared data (:class:`~windwidgets.data.Prepared`).
    config : the training settings.
    device : where the model and batches live.
    events : subscribers (history, views) hear every :class:`Event`.
    loss : the loss module; by default the one ``config.loss`` names. One with a ``point`` method
        (the pinball loss) reads every level of ``model(x, quantiles=True)``; its point is fed back.
    metrics : extra validation scores, ``{name: function(prediction, y) -> batch mean}``;
        each lands in ``progress.metrics`` and in the history under its name.
    score : ``function(model) -> float``, lower is better, that picks the best epoch and
        drives early stopping instead of the validation loss (the error of the forecasts
        the model will be asked for); it lands in the history as ``val_forecast``.
    reduce_loss : ``function(value) -> value`` for each batch's loss before it is checked
        and recorded: data-parallel workers average theirs over all the workers here, so a
        NaN or inf met on any one is seen by every one, and all stop at the same step. None
        keeps each batch's own.
    members : the parts of ``model`` that learn side by side (an ensemble's members), as if
        each were fitted apart: each draws its own order of the windows (a batch holds one
        share per member, see :class:`~windwidgets.data.windows.SideBySide`), has its
        gradient clipped alone, and keeps its own best epoch, by ``score`` or else by its own
        validation loss; ``patience`` counts from the last epoch any of them improved (a member
        whose own patience ran out trains on with the others, and may still improve: the one
        way it differs from a lone fit). ``progress.member_epochs`` holds the epochs kept.

    A model with ``uses_targets = True`` (a decoder taught with teacher forcing) is called
    in training as ``model(x, target=y, fraction_done=f)``, ``f`` going from 0 to 1 over the
    fit, and decides itself what to do with them; in validation it gets ``x`` alone.
    """

    def __init__(self, model: nn.Module, data, config: TrainConfig, device: torch.device,
                 events: Events | None = None, loss: nn.Module | None = None,
                 metrics: dict | None = None, score=None, reduce_loss=None, members: list | None = None):
        self.model, self.data, self.config, self.device = model, data, config, device
        self.members = list(members or [])
        self.clip_groups = [list(m.parameters()) for m in self.members] or [list(model.parameters())]
        self.reduce_loss = reduce_loss
        self.events = events or Events()
        self.loss = loss or training_loss(config)
        self.ask = {"quantiles": True} if hasattr(self.loss, "point") else {}  # every level, for the loss
        self.point = getattr(self.loss, "point", _same)
        self.metrics = dict(metrics or {})
        self.score, self._best_score = score, (2, math.inf)  # (rank, value): lower is better
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.stop_requested = threading.Event()
        self.gradients, self._warned_epoch = GradientWatch(), 0
        self.best_state = self.initial_state = snapshot(model)
        self.member_states, self._member_best = [snapshot(m) for m in self.members], [(2, math.inf)] * len(self.members)
        self.member_orders = member_orders(self.generator, len(self.members))
        self.progress = Progress(epochs=config.epochs, batches=len(self._batches()), device=str(device),
                                 member_epochs=[0] * len(self.members))

    def stop(self) -> None:
        """Ask the fit to end after the current batch; it still runs its end-of-fit steps."""
        self.stop_requested.set()

    def fit(self) -> Progress:
        p = self.progress
        start = time.perf_counter()
        saved = torch_state()
        # an ensemble's members run one after another, so one member's size decides
        threads = fit_threads(self.config.threads, self.members[0] if self.members else self.model, self.device)
        if threads and threads != saved[2]:
            torch.set_num_threads(threads)  # for the fit alone: put back when it ends
        self._emit(Event.FIT_START)
        try:
            torch.set_grad_enabled(True)  # whatever an earlier fit's interrupt left behind
            for p.epoch in range(p.epoch + 1, self.config.epochs + 1):
                epoch_start = time.perf_counter()
                self._emit(Event.EPOCH_START)
                self._train_epoch(start)
                if p.stop_reason == "nan":
                    break
                p.val_loss = self.validate()
                self._end_epoch(time.perf_counter() - epoch_start, start)
                if self.stop_requested.is_set() or p.stop_reason:
                    p.stop_reason = p.stop_reason or "stopped"
                    break
            if refitting(self.config, p):
                refit(self, start)
        except KeyboardInterrupt:
            p.stop_reason = "interrupted"
            self._emit(Event.INTERRUPTED)
        except Exception as error:  # the views show it; the caller (or run.wait()) gets it
            p.stop_reason = "error"
            p.warning = f"{type(error).__name__} at epoch {p.epoch}, batch {p.batch + 1}: {error}"
            raise
        finally:
            restore_torch_state(saved)
            self.model.load_state_dict(self.kept_state())
            self.model.eval()
            depth = fit_warning(p, self.data) if p.stop_reason not in ("error", "interrupted", "nan") else None
            if depth:  # out of its depth: a validation loss or inputs unlike the training ones
                p.warning = depth
                warn(depth, DepthWarning)
                self._emit(Event.WARNING)
            if self.members and self.score is not None and p.stop_reason not in ("error", "interrupted") \
                    and not p.refit:  # a refit's members learned the validation rows: refit() scored them before
                p.kept_score = self.score(self.model)  # the members' kept epochs together, as the Run forecasts
            p.seconds = time.perf_counter() - start
            self._emit(Event.FIT_END)
        return p

    def _train_epoch(self, start: float) -> None:
        p = self.progress
        self.model.train()
        p.batch, total = 0, 0.0
        state = None
        batches = self._batches()
        for x, y in batches:
            if self.stop_requested.is_set():
                break
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            loss, state = self._batch_loss(batches, x, y, state)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = self._clip()
            value = loss.item() if self.reduce_loss is None else self.reduce_loss(loss.item())
            if not math.isfinite(value):
                self._nan(value)
                return
            self._watch_gradients(float(grad_norm))
            self.optimizer.step()
            p.batch += 1
            p.samples += x.shape[0]
            total += value
            p.batch_loss, p.train_loss = value, total / p.batch
            p.grad_norm = float(grad_norm)
            p.seconds = time.perf_counter() - start
            self._emit(Event.BATCH_END)

    def _clip(self) -> torch.Tensor:
        """Clip the gradient of each group to ``clip_grad``: an ensemble's members one by one,
        each first given its whole gradient back (the loss, a mean over k members' shares,
        gave each a k-th), so each steps exactly as it would alone. The norm of the whole
        before clipping."""
        k = len(self.clip_groups)
        if k > 1:
            for parameter in self.model.parameters():
                if parameter.grad is not None:
                    parameter.grad.mul_(k)
        limit = self.config.clip_grad or math.inf
        norms = [nn.utils.clip_grad_norm_(group, limit) for group in self.clip_groups]
        return norms[0] if k == 1 else torch.stack(norms).norm()

    def _batch_loss(self, batches, x: torch.Tensor, y: torch.Tensor, state):
        """The loss of one batch as the training mode reads it, and the state to carry."""
        mode = self.config.mode
        if mode == "sequence":
            return self._sequence_loss(batches, x, y), None
        if mode == "stateful":
            prediction, state = self.model(x, state, every_step=True, **self.ask)  # (streams, window, horizon, outputs[, levels])
            return self.loss(prediction, y), _detach(state)
        prediction, _ = self.model(x, **self._teaching(y), **self.ask)  # (batch, horizon, outputs[, levels])
        return self.loss(prediction, y), None

    def _sequence_loss(self, chunks, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss over a batch of chunks: every step read with the true inputs, then the
        free-running part, where the model reads its own predictions block by block as a
        rollout does and the error is backpropagated through them (against exposure bias).
        The two parts' mean errors weigh the same.

        ``x`` (batch, length + tail, inputs), ``y`` (batch, chunk, horizon, outputs).
        """
        chunk, horizon, outputs = y.shape[1:]
        length, free = chunks.length, chunks.free
        prediction, state = self.model(x[:, :length], every_step=True, **self.ask)  # (batch, length, horizon, outputs[, levels])
        loss = self.loss(prediction[:, -chunk:], y)
        if not free:
            return loss
        block, blocks = self.point(prediction[:, -1]), []  # (batch, horizon, outputs): rows length .. length + horizon - 1
        for t in range(length, length + free, horizon):
            fed = torch.cat([block, x[:, t : t + horizon, outputs:]], dim=-1)  # (batch, horizon, inputs)
            every, state = self.model(fed, state, **self.ask)  # (batch, horizon, outputs[, levels]): the next block
            block = self.point(every)  # the median goes back in, as in a rollout
            blocks.append(every)
        predicted = torch.cat(blocks, dim=1)  # (batch, free, outputs[, levels])
        truth = x[:, length + horizon : length + horizon + free, :outputs]  # (batch, free, outputs)
        free_loss = self.loss(predicted, truth)
        return (loss + free_loss) / 2

    def _teaching(self, y: torch.Tensor) -> dict:
        """The targets and the share of the fit done, for models that learn from them."""
        if not self.model.uses_targets:
            return {}
        p = self.progress
        return {"target": y, "fraction_done": (p.epoch - 1 + p.batch / max(p.batches, 1)) / p.epochs}

    def _batches(self):
        """The training batches of one epoch, as the mode reads them (a sized iterable)."""
        d, config = self.data, self.config
        if config.mode == "stateful":
            return Streams(d.inputs, d.outputs, *d.windows.shape, d.n_train, config.batch_size)
        if config.mode == "sequence":
            steps = math.ceil(len(d.windows.train_index) / WINDOW_BATCH)  # as a window epoch's
            return self._chunks(d.train_rows, steps, self.generator)
        if self.members:
            return SideBySide([d.windows.batches(d.windows.train_index, config.batch_size, order)
                               for order in self.member_orders])
        return d.windows.batches(d.windows.train_index, config.batch_size, self.generator)

    def _chunks(self, rows: list, steps: int = 0, generator=None) -> Chunks:
        d, config = self.data, self.config
        return Chunks(d.inputs, d.outputs, *d.windows.shape, config.chunk, rows, config.batch_size,
                      steps, generator, config.free_steps)

    @torch.no_grad()
    def validate(self) -> float:
        """Mean loss over the validation windows, in eval mode; the extra metrics go to
        ``progress.metrics``. In sequence mode, the training loss (forced and free-running
        steps) over chunks that cover the validation part, so the best epoch is the one that
        runs best on its own predictions."""
        self.model.eval()
        if self.config.mode == "sequence" and not self.metrics:
            return self._validate_chunks()
        total, count = 0.0, 0
        scores = dict.fromkeys(self.metrics, 0.0)
        for prediction, y in self._val_predictions(self.model):
            total += self.loss(prediction, y).item() * y.shape[0]
            for name, metric in self.metrics.items():
                scores[name] += float(metric(self.point(prediction), y)) * y.shape[0]
            count += y.shape[0]
        self.progress.metrics = {name: value / max(count, 1) for name, value in scores.items()}
        return self._validate_chunks() if self.config.mode == "sequence" else total / max(count, 1)

    def _val_predictions(self, model: nn.Module):
        """``(prediction, y)`` of ``model`` (in eval mode) for each batch of validation windows."""
        windows = self.data.windows
        for x, y in windows.batches(windows.val_index, max(256, self.config.batch_size)):
            yield model(x.to(self.device), **self.ask)[0], y.to(self.device)

    def _val_loss(self, model: nn.Module) -> float:
        """``model``'s mean loss over the validation windows."""
        pairs = list(self._val_predictions(model))
        return sum(self.loss(prediction, y).item() * len(y) for prediction, y in pairs) / max(
            sum(len(y) for _, y in pairs), 1)

    def _validate_chunks(self) -> float:
        """The sequence loss over chunks whose scored steps cover the validation part."""
        d = self.data
        chunks = self._chunks(d.val_rows)
        losses = [(self._sequence_loss(chunks, x, y).item(), len(x)) for x, y in chunks]
        return sum(loss * n for loss, n in losses) / sum(n for _, n in losses)

    def _end_epoch(self, seconds: float, start: float) -> None:
        p = self.progress
        value = p.val_loss
        if self.score is not None:
            value = p.metrics["val_forecast"] = self.score(self.model)
        score = _rank(value, lambda: p.val_loss)
        if score < self._best_score:
            self._best_score, p.best_val_loss, p.best_epoch = score, p.val_loss, p.epoch
            self.best_state = snapshot(self.model)
        if self.members:
            self._keep_members()
        earlier = [row["val_loss"] for row in p.history]
        if self.config.patience:
            p.stop_reason = patience_stop(p, earlier, self.config) or p.stop_reason
        p.history.append({
            "epoch": p.epoch, "train_loss": p.train_loss, "val_loss": p.val_loss,
            "lr": self.optimizer.param_groups[0]["lr"], "seconds": seconds,
            "grad_norm": p.grad_norm, **p.metrics,
        })
        if self.config.patience:  # after the row, which gives the epoch's own rate
            on_plateau(self.optimizer, p.val_loss, earlier, self.config.lr_factor)
        p.seconds = time.perf_counter() - start
        self._emit(Event.EPOCH_END)

    def _watch_gradients(self, norm: float) -> None:
        """Warn of exploding gradients, at most once an epoch."""
        p = self.progress
        message = self.gradients.check(norm, p.epoch, p.batch + 1)
        if message and self._warned_epoch != p.epoch:
            self._warned_epoch, p.warning = p.epoch, message
            self._emit(Event.WARNING)

    def _nan(self, value: float) -> None:
        p = self.progress
        p.stop_reason = "nan"
        best = f"{', '.join(map(str, p.member_epochs))} (one per member)" if self.members else p.best_epoch
        p.warning = NAN_ADVICE.format(value=value, epoch=p.epoch, batch=p.batch + 1, best=best, lr=self.config.lr / 10)
        warn(p.warning, TrainingWarning)
        self._emit(Event.WARNING)

    def kept_state(self) -> dict:
        """The weights the fit would end with now: the best epoch's, and each member's own
        best where members keep theirs."""
        if not self.members:
            return self.best_state
        names = {id(module): name for name, module in self.model.named_modules()}
        return {**self.best_state, **{f"{names[id(member)]}.{key}": value
                                      for member, state in zip(self.members, self.member_states)
                                      for key, value in state.items()}}

    @torch.no_grad()
    def _keep_members(self) -> None:
        """Each member keeps its own best epoch by its own score, so the luck of the epoch kept
        is averaged over the members as it is over fits made apart."""
        p = self.progress
        for i, member in enumerate(self.members):
            member.eval()
            loss = partial(self._val_loss, member)
            score = _rank(self.score(member) if self.score is not None else loss(), loss)
            if score < self._member_best[i]:
                self._member_best[i], p.member_epochs[i] = score, p.epoch
                self.member_states[i] = snapshot(member)

    def _emit(self, event: Event) -> None:
        self.events.emit(event, self.progress)


def _rank(value: float, fallback) -> tuple:
    """How an epoch's score ranks, lower first: a diverging rollout scores inf or NaN, so such
    an epoch ranks after any finite score, by ``fallback()`` (its validation loss); one with
    neither never replaces the weights kept."""
    if math.isfinite(value):
        return (0, value)
    value = fallback()
    return (1, value) if math.isfinite(value) else (2, math.inf)


def _same(prediction: torch.Tensor) -> torch.Tensor:
    return prediction


def _detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
