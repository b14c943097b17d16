"""Loaders of user files (.mat, .csv, .npz), each returning a :class:`Dataset`."""

from __future__ import annotations

import csv
import dataclasses
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .._validation import InputError, check_float, check_npz_sizes, check_X, describe
from .dataset import Dataset
from .split import check_bool, make_rng, train_dev_test_split
from .registry import call_with_kwargs

_MAT_CONTENT = "arrays X (m x n), y (m x 1), Xval (k x n), yval (k x 1)"


def _existing(path, what: str) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {describe(path)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} file not found: {path}")
    return path


def _read_mat(path: Path, *, binary: bool, name: str) -> Dataset:
    import scipy.io  # only when a .mat file is read: it slows every `reglab` start otherwise

    must = f"{path} must be a MATLAB file with {_MAT_CONTENT}"
    try:
        content = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises several unrelated types on a non-MATLAB file
        raise InputError(f"{must}; it could not be read as one ({type(exc).__name__}: {exc})") from None
    missing = [k for k in ("X", "y", "Xval", "yval") if k not in content]
    if missing:
        raise InputError(f"{must}; missing: {', '.join(missing)}")
    arrays = {}
    try:
        for X_key, y_key in (("X", "y"), ("Xval", "yval")):
            X = check_X(content[X_key], X_key, n_features=arrays["X"].shape[1] if arrays else None)
            y = np.asarray(content[y_key])
            if y.ndim != 2 or y.shape[1] != 1 or y.shape[0] != X.shape[0]:
                raise InputError(f"{y_key} must have shape ({X.shape[0]}, 1), got {y.shape}")
            if y.dtype.kind not in "biuf":
                raise InputError(f"{y_key} must hold numeric labels, got dtype {y.dtype}")
            arrays[X_key], arrays[y_key] = X, y.reshape(-1)
    except InputError as exc:
        raise InputError(f"{must}; {exc}") from None
    if binary:
        for y_key in ("y", "yval"):
            bad = arrays[y_key][(arrays[y_key] != 0) & (arrays[y_key] != 1)]
            if bad.size:
                raise InputError(f"{must}, labels 0/1; {y_key} holds {bad[0]:g}")
    codes, classes = _encode_labels(np.concatenate([arrays["y"], arrays["yval"]]), path)
    n = len(arrays["y"])
    return Dataset(name=name, X_train=arrays["X"], y_train=codes[:n],
                   X_test=arrays["Xval"], y_test=codes[n:], classes=classes,
                   description=f"{path.name}: X/y for training, Xval/yval for testing")


def load_football(path) -> Dataset:
    """The course's football data set (``data.mat``, shared as ``football.mat``).

    Positions ``X`` of shape ``(211, 2)`` where the French goalkeeper kicked the
    ball, label 1 when a French player headed it; ``Xval`` ``(200, 2)`` is the
    test set. Labels must be 0/1. ``symmetries`` is empty.

    Parameters
    ----------
    path : str or Path
        MATLAB file with arrays ``X`` (m x n), ``y`` (m x 1), ``Xval`` (k x n), ``yval`` (k x 1).
    """
    return _read_mat(_existing(path, "football"), binary=True, name="football")


def load_mat(path) -> Dataset:
    """A MATLAB file laid out like the course's football file, named after its stem.

    Same keys as :func:`load_football`; labels may be any integers ``0..K-1``.
    """
    path = _existing(path, "MATLAB")
    return _read_mat(path, binary=False, name=path.stem)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _class_names(classes: np.ndarray) -> tuple[str, ...]:
    return tuple(f"{c:g}" if isinstance(c, (float, np.floating)) else str(c) for c in classes.tolist())


def _encode_labels(raw, path: Path) -> tuple[np.ndarray, tuple | None]:
    """``(codes, classes)``: labels that are exactly ``0..K-1`` stay as they are (``classes``
    None); anything else (strings, -1/1, 0.5, or whole numbers with a gap such as 1/2 or
    2/5) is mapped to 0..K-1 in sorted order, numeric when every value is a number, and
    ``classes`` lists the original values. The same rule for .csv, .npz and .mat files."""
    try:
        values = np.array([float(v) for v in raw])
    except (TypeError, ValueError):
        classes, codes = np.unique(np.array([str(v) for v in raw]), return_inverse=True)
        return codes, _class_names(classes)
    if not np.isfinite(values).all():
        raise InputError(f"{path}: labels must be finite, got {raw[int(np.argmin(np.isfinite(values)))]!r}")
    classes, codes = np.unique(values, return_inverse=True)
    if np.array_equal(classes, np.arange(classes.size)):
        return values.astype(np.int64), None
    return codes, _class_names(classes)


