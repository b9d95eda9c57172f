"""Views subscribe to the trainer's events. Which view a fit gets is decided here alone."""
from __future__ import annotations

from .text import TextView


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code), where widgets render."""
    import sys

    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_view(live):
    """The subscriber for ``live``: "auto" picks widgets in a notebook and text elsewhere."""
    if live is False or live is None:
        return None
    return TextView()
