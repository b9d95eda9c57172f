"""Views subscribe to the trainer's events. Which view a fit gets is decided here alone."""
from __future__ import annotations

from typing import Callable, Optional

from .text import TextView, score_text


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code), where widgets render."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_view(live, stop: Optional[Callable] = None, preview: Optional[Callable] = None,
              title: str = "training", show: Optional[Callable] = None, scored: str = ""):
    """The subscriber for ``live``, or None for ``live=False``.

    Parameters
    ----------
    live : "auto" (or True) picks the widget panel in a notebook kernel and the text view
        elsewhere; "widgets" and "text" force one; False or None shows nothing.
    stop : asks the fit to end after the current batch (the panel's Stop button).
    preview : returns the forecast preview the panel draws (see
        :func:`windwidgets.forecast.preview.live_preview`).
    title : the panel's first line.
    show : places the panel (a dashboard puts it in its own layout); by default the panel is
        displayed in the cell's output, where the final image replaces it when the fit ends.
    scored : what ``val_forecast`` scores (:func:`~windwidgets.views.text.score_text`), said
        once by either view.

    Whether the fit then runs in a background thread is the API's choice
    (:meth:`windwidgets.Run.fit`).
    """
    if live is False or live is None:
        return None
    if live == "text":
        return TextView(scored=scored)
    if live == "widgets" or show is not None or in_notebook():
        from .live import LiveView

        view = LiveView(stop=stop, preview=preview, title=title, scored=scored)
        if show is not None:
            show(view.panel)
        else:
            view.display()
        return view
    return TextView(scored=scored)
