"""How often a live view's recurring work (a chart redraw, a forecast preview) may run.

A job runs when ``interval`` seconds have passed since it last ended, and never sooner than
its typical cost allows within ``budget``, its share of the fit: a job of cost ``c`` waits at
least ``c / budget`` seconds. An urgent run (the preview of a new best epoch) skips the
interval but keeps to the budget.

The cost is the median of the last few samples, not the last one: one slow run (the first,
with its allocations and warm-up, or one that ran while another process held the CPU) would
otherwise push the next run minutes away. The first sample is left out altogether, so the
second run comes after ``interval``.
"""
from __future__ import annotations

import math
import statistics
import time
from collections import deque
from typing import Callable


class Pace:
    """The schedule of one recurring job.

    Parameters
    ----------
    interval : seconds between two runs at least (the budget may ask for more).
    budget : the share of the elapsed time the job may take, e.g. 0.01.
    clock : seconds, monotonic; a test passes its own.
    samples : how many recent costs the median is taken over.
    """

    def __init__(self, interval: float, budget: float, clock: Callable[[], float] = time.perf_counter,
                 samples: int = 5):
        self.interval, self.budget, self.clock = interval, budget, clock
        self.last = -math.inf  # when the job last ended
        self.runs = 0
        self.seconds = 0.0  # spent in the job, all runs together
        self._costs: deque = deque(maxlen=samples)

    def cost(self) -> float:
        """The job's typical cost in seconds: the median of the recent samples, the first
        one left out (0 until a second sample comes)."""
        return statistics.median(self._costs) if self._costs else 0.0

    def gap(self, urgent: bool = False) -> float:
        """Seconds the job waits after its last run."""
        least = self.cost() / self.budget
        return least if urgent else max(self.interval, least)

    def due(self, urgent: bool = False) -> bool:
        return self.clock() - self.last >= self.gap(urgent)

    def delay(self) -> None:
        """Count the time from now, as if the job had just run (the first preview waits)."""
        self.last = self.clock()

    def timed(self, job: Callable, *args):
        """Run ``job(*args)`` and record its cost and its end, even when it fails."""
        start = self.clock()
        try:
            return job(*args)
        finally:
            self.last = self.clock()
            self.seconds += self.last - start
            if self.runs:  # the first run's cost (allocation, warm-up) is not typical
                self._costs.append(self.last - start)
            self.runs += 1
