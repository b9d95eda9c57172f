"""Where a fit runs: ``device="auto"`` -> cuda, then mps, then cpu; or a device the machine has."""
from __future__ import annotations

import torch

from .errors import ConfigError


def resolve_device(device) -> torch.device:
    """"auto" -> cuda, then mps, then cpu; anything else must name an available device."""
    mps = getattr(torch.backends, "mps", None)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"`device` ({device!r}) is not a torch device; use 'auto', 'cpu' or 'cuda'") from None
    for kind, available in (("cuda", torch.cuda.is_available()),
                            ("mps", mps is not None and mps.is_available())):
        if device.type == kind and not available:
            raise ConfigError(f"`device` ({str(device)!r}) asks for {kind.upper()}, which this machine "
                              "lacks; use device='auto' to fall back to the CPU")
    return device
