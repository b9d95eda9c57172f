"""Run files: written atomically, read safely (weights only: no code in a file ever runs)."""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

from .errors import ModelError


def write_atomically(payload: dict, path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename it: a crash mid-save
    leaves an older file intact. Temporary files that a killed save left beside ``path``
    are removed first, and the folder is synced after the rename so the new name lasts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{_glob_escape(prefix)}*.tmp"):
        stale.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return path


def read_run_file(path) -> dict:
    """The payload of a run file; a :class:`ModelError` naming the file for anything else."""
    if not isinstance(path, (str, os.PathLike)):
        raise ModelError(f"`path` ({path!r}) must be the path of a file written by run.save(path)")
    name = str(path)
    if not Path(path).is_file():
        where = "is a folder" if Path(path).is_dir() else "does not exist"
        raise ModelError(f"{name!r} {where}; pass the path of a file written by run.save(path)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if zipfile.is_zipfile(path):  # a torch file, but holding Python objects a run file never has
            raise ModelError(f"{name!r} is not a windwidgets run file: it holds Python objects that a run "
                             "file never does, and windwidgets will not run code from a file") from None
        raise ModelError(f"{name!r} is not a windwidgets run file (it is not a file torch wrote); "
                         "load only files written by run.save(path)") from None
    except (RuntimeError, EOFError, OSError, ValueError, IndexError, KeyError):
        raise ModelError(f"{name!r} is not a windwidgets run file, or it is damaged (truncated or "
                         "overwritten); save the run again with run.save(path)") from None
    if not isinstance(payload, dict) or "format" not in payload:
        raise ModelError(f"{name!r} is not a windwidgets run file (a torch file without the run format "
                         "mark); load only files written by run.save(path)")
    return payload


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":  # folders cannot be opened for syncing on Windows
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
