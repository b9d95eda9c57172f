"""scikit-learn's 8x8 handwritten digits, read row by row, for task="classify"."""
from __future__ import annotations

import numpy as np

MISSING = ("ww.datasets.digits() reads the digits bundled with scikit-learn, which is not "
           "installed; install the optional extra with: pip install 'windwidgets[digits]'")


def digits() -> tuple:
    """The 1,797 handwritten digits of scikit-learn (offline, bundled with it) as sequences.

    Each 8x8 image is read as a sequence of 8 rows of 8 pixels (values 0 to 16), the way the
    sequence-classification tutorial reads 28x28 images row by row.

    Returns
    -------
    sequences : float32 array (1797, 8, 8): (samples, time = row, features = pixels of the row)
    labels : int64 array (1797,), the digit 0 to 9

    Example
    -------
    >>> run = ww.train(ww.datasets.digits(), task="classify", model="lstm", hidden_size=32)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ModuleNotFoundError(MISSING) from None
    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)
