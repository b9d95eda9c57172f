"""Labelled sequences for task="classify": checked, split, scaled, batched.

Each sample is a whole sequence (many-to-one), so the split is a seeded, stratified draw of
samples rather than a cut in time: the validation part keeps every class in proportion.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..config import DataConfig
from ..errors import DataError, listing
from .scaling import Scaler
from .windows import Windows


class Sequences(Windows):
    """Whole sequences and their class indices, batched like :class:`Windows`.

    ``x`` (samples, time, features) scaled; ``y`` (samples,) class indices;
    ``train_index`` and ``val_index`` pick the samples of each part.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, train_index: torch.Tensor, val_index: torch.Tensor):
        self.x, self.y = x, y
        self.train_index, self.val_index = train_index, val_index


@dataclass
class PreparedSequences:
    windows: Sequences  # what the trainer reads: train_index, val_index, batches
    scaler: Scaler  # one entry per feature, fitted on the training samples
    classes: list  # the label of each class index, sorted
    n_train: int  # samples in the training part

    @property
    def time(self) -> int:
        return self.windows.x.shape[1]

    @property
    def features(self) -> int:
        return self.windows.x.shape[2]


def as_sequences(sequences, name: str = "sequences") -> np.ndarray:
    """(samples, time, features) float32 from an array-like; (samples, time) gets one feature."""
    values = np.asarray(sequences.detach().cpu() if isinstance(sequences, torch.Tensor) else sequences)
    if values.dtype == object or not np.issubdtype(values.dtype, np.number):
        raise DataError(f"`{name}` must be numbers, shaped (samples, time, features); got dtype {values.dtype}")
    if values.ndim == 2:
        values = values[:, :, None]  # (samples, time, 1)
    if values.ndim != 3:
        raise DataError(f"`{name}` has shape {values.shape}; a classifier reads (samples, time, features) "
                        "or (samples, time), one sequence per sample")
    if not np.isfinite(values).all():
        bad = np.flatnonzero(~np.isfinite(values).all(axis=(1, 2)))
        raise DataError(f"`{name}` holds NaN or inf values in {len(bad)} samples (first: "
                        f"{listing(bad[:3].tolist())}); fill or drop them")
    return values.astype(np.float32)


def split_labels(data) -> tuple:
    """``data`` as the (sequences, labels) pair task="classify" takes."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise DataError(f"task='classify' takes data=(sequences, labels); got a {type(data).__name__}"
                        + (f" of {len(data)} items" if isinstance(data, (tuple, list)) else "")
                        + ", e.g. data=ww.datasets.digits()")
    sequences, labels = as_sequences(data[0]), np.asarray(data[1])
    if labels.ndim != 1 or len(labels) != len(sequences):
        raise DataError(f"`labels` must hold one label per sequence: {len(sequences)} sequences but "
                        f"labels of shape {labels.shape}")
    return sequences, labels


def prepare_sequences(data, config: DataConfig, seed: int, device: torch.device) -> PreparedSequences:
    """Check the pair, index the classes, split per class, scale on the training samples."""
    sequences, labels = split_labels(data)
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"`labels` hold a single class ({_plain(classes[0])!r}); a classifier needs at least two")
    train, val = stratified_split(y, config.val_fraction, seed)
    if not len(train) or not len(val):
        raise DataError(f"{len(sequences)} sequences leave {len(train)} to train and {len(val)} to "
                        f"validate at val_fraction={config.val_fraction}; pass more sequences")
    x = torch.from_numpy(sequences)  # (samples, time, features)
    scaler = Scaler(config.scaler).fit(x[train].flatten(0, 1))  # fitted on (train samples * time, features)
    x = scaler.transform(x).to(device)  # (samples, time, features)
    windows = Sequences(x, torch.as_tensor(y, dtype=torch.long, device=device),
                        torch.as_tensor(train, device=device), torch.as_tensor(val, device=device))
    return PreparedSequences(windows, scaler, [_plain(c) for c in classes], len(train))


def stratified_split(y: np.ndarray, val_fraction: float, seed: int) -> tuple:
    """Sample indices (train, val): ``val_fraction`` of each class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for k in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == k))
        n_val = int(round(len(members) * val_fraction))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def _plain(label):
    """A numpy scalar as the Python value, so it saves without pickling."""
    return label.item() if isinstance(label, np.generic) else label
