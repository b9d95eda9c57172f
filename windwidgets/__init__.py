"""windwidgets: recurrent forecasters for time series, trained and explored in notebooks."""
from . import zoo
from .api import load, prepare, train
from .data import datasets
from .errors import ConfigError, DataError, ModelError, TrainingError, WindwidgetsError
from .run import Run
from .scale.sweep import Sweep, sweep  # Ray itself is imported only when a sweep starts
from .train import Event
from .train.depth import DepthWarning
from .version import __version__

__all__ = [
    "ConfigError", "Dashboard", "DataError", "DepthWarning", "Event", "ModelError", "Run", "Sweep", "TrainingError",
    "WindwidgetsError", "datasets", "load", "prepare", "sweep", "train", "zoo",
]


def __getattr__(name):
    # The dashboard pulls in ipywidgets; import it only when asked for.
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    raise AttributeError(f"module 'windwidgets' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """``%load_ext windwidgets``: registers %%windtrain, %%windsweep, %windforecast, %windzoo and
    %windboard."""
    from .magics import load_ipython_extension as register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    """``%unload_ext windwidgets``: removes those magics again."""
    from .magics import unload_ipython_extension as unregister

    unregister(ipython)
