"""The exception types a person meets, and helpers to make their messages useful."""
from __future__ import annotations

import difflib
from typing import Iterable


class WindwidgetsError(ValueError):
    """Base class: something the person can fix in their call or their data."""


class ConfigError(WindwidgetsError):
    """A setting that makes no sense whatever the data."""


class DataError(WindwidgetsError):
    """The data cannot be used as given."""


class ModelError(WindwidgetsError):
    """A model name or a model option that does not fit."""


class TrainingError(WindwidgetsError):
    """Training could not go on (for example a loss that stayed NaN)."""


def closest(name: str, valid: Iterable[str], form: str = "{!r}") -> str:
    """' (did you mean 'x'?)' when a valid name is close to ``name``, else ''; ``form``
    shows the match (the magics write it as an option, "--{}")."""
    match = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=0.6)
    return f" (did you mean {form.format(match[0])}?)" if match else ""


def listing(values: Iterable, limit: int = 8) -> str:
    """A short comma-separated list, cut with an ellipsis past ``limit`` items."""
    values = [repr(v) if not isinstance(v, str) else v for v in values]
    head = ", ".join(values[:limit])
    return head + (f", ... ({len(values)} in all)" if len(values) > limit else "")
