"""The model zoo: ``names()``, ``register(name, builder)``, and the built-in models."""
from . import recurrent  # noqa: F401  (registers rnn, lstm, gru)
from . import peephole  # noqa: F401  (registers peephole_lstm)
from .registry import ModelSpec, build, entry, names, register

__all__ = ["ModelSpec", "build", "entry", "names", "register"]