def _ratios(test_size, dev: bool):
    if test_size is None:
        return None
    t = check_float(test_size, "test_size", low=0, high=0.5 if dev else 1, low_open=True, high_open=True)
    return (1 - 2 * t, t, t) if dev else (1 - t, 0.0, t)


def _read_csv_rows(path: Path) -> list[list[str]]:
    """The non-blank rows of ``path``; a file that is not UTF-8 text or that the csv module
    refuses (a field over its size limit...) raises InputError naming the file and line."""
    rows = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            try:
                for r in reader:
                    if r and any(cell.strip() for cell in r):
                        rows.append(r)
            except csv.Error as exc:
                raise InputError(f"{path}: line {reader.line_num} cannot be read as CSV ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a UTF-8 text CSV file") from None
    return rows


def read_csv_table(path, label=None, *, last_is_label: bool = True):
    """``(X, labels)``: the numeric feature columns of a CSV file with a header row,
    and the label column's raw text.

    ``label`` names the label column; None takes the last column when
    ``last_is_label``, else there is no label column and ``labels`` is None.
    """
    path = _existing(path, "CSV")
    rows = _read_csv_rows(path)
    if len(rows) < 2:
        raise InputError(f"{path} must hold a header row and at least one data row, got {len(rows)} row(s)")
    header = [h.strip() for h in rows[0]]
    if all(_is_number(h) for h in header):
        raise InputError(f"{path} must start with a header row naming the columns; "
                         f"the first row is all numbers: {', '.join(header)}")
    if label is None:
        col = len(header) - 1 if last_is_label else None
    elif not isinstance(label, str) or header.count(label) != 1:
        raise InputError(f"label must name one column of {path} ({', '.join(header)}), got {describe(label)}")
    else:
        col = header.index(label)
    if col is not None and len(header) < 2:
        raise InputError(f"{path} must have at least one feature column besides the label, got {header}")
    features = [j for j in range(len(header)) if j != col]
    X = np.empty((len(rows) - 1, len(features)))
    labels = None if col is None else []
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise InputError(f"{path}: row {i} (line {i + 1}) has {len(row)} fields, "
                             f"the header has {len(header)}")
        for k, j in enumerate(features):
            try:
                X[i - 1, k] = float(row[j])
            except ValueError:
                X[i - 1, k] = np.nan
            if not np.isfinite(X[i - 1, k]):
                raise InputError(f"{path}: column {header[j]!r} must be numeric, got {row[j]!r} "
                                 f"in row {i} (line {i + 1})")
        if col is not None:
            if not row[col].strip():
                raise InputError(f"{path}: row {i} (line {i + 1}) has no label in column {header[col]!r}")
            labels.append(row[col].strip())
    return X, labels


def load_csv(path, label=None, *, test_size=None, seed=0, dev=False) -> Dataset:
    """A CSV file with a header row: one label column, numeric feature columns.

    Parameters
    ----------
    path : str or Path
        Comma-separated file; the first row names the columns.
    label : str or None
        Name of the label column; None takes the last column. Labels that are
        not exactly ``0..K-1`` (strings, -1/1, or 1/2) are encoded to ``0..K-1``
        in sorted order (numeric order when all are numbers).
    test_size : float or None
        Test fraction; with ``dev=True`` the dev set gets the same fraction.
        None uses :func:`default_ratios`.
    seed : int >= 0
        Seed of the stratified split.
    dev : bool
        Whether to make a dev set.

    Returns
    -------
    Dataset
        Named after the file stem; ``X_*`` of shape ``(n, n_columns - 1)``.
    """
    path = _existing(path, "CSV")
    dev = check_bool(dev, "dev")
    ratios = _ratios(test_size, dev)
    X, labels = read_csv_table(path, label)
    y, classes = _encode_labels(labels, path)
    data = train_dev_test_split(X, y, ratios=ratios, dev=dev, seed=make_rng(seed), name=path.stem)
    return data if classes is None else dataclasses.replace(data, classes=classes)


