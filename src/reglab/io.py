"""Saving and loading trained networks.

A model file is a single ``.npz``: arrays ``W1, b1, W2, ...`` and a JSON
string ``metadata`` (format, reglab version, layer sizes, activations, the
training configuration and anything the caller adds). It is read with
``allow_pickle=False``, so loading a file never runs code, and checked as
strictly as a data file: sizes in the array headers against the file's size
before anything is allocated, then dtypes, shapes chaining layer to layer, one
activation per hidden layer, the output against the last layer, finite values,
and metadata that matches the arrays.
"""

from __future__ import annotations

import json
import numbers
import os
import zipfile
import zlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from ._validation import InputError, check_npz_sizes
from .nn.network import Network

FORMAT = "reglab-network"
FORMAT_VERSION = 1


def reglab_version() -> str:
    try:
        return version("reglab")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


def model_file_name(path) -> Path:
    """The file :func:`save_network` writes for ``path``: ``.npz`` appended if missing."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_network(path, network: Network, *, config=None, extra: dict | None = None) -> Path:
    """Write ``network`` to ``path`` (``.npz`` is appended if missing).

    Parameters
    ----------
    config : TrainConfig, optional; stored in the metadata as a dict
    extra : dict, optional JSON-serializable facts (accuracies, data set name...)
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a reglab Network, got {type(network).__name__}")
    path = model_file_name(path)
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "reglab_version": reglab_version(),
        "layer_sizes": list(network.layer_sizes), "hidden": list(network.hidden),
        "output": network.output,
        "config": None if config is None else config.to_dict(),
        "extra": extra or {},
    }
    # np.savez adds ".npz" to a name without it: the temporary name keeps the suffix
    write_whole(path, lambda f: np.savez(f, metadata=np.array(json.dumps(metadata)), **network.params()),
                suffix=".tmp.npz")
    return path


def write_whole(path, write, *, suffix: str = ".tmp") -> None:
    """Write the file ``path`` whole: ``write(tmp)`` writes a temporary file beside it, which
    then replaces ``path`` (a kill or a full disk leaves the old file, never half a new one).

    The parent folder is created; a path that exists and is not a regular file (a device
    such as /dev/null) is written through; an OSError names ``path``, not the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{suffix}")
    try:
        if path.exists() and not path.is_file():
            write(path)
            return
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def load_network(path) -> tuple[Network, dict]:
    """Read a model written by :func:`save_network`; returns ``(network, metadata)``.

    Raises
    ------
    InputError
        Naming the file and what is wrong with it: not a model file, sizes in the
        headers the file cannot hold, metadata that is missing, malformed or does
        not match the arrays, arrays of the wrong dtype or shape, non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    check_npz_sizes(path, "reglab model file")
    not_model = f"{path} is not a reglab model file (.npz written by save_network)"
    # Our own handle, closed on every path: np.load leaks the one it opens when the file is no zip.
    with path.open("rb") as f:
        try:
            npz = np.load(f, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise InputError(f"{not_model}: it holds a single array")
            with npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{not_model}: {exc}") from None
    try:
        metadata = _metadata(arrays.pop("metadata"))
        weights, biases = _parameters(arrays, metadata)
        network = Network(weights, biases, tuple(metadata["hidden"]), metadata["output"])
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"{path} is not a valid reglab model file: {what}") from None
    return network, metadata


def _metadata(raw: np.ndarray) -> dict:
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ValueError(f"metadata must be one JSON string, got {raw.dtype} of shape {raw.shape}")
    metadata = json.loads(str(raw))
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a JSON object, got {type(metadata).__name__}")
    if metadata.get("format") != FORMAT:
        raise ValueError(f"format is {metadata.get('format')!r}, expected {FORMAT!r}")
    version_ = metadata.get("format_version", 0)
    if isinstance(version_, bool) or not isinstance(version_, numbers.Integral):
        raise ValueError(f"format_version must be an integer, got {version_!r}")
    if version_ > FORMAT_VERSION:
        raise ValueError(f"format_version {version_} is newer than this "
                         f"reglab reads ({FORMAT_VERSION}); upgrade reglab")
    sizes, hidden, output = metadata["layer_sizes"], metadata["hidden"], metadata["output"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes)):
        raise ValueError(f"layer_sizes must list the input size and at least the output layer's "
                         f"(positive integers), got {sizes!r}")
    if not isinstance(hidden, list) or len(hidden) != len(sizes) - 2 \
            or not all(isinstance(h, str) for h in hidden):
        raise ValueError(f"hidden must name one activation per hidden layer ({len(sizes) - 2} for "
                         f"layer_sizes {sizes}), got {hidden!r}")
    if output not in ("sigmoid", "softmax"):
        raise ValueError(f"output must be 'sigmoid' or 'softmax', got {output!r}")
    return metadata


def _parameters(arrays: dict, metadata: dict) -> tuple[list, list]:
    sizes = metadata["layer_sizes"]
    L = len(sizes) - 1
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    extra = sorted(set(arrays) - expected)
    if extra:
        raise ValueError(f"arrays {', '.join(extra)} are not part of the {L}-layer network "
                         f"layer_sizes {sizes} describes")
    weights = [arrays[f"W{l}"] for l in range(1, L + 1)]
    biases = [arrays[f"b{l}"] for l in range(1, L + 1)]
    for l in range(L):
        for name, arr in ((f"W{l + 1}", weights[l]), (f"b{l + 1}", biases[l])):
            if arr.dtype.kind != "f":
                raise ValueError(f"{name} must hold floating-point numbers, got dtype {arr.dtype}")
        if weights[l].shape != (sizes[l + 1], sizes[l]) or biases[l].shape != (sizes[l + 1],):
            raise ValueError(f"W{l + 1}/b{l + 1} have shapes {weights[l].shape}/{biases[l].shape}, "
                             f"expected ({sizes[l + 1]}, {sizes[l]})/({sizes[l + 1]},)")
        for name, arr in ((f"W{l + 1}", weights[l]), (f"b{l + 1}", biases[l])):
            if not np.isfinite(arr).all():
                bad = arr[~np.isfinite(arr)][0]
                raise ValueError(f"{name} holds a non-finite value ({bad}); a network with NaN or "
                                 f"inf weights predicts nothing meaningful")
    return weights, biases
