"""The data layer: validate, split, scale, window; and the built-in datasets."""
from .frames import Layout, read_frame
from .prepare import Prepared, encode, prepare
from .scaling import Scaler

__all__ = ["Layout", "Prepared", "Scaler", "encode", "prepare", "read_frame"]
