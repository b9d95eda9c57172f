"""``refit=True``: once the validation rows have chosen the number of epochs, the model learns
again from its first weights on every row, those rows included, and keeps that.

The validation rows are the latest a fit is given. Where a process drifts (a plant that moves
to another operating point, an instrument that ages), they are the rows most like the future,
and a fit that only validates on them never learns from them. This is scikit-learn's
``refit=True`` of a search: the score is the validated model's, the model kept has seen
everything. The Run then has no held-out rows left (see :meth:`windwidgets.Run.backtest`):
later rows passed with ``run.update`` are scored, the fitted ones are not.
"""
from __future__ import annotations

import torch

from ..data.windows import member_orders
from .events import Events
from .threads import snapshot

ENDED_ON_ITS_OWN = (None, "early_stopping")  # a Stop, an interrupt or a NaN loss keeps the validated weights


def refitting(config, progress) -> bool:
    """Whether a fit that has just ended learns again on every row: ``refit`` is asked for,
    the fit ended on its own, and it kept an epoch (each member of an ensemble one)."""
    kept = progress.member_epochs or [progress.best_epoch]
    return bool(config.refit) and progress.stop_reason in ENDED_ON_ITS_OWN and min(kept) > 0


def refit(trainer, start: float) -> None:
    """Train ``trainer.model`` again from the weights it started the fit with, on every row
    of every series, for the epochs its fit kept, each at the learning rate that epoch had,
    with the same seed's order of batches; keep the weights of that last epoch. An
    ensemble's members learn side by side as in the fit, each kept at its own epoch.

    The views hear nothing meanwhile (the epochs would count again from 1); ``progress.refit``
    holds the epochs done. An ensemble's ``progress.kept_score`` is its validated members'. A
    Stop, an interrupt or a NaN loss on the way leaves the validated weights in
    ``trainer.best_state``, which the fit restores as it ends.
    """
    p = trainer.progress
    kept = p.member_epochs or [p.best_epoch]
    if trainer.members and trainer.score is not None:  # scored on the validation rows before it learns them
        trainer.model.load_state_dict(trainer.kept_state())
        p.kept_score = trainer.score(trainer.model)
    rates = [row["lr"] for row in p.history[: max(kept)]]
    validated, events, last = trainer.data, trainer.events, (p.epoch, p.batch, p.batches)
    trainer.data, trainer.events = validated.every_row(), Events()
    trainer.model.load_state_dict(trainer.initial_state)
    trainer.optimizer = torch.optim.Adam(trainer.model.parameters(), lr=rates[0])
    trainer.generator.manual_seed(trainer.config.seed)
    trainer.member_orders = member_orders(trainer.generator, len(trainer.members))
    members = list(trainer.member_states)
    p.batches = len(trainer._batches())
    try:
        for p.epoch, rate in enumerate(rates, 1):  # the epoch number a teacher-forcing schedule reads
            for group in trainer.optimizer.param_groups:
                group["lr"] = rate
            trainer._train_epoch(start)
            if p.stop_reason == "nan" or trainer.stop_requested.is_set():
                p.refit, p.stop_reason = 0, p.stop_reason or "stopped"
                return
            p.refit = p.epoch
            members = [snapshot(member) if epochs == p.epoch else state
                       for member, epochs, state in zip(trainer.members, kept, members)]
        trainer.best_state, trainer.member_states = snapshot(trainer.model), members
    except BaseException:  # an interrupt or an error: the validated weights stay, with their validation rows
        p.refit = 0
        raise
    finally:
        trainer.data, trainer.events, (p.epoch, p.batch, p.batches) = validated, events, last
