"""Physical bounds: forecasts and interval bands clipped to what a target can be.

A band of plus or minus the typical error around a power forecast near 0 kW reaches below
zero; wind speed cannot be negative. ``bounds={"power": (0, None)}`` clips the returned
forecasts and bands of a target to its range. The rollout itself feeds the model's own
unclipped predictions back, as it learned from them.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError, closest, listing, warn


def check_bounds(bounds, targets: tuple) -> None:
    """Every name in ``bounds`` must be a target (the settings' shape is checked in config)."""
    for name in bounds or {}:
        if name not in targets:
            raise ConfigError(
                f"`bounds` names {name!r}, which is not a target{closest(str(name), map(str, targets))}; "
                f"bounds clip forecasts, so they apply to the targets: {listing(targets)}"
            )


def check_against(bounds, targets: tuple, values) -> None:
    """The training values of each bounded target (``values``: (rows, targets)) against its
    bounds: none inside is refused (the bounds are wrong, say a swapped pair in the wrong
    units); some outside are said, since a band clipped there cannot cover them."""
    if not bounds:
        return
    values = np.asarray(values, dtype=np.float64)  # (rows, targets)
    lower, upper = limits(bounds, targets)
    for j, name in enumerate(targets):
        if name not in bounds:
            continue
        column = values[:, j]
        outside = int(((column < lower[j]) | (column > upper[j])).sum())
        shown = f"({_side(bounds[name][0])}, {_side(bounds[name][1])})"
        where = f"they run from {column.min():.4g} to {column.max():.4g}"
        if outside == len(column):
            raise ConfigError(f"`bounds` gives {name!r} the limits {shown}, but none of its {len(column)} training "
                              f"values lie within them ({where}); fix the limits or leave `bounds` out")
        if outside:
            warn(f"{outside} of {len(column)} training values of {name!r} lie outside `bounds` {shown} ({where}): "
                 "forecasts and bands are clipped to the bounds, so those values can never be forecast or covered; "
                 "widen the bounds to what the data holds, or leave them out")


def _side(value) -> str:
    return "None" if value is None else f"{value:g}"


def limits(bounds, targets: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) arrays of shape (targets,), -inf and inf where a side has no bound."""
    lower, upper = np.full(len(targets), -np.inf), np.full(len(targets), np.inf)
    for j, name in enumerate(targets):
        low, high = (bounds or {}).get(name, (None, None))
        lower[j] = -np.inf if low is None else low
        upper[j] = np.inf if high is None else high
    return lower, upper


def clip(values: np.ndarray, bounds, targets: tuple) -> np.ndarray:
    """``values`` (..., targets) in original units, clipped to each target's bounds."""
    if not bounds:
        return values
    lower, upper = limits(bounds, targets)
    return np.clip(values, lower, upper)  # NaN (an uncalibrated band) stays NaN
