"""The torch state a fit keeps and puts back: its global switches, its CPU threads, its weights."""
from __future__ import annotations

import os

import torch
from torch import nn


def torch_state() -> tuple:
    """The global torch switches a fit or its preview may change: grad mode, oneDNN and the
    CPU threads."""
    return torch.is_grad_enabled(), torch.backends.mkldnn.enabled, torch.get_num_threads()


def restore_torch_state(state: tuple) -> None:
    """Put them back: a Ctrl-C inside a ``no_grad`` exit would leave grad mode off for good."""
    torch.set_grad_enabled(state[0])
    torch.backends.mkldnn.enabled = state[1]
    if torch.get_num_threads() != state[2]:
        torch.set_num_threads(state[2])


# weights: below it one CPU thread is as fast as two on a quiet machine (an LSTM of hidden 16:
# 0.07 s/epoch either way) and far faster on a busy one; above it (hidden 64 x 2) two
# threads took 0.36 s/epoch against 0.62 on a quiet 2-core machine
SMALL_MODEL = 10_000


def fit_threads(threads, model: nn.Module, device: torch.device, load: float | None = None,
                cpus: int | None = None) -> int | None:
    """The CPU threads for a fit: ``threads`` itself, or for "auto" one thread for a small
    model (its steps are too short to share among threads, and on a machine shared with
    other work they wait on each other), and for a larger one at most the cores other work
    leaves free; None keeps torch's count.

    A thread of a parallel step that another process has pushed off its core holds the
    step's other threads up: with two threads on two cores and the machine busy, the epochs
    of an LSTM of hidden 32 took 40-57 s against 0.13 s on one thread. ``load`` (the last
    minute's load average, this fit's own process counted as one of it) and ``cpus`` are
    read from the machine when not given.
    """
    if device.type != "cpu":
        return None
    if threads != "auto":
        return int(threads)
    if sum(p.numel() for p in model.parameters()) < SMALL_MODEL:
        return 1
    load = os.getloadavg()[0] if load is None and hasattr(os, "getloadavg") else (load or 0.0)
    cpus = cpus or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    free = cpus - max(0, round(load) - 1)  # the cores left to this fit
    return max(1, free) if free < torch.get_num_threads() else None


def snapshot(model: nn.Module) -> dict:
    """A copy of ``model``'s weights, kept apart from the ones that go on learning."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
