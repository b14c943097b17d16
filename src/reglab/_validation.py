"""Input validation shared by every public entry point.

Each check names the argument, says what was expected and what was received,
and raises :class:`InputError` (a ``ValueError``) or ``TypeError``. Private
helpers elsewhere trust what these functions return.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np


class ReglabError(Exception):
    """Base class of the errors reglab raises on purpose."""


class InputError(ReglabError, ValueError):
    """A user-supplied value (argument, array, file) is not acceptable."""


class TrainingError(ReglabError, RuntimeError):
    """Training cannot go on (for instance the parameters became non-finite)."""


def describe(value) -> str:
    """A short, readable description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_float(value, name: str, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float inside the stated interval.

    >>> check_float(0.5, "keep_prob", low=0, high=1, low_open=True)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    if low is not None and high is not None:
        expected = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:  # "in [0, inf]" would wrongly suggest that inf is accepted
        expected = f"a finite number {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        expected = f"a finite number {'<' if high_open else '<='} {high:g}"
    else:
        expected = "a finite number"
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        raise InputError(f"{name} must be {expected}, got {value:g}")
    return value


def check_int(value, name: str, *, low: int | None = None) -> int:
    """Return ``value`` as an int, at least ``low`` when given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if low is not None and value < low:
        raise InputError(f"{name} must be an integer >= {low}, got {value}")
    return value


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; the error lists them."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        known = ", ".join(repr(c) for c in choices)
        raise InputError(f"{name} must be one of {known}, got {describe(value)}")
    return value


def check_X(X, name: str = "X", *, n_features: int | None = None) -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape ``(n_samples, n_features)``.

    Complex and object arrays are refused: converting them would drop imaginary
    parts or guess at the objects' meaning.
    """
    try:
        kind = X.dtype.kind if isinstance(X, np.ndarray) else np.asarray(X).dtype.kind
    except (TypeError, ValueError):
        kind = "?"  # ragged or otherwise unreadable: the conversion below names it
    if kind == "c":
        raise InputError(f"{name} must hold real numbers, got complex values; "
                         f"converting would silently drop the imaginary parts")
    if kind == "O":
        raise InputError(f"{name} must be a numeric array, got an object array (dtype object)")
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric array of shape (n_samples, n_features), "
                         f"got {describe(X)} ({exc})") from None
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D array of shape (n_samples, n_features), "
                         f"got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} must have at least one sample and one feature, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise InputError(f"{name} must have {n_features} features (columns), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        row, col = np.argwhere(~np.isfinite(arr))[0]
        raise InputError(f"{name} must contain only finite values, got {arr[row, col]} "
                         f"at row {row}, column {col}")
    return arr


def check_labels(y, name: str = "y", *, n_samples: int | None = None) -> np.ndarray:
    """Return integer class labels ``0..K-1`` of shape ``(n_samples,)``.

    Floats that are whole numbers (``1.0``) are accepted; anything else is
    refused with the offending value.
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of shape (n_samples,), got shape {arr.shape}")
    if n_samples is not None and arr.shape[0] != n_samples:
        raise InputError(f"{name} must have one label per sample ({n_samples}), got {arr.shape[0]}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold integer class labels 0..K-1, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 0)
    else:
        bad = arr < 0
    if bad.any():
        raise InputError(f"{name} must hold integer class labels 0..K-1, got {arr[bad][0].item()!r}")
    return arr.astype(np.int64)


def check_binary_labels(y: np.ndarray, name: str = "y") -> None:
    """Refuse labels other than 0 and 1 (for a sigmoid output)."""
    bad = y[(y != 0) & (y != 1)]
    if bad.size:
        raise InputError(f"{name} must hold only 0 and 1 for a sigmoid output, got {bad[0]}; "
                         f"use output='softmax' for more than two classes")


def check_sizes(values, name: str) -> tuple[int, ...]:
    """Return a tuple of positive layer sizes (an empty tuple is allowed)."""
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = (values,)
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of positive integers, got {describe(values)}")
    out = tuple(check_int(v, f"{name}[{i}]", low=1) for i, v in enumerate(values))
    return out


#: Deflate expands at most about 1032 to 1: a compressed member claiming more is lying.
_DEFLATE_MAX_RATIO = 1032


def check_npz_sizes(path, what: str) -> None:
    """Refuse (InputError naming ``path``) a ``.npz`` whose array headers claim more bytes
    than the file can hold, before anything is allocated.

    Each member's ``.npy`` header gives a shape and dtype; their product must be the
    member's size in the archive, and that size must fit in the member's stored bytes
    (times deflate's largest expansion when compressed). A 522-byte file whose header
    claims a 10^6 x 10^6 array is refused here, not by a failed allocation.
    """
    import os
    import zipfile

    on_disk = os.path.getsize(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return  # not a zip: the loader's own error names that
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[:-4]
            try:
                with archive.open(info) as f:
                    major, _ = np.lib.format.read_magic(f)
                    read = {1: np.lib.format.read_array_header_1_0}.get(major,
                                                                        np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(f)
                    header = f.tell() if f.seekable() else None
            except Exception:  # noqa: BLE001 - a damaged header: the loader names it
                continue
            if dtype.hasobject:
                continue  # refused by allow_pickle=False, with its own message
            claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
            stored = info.compress_size
            if stored > on_disk:
                raise InputError(f"{path} is not a valid {what}: array {name!r} claims {stored:,} "
                                 f"stored bytes in a file of {on_disk:,} bytes; the file is damaged")
            room = stored * (_DEFLATE_MAX_RATIO if info.compress_type != zipfile.ZIP_STORED else 1)
            declared = info.file_size - (header or 0)
            if claimed > room or (header is not None and claimed != declared):
                raise InputError(
                    f"{path} is not a valid {what}: the header of array {name!r} claims shape "
                    f"{tuple(shape)} of {dtype} ({claimed:,} bytes), but the file holds "
                    f"{max(declared, 0):,} bytes of it ({stored:,} stored); the file is damaged "
                    f"or forged")
