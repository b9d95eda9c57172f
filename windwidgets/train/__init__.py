"""The training loop and the events it announces."""
from .events import Event, Events, Progress
from .trainer import Trainer, TrainingWarning

__all__ = ["Event", "Events", "Progress", "Trainer", "TrainingWarning"]
