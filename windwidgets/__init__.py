"""windwidgets: recurrent forecasters for time series, trained and explored in notebooks."""
__version__ = "0.1.0"

from . import zoo
from .api import load, train
from .data import datasets
from .errors import ConfigError, DataError, ModelError, TrainingError, WindwidgetsError
from .run import Run
from .train import Event

__all__ = [
    "ConfigError", "Dashboard", "DataError", "Event", "ModelError", "Run", "TrainingError", "WindwidgetsError",
    "datasets", "load", "train", "zoo",
]


def __getattr__(name):
    # The dashboard pulls in ipywidgets; import it only when asked for.
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    raise AttributeError(f"module 'windwidgets' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """``%load_ext windwidgets``: registers %%windtrain, %windforecast, %windzoo and %windboard."""
    from .magics import load_ipython_extension as register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext windwidgets``: removes those magics again."""
    from .magics import unload_ipython_extension as unregister

    unregister(ipython)
