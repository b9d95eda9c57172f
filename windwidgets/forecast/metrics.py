"""Point-forecast errors. Every function takes arrays of the same shape, original units."""
from __future__ import annotations

import numpy as np

from ..errors import warn

NEAR_ZERO = 0.01  # MAPE is skipped when a truth lies within this share of the mean absolute truth


def mae(truth, prediction) -> float:
    return float(np.mean(np.abs(truth - prediction)))


def rmse(truth, prediction) -> float:
    return float(np.sqrt(np.mean((truth - prediction) ** 2)))


def mape(truth, prediction, name=None) -> float:
    """Mean absolute percentage error; NaN, with a warning, when a truth lies near zero.

    A truth near zero (within ``NEAR_ZERO`` of the mean absolute truth: power at 0 kW, a calm)
    makes its percentage error explode and rule the mean, so the metric would say nothing
    about the rest; sMAPE and MASE stay meaningful there. ``name`` names the column in the warning.
    """
    size = float(np.mean(np.abs(truth))) if np.size(truth) else 0.0
    near = np.abs(truth) <= NEAR_ZERO * size
    if near.any():
        what = f"of {name!r} " if name is not None else ""
        warn(f"MAPE {what}is skipped (NaN): {int(near.sum())} of {near.size} true values lie near zero "
             f"(|truth| <= {NEAR_ZERO * size:.3g}, {NEAR_ZERO:.0%} of its mean size), where percentage "
             "errors explode; read sMAPE or MASE instead")
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


def mase(truth, prediction, scale: float) -> float:
    """Mean absolute scaled error: below 1 beats the in-sample seasonal-naive forecast."""
    return mae(truth, prediction) / scale if scale > 0 else float("nan")


def point_metrics(truth, prediction, scale: float, name=None) -> dict:
    return {
        "mae": mae(truth, prediction),
        "rmse": rmse(truth, prediction),
        "mape": mape(truth, prediction, name),
        "smape": smape(truth, prediction),
        "mase": mase(truth, prediction, scale),
    }


def coverage(truth, lower, upper) -> float:
    """The share of ``truth`` inside [lower, upper], over the points that have bounds."""
    known = np.isfinite(lower) & np.isfinite(upper)
    if not known.any():
        return float("nan")
    inside = (truth >= lower) & (truth <= upper)
    return float(inside[known].mean())
