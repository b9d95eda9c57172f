"""The torch switches a fit sets for itself and puts back."""
from __future__ import annotations

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


def fit_threads(threads, model: nn.Module, device: torch.device) -> int | None:
    """The CPU threads for a fit: ``threads`` itself, or for "auto" one thread for a small
    model (its steps are too short to share among threads, and on a machine shared with
    other work they wait on each other); None keeps torch's count."""
    if device.type != "cpu":
        return None
    if threads == "auto":
        return 1 if sum(p.numel() for p in model.parameters()) < SMALL_MODEL else None
    return int(threads)
