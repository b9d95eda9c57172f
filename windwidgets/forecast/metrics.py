"""Point-forecast errors. Every function takes arrays of the same shape, original units.

A metric that cannot be computed is NaN and said why: MAPE where a truth lies near zero,
MASE where the training part never changes from one season to the next (its scale is 0).
Callers that compute many (every target, method, lead and series) collect the reasons in a
list of :class:`Skipped` and warn once per call with :func:`warn_skipped`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import listing, warn

NEAR_ZERO = 0.01  # MAPE is skipped when a truth lies within this share of the mean absolute truth


def mae(truth, prediction) -> float:
    return float(np.mean(np.abs(truth - prediction)))


def rmse(truth, prediction) -> float:
    return float(np.sqrt(np.mean((truth - prediction) ** 2)))


@dataclass(frozen=True)
class Skipped:
    """A metric left NaN, and why, for the one warning of a call."""

    metric: str  # "mape" or "mase"
    target: object  # the column's name, or None
    why: str  # "12 of 480 true values lie near zero (|truth| <= 0.031)"
    series: object = None  # a panel's series id


WHY = {"mape": "percentage errors explode near zero; read sMAPE or MASE instead",
       "mase": "the training part repeats itself exactly from one season to the next, so the seasonal-naive "
               "forecast MASE is scaled by makes no error (a constant target, say); read MAE or sMAPE instead"}


def warn_skipped(skipped, pooled: str = "") -> None:
    """One warning for every metric in ``skipped`` (Skipped), named by metric and target, with
    the series of a panel; ``pooled`` adds what that did to a pooled figure."""
    said = []
    for metric in ("mape", "mase"):
        targets: dict = {}  # target -> its Skipped, in order
        for reason in skipped:
            if reason.metric == metric:
                targets.setdefault(reason.target, []).append(reason)
        if targets:
            where = [_where(target, reasons) for target, reasons in targets.items()]
            said.append(f"{metric.upper()} is skipped (NaN) for {'; '.join(where)}: {WHY[metric]}")
    if said:
        warn(". ".join(said) + pooled)


def _where(target, reasons: list) -> str:
    """"'power' in series 'T1', 'T2' (1 of 18 true values lie near zero, ... in 'T1')"."""
    name = f"{target!r}" if target is not None else "the target"
    series = list(dict.fromkeys(r.series for r in reasons if r.series is not None))
    first = reasons[0]
    if series:
        name += f" in series {listing(map(repr, series), limit=6)}"
    if first.why:
        name += f" ({first.why}{f' in {first.series!r}' if len(series) > 1 else ''})"
    return name


def mape(truth, prediction, name=None, skipped: list | None = None) -> float:
    """Mean absolute percentage error; NaN, said why, when a truth lies near zero.

    A truth near zero (within ``NEAR_ZERO`` of the mean absolute truth: power at 0 kW, a calm)
    makes its percentage error explode and rule the mean, so the metric would say nothing
    about the rest; sMAPE and MASE stay meaningful there. ``name`` names the column. The
    reason is added to ``skipped`` (a list) where one is given, else warned at once.
    """
    size = float(np.mean(np.abs(truth))) if np.size(truth) else 0.0
    near = np.abs(truth) <= NEAR_ZERO * size
    if near.any():
        reason = Skipped("mape", name, f"{int(near.sum())} of {near.size} true values lie near zero, "
                                       f"|truth| <= {NEAR_ZERO * size:.3g}, {NEAR_ZERO:.0%} of its mean size")
        _said(reason, skipped)
        return float("nan")
    return float(100 * np.mean(np.abs((truth - prediction) / truth)))


def smape(truth, prediction) -> float:
    """Symmetric MAPE in percent (0 to 200), 0 where both are 0."""
    denominator = np.abs(truth) + np.abs(prediction)
    ratio = np.divide(2 * np.abs(truth - prediction), denominator,
                      out=np.zeros_like(denominator, dtype=float), where=denominator > 0)
    return float(100 * np.mean(ratio))


def naive_scale(train, season: int) -> np.ndarray:
    """In-sample MAE of the seasonal-naive forecast ``y[t] = y[t - season]`` on ``train``
    (rows, columns), one per column: the denominators of MASE (Hyndman and Koehler, 2006),
    each target scaled by its own, so that scaled errors of targets in different units can
    be compared and pooled."""
    season = min(season, len(train) - 1)
    return np.mean(np.abs(train[season:] - train[:-season]), axis=0)  # (columns,)


def mase(truth, prediction, scale: float, name=None, skipped: list | None = None) -> float:
    """Mean absolute scaled error: below 1 beats the in-sample seasonal-naive forecast; NaN,
    said why as :func:`mape` says it, when that forecast makes no error (``scale`` 0)."""
    if scale > 0:
        return mae(truth, prediction) / scale
    _said(Skipped("mase", name, ""), skipped)
    return float("nan")


def _said(reason: Skipped, skipped: list | None) -> None:
    if skipped is None:
        warn_skipped([reason])
    else:
        skipped.append(reason)


def point_metrics(truth, prediction, scale: float, name=None, skipped: list | None = None) -> dict:
    """MAE, RMSE, MAPE, sMAPE and MASE; the reasons for a NaN go to ``skipped`` where given."""
    return {
        "mae": mae(truth, prediction),
        "rmse": rmse(truth, prediction),
        "mape": mape(truth, prediction, name, skipped),
        "smape": smape(truth, prediction),
        "mase": mase(truth, prediction, scale, name, skipped),
    }


def coverage(truth, lower, upper) -> float:
    """The share of ``truth`` inside [lower, upper], over the points that have bounds."""
    known = np.isfinite(lower) & np.isfinite(upper)
    if not known.any():
        return float("nan")
    inside = (truth >= lower) & (truth <= upper)
    return float(inside[known].mean())
