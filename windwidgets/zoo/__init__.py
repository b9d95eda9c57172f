"""The model zoo: ``names()``, ``register(name, builder)``, and the built-in models."""
from . import recurrent  # noqa: F401  (registers rnn, lstm, gru)
from . import peephole  # noqa: F401  (registers peephole_lstm)
from . import convlstm  # noqa: F401  (registers convlstm)
from . import cnn_lstm  # noqa: F401  (registers cnn_lstm)
from . import seq2seq  # noqa: F401  (registers seq2seq)
from . import dense  # noqa: F401  (registers mlp)
from .registry import BUILT_IN, ModelSpec, build, entry, names, register, unregister

BUILT_IN.update(names())

__all__ = ["ModelSpec", "build", "entry", "names", "register", "unregister"]
