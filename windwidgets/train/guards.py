"""Guards that watch a fit for trouble and word a warning a person can act on."""
from __future__ import annotations

import math
from collections import deque

import numpy as np

EXPLODING = (
    "gradient norm {value:.3g} at epoch {epoch}, batch {batch}: {ratio:.0f}x the recent typical "
    "{typical:.3g}. Gradients are exploding; keep clip_grad on (e.g. clip_grad=1.0) or lower the "
    "learning rate (e.g. a tenth)"
)
NOT_FINITE = (
    "gradient norm {value} at epoch {epoch}, batch {batch}: the gradients overflowed. Lower the "
    "learning rate, keep scaler='standard' and clip_grad=1.0"
)


class GradientWatch:
    """Notices gradients that explode: a norm (before clipping) that is not finite, or more
    than ``factor`` times the median of the recent ones (from ``least`` batches on)."""

    def __init__(self, factor: float = 100.0, recent: int = 50, least: int = 20):
        self.factor, self.least = factor, least
        self.recent: deque = deque(maxlen=recent)
        self.typical = 0.0  # the median of the recent norms, refreshed every 10 batches

    def check(self, value: float, epoch: int, batch: int) -> str | None:
        """The warning for this batch's norm ``value``, or None."""
        if not math.isfinite(value):
            return NOT_FINITE.format(value=value, epoch=epoch, batch=batch)
        self.recent.append(value)
        if len(self.recent) % 10 == 0 or not self.typical:  # a median now and then is enough
            self.typical = float(np.median(self.recent)) if len(self.recent) >= self.least else 0.0
        if self.typical > 0 and value > self.factor * self.typical:
            return EXPLODING.format(value=value, epoch=epoch, batch=batch, ratio=value / self.typical,
                                    typical=self.typical)
        return None
