"""The one place a fit's config is settled: the choices its settings leave to the model and
the data (the training mode, batch size, chunk lengths, the forecast steps that pick the
epoch), made once; the config that comes back is what the Run keeps and its file saves."""
from __future__ import annotations

import math

from .config import SEQUENCE_BATCH, WINDOW_BATCH, RunConfig
from .config_rules import levels_of
from .errors import ConfigError, warn


def settle(config: RunConfig, modes: tuple, why: str = "", season: int | None = None,
           room: int | None = None) -> RunConfig:
    """The config a Run keeps: the choices left to the model and the data, made once.

    Parameters
    ----------
    config : the checked settings (:meth:`RunConfig.from_kwargs`).
    modes : the ways the model can learn, its preferred one first; ``mode="auto"`` takes it
        (a one-row window takes "window": nothing to warm up, nothing to carry).
    why : why the model learns in those modes only, for the message.
    season : the data's seasonal period; ``forecast_steps=None`` becomes a season of
        sub-daily data, else the horizon. None leaves ``forecast_steps`` alone (classify).
    room : in sequence mode, the rows of the shortest training stretch: ``chunk`` and
        ``free_steps`` are cut to fit it (with a warning), so the config says what trained.

    Returns a new frozen config; ``batch_size``, ``chunk``, ``free_steps``, ``forecast_steps``
    and, with ``loss="quantile"``, ``quantiles`` hold the values the fit uses.
    """
    d, t = config.data, config.train
    mode = t.mode
    if mode == "auto":
        mode = "window" if d.window == 1 and "window" in modes else modes[0]
    if mode not in modes:
        raise ConfigError(
            f"`mode={mode!r}` is not a way {config.model.model!r}{why} can learn: it learns in mode "
            f"{' or '.join(repr(m) for m in modes)}; leave {'`mode` (or `stateful`)' if mode == 'stateful' else '`mode`'} out"
        )
    for name in ("chunk", "free_steps"):
        if mode != "sequence" and getattr(t, name) is not None:
            raise ConfigError(f"`{name}` ({getattr(t, name)}) shapes the chunks of mode='sequence', but this fit learns "
                              f"in mode {mode!r}; leave `{name}` out, or pass mode='sequence'")
    changes = {"mode": mode, "stateful": mode == "stateful"}
    if t.batch_size is None:
        changes["batch_size"] = SEQUENCE_BATCH if mode == "sequence" else WINDOW_BATCH
    if mode == "sequence":
        chunk = 2 * d.window if t.chunk is None else t.chunk
        free = d.window if t.free_steps is None else t.free_steps
        changes["chunk"], changes["free_steps"] = _fitted_chunk(chunk, free, d.window, d.horizon, room)
    if t.loss == "quantile":
        changes["quantiles"] = levels_of(t)  # the levels the model was built with, recorded
    if season is not None and t.forecast_steps is None:
        changes["forecast_steps"] = season if season > 1 else d.horizon
    return config.replace(**changes)


def _fitted_chunk(chunk: int, free: int, window: int, horizon: int, room: int | None) -> tuple:
    """``chunk`` and ``free_steps`` cut to the rows of the shortest training stretch, as the
    chunks are cut (see :class:`~windwidgets.data.windows.Chunks`); said when they are."""
    if room is None:
        return chunk, free
    left = room - window + 1  # rows for the scored steps and after
    fitted_free = min(math.ceil(free / horizon) * horizon, max(0, (left - chunk - horizon) // horizon * horizon))
    fitted_chunk = min(chunk, left - horizon)
    if (fitted_chunk, fitted_free) != (chunk, math.ceil(free / horizon) * horizon):
        warn(f"the shortest series has {room} training rows, too few for chunk={chunk} and free_steps={free} "
             f"after a {window}-row warm-up: every chunk is cut to chunk={fitted_chunk}, "
             f"free_steps={fitted_free} (the run records these); pass a shorter window or chunk, or drop the "
             "short series")
    return fitted_chunk, fitted_free
