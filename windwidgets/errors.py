"""The exception types a person meets, and helpers to make their messages useful."""
from __future__ import annotations

import difflib
import inspect
import numbers
import os
import warnings
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


def check_whole(name: str, value, minimum: int = 1, error: type = ConfigError, hint: str = "",
                prefix: str = "") -> int:
    """``value`` as an int when it is a whole number (a numpy integer too, never a bool or a
    float) of at least ``minimum``; else ``error``, naming ``name`` (after ``prefix``, such as
    "convlstm option") and the value, with ``hint`` ending the message (", or None")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        least = f" of at least {minimum}" if minimum else ""
        raise error(f"{prefix + ' ' if prefix else ''}`{name}` ({value!r}) must be a whole number{least}{hint}")
    return int(value)


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


def warn(message: str, category: type = UserWarning) -> None:
    """Warn at the person's own line: the first frame outside windwidgets, however deep the
    library called from (the fixed ``stacklevel`` of each call site pointed inside it)."""
    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 1, inspect.currentframe()
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
