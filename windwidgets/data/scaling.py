"""Per-column scaling fitted on the training rows only, and inverted on every output."""
from __future__ import annotations

import torch

IQR_OF_NORMAL = 1.349  # the interquartile range of a standard normal


class Scaler:
    """Affine per-column scaling, ``scaled = (x - shift) / scale``.

    Parameters
    ----------
    kind : "standard" (zero mean, unit variance), "minmax" (to [0, 1]), "robust" (zero
        median, unit spread of the middle half: the interquartile range over 1.349, which is
        the standard deviation of a normal column) or None (identity). A robust scale is not
        stretched by a shutdown, a spike or a stuck reading in the training rows, so the
        ordinary operating range keeps its resolution.
    """

    def __init__(self, kind: str | None = "standard"):
        self.kind = kind
        self.shift: torch.Tensor | None = None  # (features,)
        self.scale: torch.Tensor | None = None  # (features,)

    def fit(self, values: torch.Tensor) -> "Scaler":
        """Fit on ``values`` of shape (rows, features): the training rows only."""
        features, dtype = values.shape[1], values.dtype
        values = values.double()  # float32 sums of large values overflow
        if self.kind == "standard":
            self.shift = values.mean(dim=0)
            self.scale = values.std(dim=0, unbiased=False)
        elif self.kind == "robust":
            quartiles = torch.quantile(values, torch.tensor([0.25, 0.5, 0.75], dtype=values.dtype), dim=0)  # (3, features)
            spread = (quartiles[2] - quartiles[0]) / IQR_OF_NORMAL
            # a column still in its middle half (a valve mostly shut) has its deviation instead
            self.shift, self.scale = quartiles[1], torch.where(spread > 0, spread, values.std(dim=0, unbiased=False))
        elif self.kind == "minmax":
            self.shift = values.amin(dim=0)
            self.scale = values.amax(dim=0) - self.shift
        else:
            self.shift = torch.zeros(features, dtype=dtype)
            self.scale = torch.ones(features, dtype=dtype)
        # A constant column would divide by zero; leave it centred but unscaled.
        self.scale = torch.where(self.scale > 0, self.scale, torch.ones_like(self.scale))
        self.shift, self.scale = self.shift.to(dtype), self.scale.to(dtype)
        return self

    def transform(self, values: torch.Tensor, columns: slice | list = slice(None)) -> torch.Tensor:
        return (values - self.shift[columns].to(values)) / self.scale[columns].to(values)

    def inverse(self, values: torch.Tensor, columns: slice | list = slice(None)) -> torch.Tensor:
        return values * self.scale[columns].to(values) + self.shift[columns].to(values)

    def state_dict(self) -> dict:
        return {"kind": self.kind, "shift": self.shift, "scale": self.scale}

    @classmethod
    def from_state(cls, state: dict) -> "Scaler":
        scaler = cls(state["kind"])
        scaler.shift, scaler.scale = state["shift"], state["scale"]
        return scaler
