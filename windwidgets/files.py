"""Writing a run file atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch


def write_atomically(payload: dict, path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename it: a crash mid-save
    leaves an older file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
