"""Real hourly weather at Sand Point, Alaska, from the TMY3 file that pvlib ships."""
from __future__ import annotations

import calendar
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError

MISSING = ("ww.datasets.tmy_wind() reads the Sand Point TMY3 file that the pvlib package ships "
           "(offline, nothing is downloaded), and pvlib is not installed; install the optional "
           "extra with: pip install 'windwidgets[wind]'")
COLUMNS = {  # pvlib's name -> ours, in the units of the file
    "wind_speed": "speed",  # m/s, at 10 m
    "wind_direction": "direction",  # degrees from north
    "temp_air": "temperature",  # dry-bulb, degrees C
    "temp_dew": "dew_point",  # degrees C
    "relative_humidity": "humidity",  # percent
    "pressure": "pressure",  # mbar (hPa)
}


def tmy_wind(year: int = 2023) -> pd.DataFrame:
    """Hourly wind and weather of a typical year at Sand Point, Alaska (USAF 703165).

    Source: the typical-meteorological-year file ``703165TY.csv`` of the US National Solar
    Radiation Database (TMY3, NREL; Wilcox and Marion, 2008), shipped with the ``pvlib``
    package in ``pvlib/data`` and read offline with ``pvlib.iotools.read_tmy3``. Each month
    is a real month of measurements (from the years 1991 to 2005) chosen as typical, so the
    series jumps a little where one month meets the next. Sand Point lies on an island in
    the Aleutians: windy (5 m/s on average, up to 24 m/s), cool and damp.

    Parameters
    ----------
    year : the year the typical months are labelled with; a year that is not a leap year
        keeps the 8,760 hours on a regular hourly grid.

    Returns
    -------
    An hourly DataFrame of 8,760 rows, its DatetimeIndex ``time`` in local standard time
    (UTC-9, no daylight saving; the last row is midnight of the next year), with columns
    ``speed`` (m/s, at 10 m), ``direction`` (degrees), ``temperature`` and ``dew_point``
    (degrees C), ``humidity`` (percent) and ``pressure`` (mbar; this file holds a constant
    1012, a filled value, so it carries no information).

    Example
    -------
    >>> run = ww.train(ww.datasets.tmy_wind(), target="speed", covariates=["temperature"])
    """
    try:
        import pvlib
        from pvlib.iotools import read_tmy3
    except ImportError:
        raise ModuleNotFoundError(MISSING) from None
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or calendar.isleap(int(year)):
        raise ConfigError(f"`year` ({year!r}) must be a year that is not a leap year, such as 2023: "
                         "a typical year has no 29 February, so a leap year would leave a gap")
    path = Path(pvlib.__file__).parent / "data" / "703165TY.csv"
    data, _ = read_tmy3(str(path), coerce_year=int(year), map_variables=True)
    frame = data[list(COLUMNS)].rename(columns=COLUMNS).astype(np.float32)
    index = data.index.tz_localize(None)
    frame.index = pd.DatetimeIndex(index, name="time", freq="h")
    return frame
