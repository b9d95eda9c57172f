"""windwidgets: recurrent forecasters for time series, trained and explored in notebooks."""
__version__ = "0.1.0"

from . import zoo
from .api import load, train
from .data import datasets
from .errors import ConfigError, DataError, ModelError, TrainingError, WindwidgetsError
from .run import Run
from .train import Event

__all__ = [
    "ConfigError", "DataError", "Event", "ModelError", "Run", "TrainingError", "WindwidgetsError",
    "datasets", "load", "train", "zoo",
]