def load_npz(path, *, seed=0, dev=False) -> Dataset:
    """A NumPy ``.npz`` archive with arrays ``X`` (n, n_features) and ``y`` (n,).

    When the archive also holds ``X_test`` and ``y_test`` (and optionally
    ``X_dev`` and ``y_dev``), ``X``/``y`` are the training set and nothing is
    split; ``dev=True`` then requires ``X_dev``/``y_dev`` in the file.
    Otherwise ``X``/``y`` are split as by :func:`load_csv`. Labels that are not
    exactly ``0..K-1`` over all the label arrays (``1``/``2``, ``-1``/``1``,
    strings) are encoded to ``0..K-1`` in sorted order, as by :func:`load_csv`.
    Object arrays are refused (``allow_pickle=False``).
    """
    path = _existing(path, "npz")
    dev = check_bool(dev, "dev")
    rng = make_rng(seed)
    must = f"{path} must be a .npz archive with arrays X (n, n_features) and y (n,)"
    unreadable = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
    if path.stat().st_size == 0:
        raise InputError(f"{must}; it is empty (0 bytes)")
    check_npz_sizes(path, ".npz data file")  # a forged header must not become an allocation
    # Our own handle, closed on every path: np.load leaks the one it opens when the file is no zip.
    with path.open("rb") as f:
        try:
            archive = np.load(f, allow_pickle=False)
        except unreadable as exc:  # EOFError: too short to hold even a .npy header
            raise InputError(f"{must}; it could not be read as one ({type(exc).__name__}: {exc})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise InputError(f"{must}; it holds a single array")
        with archive:
            try:
                data = {k: archive[k] for k in archive.files}
            except unreadable as exc:  # a damaged member: bad CRC, truncated data, object arrays
                raise InputError(f"{must}; {type(exc).__name__}: {exc}") from None
    missing = [k for k in ("X", "y") if k not in data]
    for a, b in (("X_test", "y_test"), ("X_dev", "y_dev")):
        if (a in data) != (b in data):
            missing.append(b if a in data else a)
    if missing:
        raise InputError(f"{must} (and X_test/y_test, X_dev/y_dev in pairs); missing: {', '.join(missing)}")
    for k, arr in data.items():
        if arr.dtype.kind == "c":
            raise InputError(f"{must}; {k} holds complex numbers (dtype {arr.dtype}), which would "
                             f"lose their imaginary parts")
    encoded, classes = _encode_npz_labels(data, [k for k in ("y", "y_dev", "y_test") if k in data])
    data.update(encoded)
    if "X_test" not in data:
        if "X_dev" in data:
            raise InputError(f"{path} holds X_dev/y_dev but no X_test/y_test; give both or neither")
        split = train_dev_test_split(data["X"], data["y"], dev=dev, seed=rng, name=path.stem)
        return split if classes is None else dataclasses.replace(split, classes=classes)
    if dev and "X_dev" not in data:
        raise InputError(f"dev=True but {path} holds its own test set and no X_dev/y_dev")
    return Dataset(name=path.stem, X_train=data["X"], y_train=data["y"], X_test=data["X_test"],
                   y_test=data["y_test"], X_dev=data.get("X_dev"), y_dev=data.get("y_dev"),
                   description=f"{path.name}: splits as stored", classes=classes)


def _encode_npz_labels(data: dict, keys: list[str]) -> tuple[dict, tuple | None]:
    """The label arrays ``keys`` of an archive, encoded together by the rule of
    :func:`_encode_labels` (unchanged when their labels are exactly ``0..K-1``, else
    mapped to ``0..K-1`` in sorted order), with the original classes. Arrays that cannot
    hold labels (wrong shape, NaN) are returned as they are, for the Dataset's checks to
    name them."""
    ys = {}
    for k in keys:
        y = np.asarray(data[k])
        if y.ndim == 2 and 1 in y.shape:
            y = y.reshape(-1)
        if y.ndim != 1 or y.dtype.kind not in "biufUS" or (y.dtype.kind == "f" and not np.isfinite(y).all()):
            return {}, None
        ys[k] = y
    if len({y.dtype.kind in "US" for y in ys.values()}) > 1:
        return {}, None  # numbers in one split, strings in another: let the checks refuse it
    classes = np.unique(np.concatenate(list(ys.values())))
    if classes.dtype.kind not in "US" and np.array_equal(classes, np.arange(classes.size)):
        return {}, None
    return {k: np.searchsorted(classes, y) for k, y in ys.items()}, _class_names(classes)


_LOADERS = {".csv": load_csv, ".mat": load_mat, ".npz": load_npz}


def load_file(path, **kwargs) -> Dataset:
    """Load ``path`` with the loader for its extension (.csv, .mat, .npz).

    ``kwargs`` go to that loader (:func:`load_csv`, :func:`load_mat`,
    :func:`load_npz`); one it does not accept raises :class:`InputError`.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {describe(path)}")
    suffix = Path(path).suffix.lower()
    if suffix not in _LOADERS:
        raise InputError(f"unknown file extension {suffix or '(none)'!r} of {path}; "
                         f"known: {', '.join(sorted(_LOADERS))}")
    return call_with_kwargs(_LOADERS[suffix], kwargs, f"loader of {suffix} files", path)
