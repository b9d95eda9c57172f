"""A search space as people write it, checked, and the trials it makes.

``{"model": ["lstm", "gru"], "hidden_size": [8, 16], "lr": {"loguniform": [1e-4, 1e-2]}}``:
a list is the values to try; ``{"loguniform": [low, high]}`` and ``{"uniform": [low, high]}``
are ranges. Without ``trials`` the lists form a grid (every combination once; ranges drawn
once per combination); with ``trials=N``, N trials each draw every list and range at random.
"""
from __future__ import annotations

import itertools
import math
import random

from ..config import RunConfig, keyword_owners
from .. import zoo
from ..errors import ConfigError, ModelError, closest

RANGES = ("loguniform", "uniform")
EXAMPLE = "{'hidden_size': [16, 32], 'lr': {'loguniform': [1e-4, 1e-2]}}"


def is_range(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in RANGES


class SearchSpace:
    """The checked space: ``lists`` (name -> values) and ``ranges`` (name -> (kind, low, high))."""

    def __init__(self, space: dict, fixed: dict | None = None):
        if not isinstance(space, dict) or not space:
            raise ConfigError(f"`space` ({space!r}) must be a non-empty dict from setting to the values to try, "
                              f"such as {EXAMPLE}")
        owners = keyword_owners()
        self.lists, self.ranges = {}, {}
        for name, values in space.items():
            if name not in owners or name == "live":
                valid = [n for n in owners if n != "live"]
                raise ConfigError(f"`space` has {name!r}, which is not a setting of ww.train"
                                  f"{closest(str(name), valid)}; valid names: {', '.join(sorted(valid))}")
            if name in (fixed or {}):
                raise ConfigError(f"{name!r} is both in `space` and fixed ({name}={fixed[name]!r}); "
                                  "keep it in one place")
            if is_range(values):
                self.ranges[name] = _range(name, values)
            elif isinstance(values, (list, tuple)) and len(values) > 0:
                self.lists[name] = list(values)
            else:
                raise ConfigError(
                    f"`space` gives {name!r} the value {values!r}; give a list of values to try "
                    f"({name}=[a, b]), or a range {{'loguniform': [low, high]}} or {{'uniform': [low, high]}}; "
                    f"a single value belongs with the fixed settings ({name}=...)")
        self._check_values(fixed or {})

    @property
    def names(self) -> list:
        return [*self.lists, *self.ranges]

    def most(self, name: str, fixed):
        """The largest value ``name`` takes: its list's, its range's upper end, else ``fixed``."""
        if name in self.ranges:
            return self.ranges[name][2]
        return max(self.lists.get(name, [fixed]))

    def points(self) -> list:
        """(name, value, settings): every listed value and both ends of every range once, each
        with the other names at their first value (or lower end), the first point (name and
        value None) all at those; the data is checked against each before Ray starts."""
        first = {name: values[0] for name, values in self.lists.items()}
        first.update({name: low for name, (_, low, _) in self.ranges.items()})
        points = [(None, None, first)]
        for name, values in self.lists.items():
            seen = [values[0]]
            for value in values[1:]:
                if value not in seen:  # a list may hold dicts (options), which do not hash
                    seen.append(value)
                    points.append((name, value, {**first, name: value}))
        points += [(name, high, {**first, name: high}) for name, (_, _, high) in self.ranges.items()]
        return points

    def trials(self, count: int | None, seed: int = 0) -> list:
        """Each trial's searched settings: without ``count`` every combination of the lists once
        (ranges drawn for each); else ``count`` trials, each drawing every list and range. The
        draws follow ``seed``, so a sweep tries the same points again."""
        draw = random.Random(seed)
        if count is None:
            combinations = [dict(zip(self.lists, values)) for values in itertools.product(*self.lists.values())]
        else:
            combinations = [{name: draw.choice(values) for name, values in self.lists.items()} for _ in range(count)]
        return [{**point, **{name: _draw(draw, *bounds) for name, bounds in self.ranges.items()}}
                for point in combinations]

    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.lists.values())

    def _check_values(self, fixed: dict) -> None:
        """Every listed value must make a valid setting with the fixed ones: fail before Ray starts."""
        for name, values in self.lists.items():
            for value in values:
                try:
                    RunConfig.from_kwargs(**{**fixed, name: value})
                    if name == "model":
                        zoo.entry(value)
                except (ConfigError, ModelError) as error:
                    raise ConfigError(f"`space` gives {name!r} the value {value!r}, which ww.train refuses: "
                                      f"{error}") from None
        for name, (_, low, high) in self.ranges.items():
            for value in (low, high):
                try:
                    RunConfig.from_kwargs(**{**fixed, name: value})
                except ConfigError as error:
                    raise ConfigError(f"`space` gives {name!r} a range ending at {value!r}, which ww.train "
                                      f"refuses: {error}") from None



def check_sweep_arguments(live, keep_ray) -> None:
    """``ww.sweep``'s own ``live`` and ``keep_ray``, checked as ``ww.train`` checks its settings."""
    from ..config import describe

    describe()["live"].check(live)
    if not isinstance(keep_ray, bool):
        raise ConfigError(f"`keep_ray` ({keep_ray!r}) must be True or False")


def _draw(draw: random.Random, kind: str, low, high):
    """One value of a range: whole numbers where both ends are (both ends included)."""
    whole = isinstance(low, int) and isinstance(high, int)
    if kind == "loguniform":
        value = math.exp(draw.uniform(math.log(low), math.log(high + 1 if whole else high)))
    else:
        value = draw.uniform(low, high + 1 if whole else high)
    return min(int(value), high) if whole else value


def _range(name: str, value: dict) -> tuple:
    kind, bounds = next(iter(value.items()))
    ok = (isinstance(bounds, (list, tuple)) and len(bounds) == 2
          and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds))
    if not ok or not bounds[0] < bounds[1] or (kind == "loguniform" and bounds[0] <= 0):
        need = "0 < low < high" if kind == "loguniform" else "low < high"
        raise ConfigError(f"`space` gives {name!r} the range {value!r}; a {kind} range is two numbers with "
                          f"{need}, such as {{'{kind}': [0.0001, 0.01]}}")
    if all(isinstance(b, int) for b in bounds):  # whole numbers (hidden_size) stay whole
        return kind, int(bounds[0]), int(bounds[1])
    return kind, float(bounds[0]), float(bounds[1])
