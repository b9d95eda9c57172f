"""Real 5-minute process data of an industrial plant, from the file the bibmon package ships."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, warn

MISSING = ("ww.datasets.plant() reads the real process data file that the bibmon package ships "
           "(offline, nothing is downloaded), and bibmon is not installed; install the optional "
           "extra with: pip install 'windwidgets[plant]'")
FILE = ("real_process_data", "real_process_data.csv")  # inside the bibmon package


def plant() -> pd.DataFrame:
    """Eleven days of a real process plant: 108 anonymised tags every 5 minutes.

    Source: ``real_process_data.csv``, shipped in the ``bibmon`` package (a library for
    process monitoring and soft sensors) and read offline from the installed package, which
    is not imported. The tags ``tag0`` ... ``tag107`` are real
    measurements of a plant from 24 December 2017 to 4 January 2018, anonymised and
    standardised by their publisher (each varying column has mean 0 and standard deviation 1
    over the file, so the units are gone). ``tag100`` is the target of bibmon's own soft-sensor
    example: a quality the other tags, read online, explain. Fourteen tags hold a constant.

    The file's cells that are no number, the historian's status words ``Inp OutRange``,
    ``Bad`` and ``Scan Timeout`` (498 cells, mostly in ``tag2`` and ``tag70``),
    become missing values, with a warning that counts them per column; train with
    ``fill="interpolate"``, or leave those columns out.

    Returns
    -------
    A DataFrame of 3,169 rows and 108 float32 columns ``tag0`` ... ``tag107``, its
    DatetimeIndex ``time`` every 5 minutes with no gaps.

    Example
    -------
    >>> data = ww.datasets.plant()
    >>> run = ww.train(data, target="tag100", future_covariates=["tag101", "tag102"],
    ...                fill="interpolate")
    """
    raw = pd.read_csv(_path(), index_col=0)
    frame = raw.apply(pd.to_numeric, errors="coerce")
    words = frame.isna() & raw.notna()  # (rows, tags) cells that held text
    if words.to_numpy().any():
        counts = words.sum()
        counted = ", ".join(f"{name} {int(n)}" for name, n in counts[counts > 0].items())
        seen = sorted({str(v) for v in raw.to_numpy()[words.to_numpy()]})
        warn(f"ww.datasets.plant(): {int(counts.sum())} cells of the file are no number "
             f"({', '.join(repr(s) for s in seen)}) and are missing values now, per column: "
             f"{counted}; train with fill='interpolate', or leave those columns out")
    frame.index = pd.DatetimeIndex(pd.to_datetime(raw.index), name="time", freq="5min")
    return frame.astype(np.float32)


def _path() -> Path:
    """The shipped file, found from bibmon's location without importing bibmon (its import
    pulls in matplotlib, which nothing under data may import)."""
    spec = importlib.util.find_spec("bibmon")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(MISSING)
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*FILE)
    if not path.is_file():
        raise DataError(f"the installed bibmon package has no {'/'.join(FILE)} (looked at {path}); "
                        "reinstall it with: pip install --force-reinstall bibmon")
    return path
