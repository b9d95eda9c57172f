"""Point-forecast errors. Every function takes arrays of the same shape, original units."""
from __future__ import annotations

import numpy as np


def mae(truth, prediction) -> float:
    return float(np.mean(np.abs(truth - prediction)))


def rmse(truth, prediction) -> float:
    return float(np.sqrt(np.mean((truth - prediction) ** 2)))


def mape(truth, prediction) -> float:
    """Mean absolute percentage error, over the points where the truth is not zero."""
    nonzero = truth != 0
    if not nonzero.any():
        return float("nan")
    return float(100 * np.mean(np.abs((truth - prediction)[nonzero] / truth[nonzero])))


def smape(truth, prediction) -> float:
    """Symmetric MAPE in percent (0 to 200), 0 where both are 0."""
    denominator = np.abs(truth) + np.abs(prediction)
    ratio = np.divide(2 * np.abs(truth - prediction), denominator,
                      out=np.zeros_like(denominator, dtype=float), where=denominator > 0)
    return float(100 * np.mean(ratio))


def naive_scale(train, season: int) -> float:
    """In-sample MAE of the seasonal-naive forecast ``y[t] = y[t - season]`` on ``train``
    (rows, columns): the denominator of MASE (Hyndman and Koehler, 2006)."""
    season = min(season, len(train) - 1)
    return mae(train[season:], train[:-season])


def mase(truth, prediction, scale: float) -> float:
    """Mean absolute scaled error: below 1 beats the in-sample seasonal-naive forecast."""
    return mae(truth, prediction) / scale if scale > 0 else float("nan")


def point_metrics(truth, prediction, scale: float) -> dict:
    return {
        "mae": mae(truth, prediction),
        "rmse": rmse(truth, prediction),
        "mape": mape(truth, prediction),
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
