"""Saving and loading trained networks.

A model file is a single ``.npz``: arrays ``W1, b1, W2, ...`` and a JSON
string ``metadata`` (format, reglab version, layer sizes, activations, the
training configuration and anything the caller adds). It is read with
``allow_pickle=False``, so loading a file never runs code.
"""

from __future__ import annotations

import json
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from ._validation import InputError
from .nn.network import Network

FORMAT = "reglab-network"
FORMAT_VERSION = 1


def reglab_version() -> str:
    try:
        return version("reglab")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


def save_network(path, network: Network, *, config=None, extra: dict | None = None) -> Path:
    """Write ``network`` to ``path`` (``.npz`` is appended if missing).

    Parameters
    ----------
    config : TrainConfig, optional; stored in the metadata as a dict
    extra : dict, optional JSON-serializable facts (accuracies, data set name...)
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a reglab Network, got {type(network).__name__}")
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "reglab_version": reglab_version(),
        "layer_sizes": list(network.layer_sizes), "hidden": list(network.hidden),
        "output": network.output,
        "config": None if config is None else config.to_dict(),
        "extra": extra or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, metadata=np.array(json.dumps(metadata)), **network.params())
    return path


def load_network(path) -> tuple[Network, dict]:
    """Read a model written by :func:`save_network`; returns ``(network, metadata)``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path} is not a reglab model file (.npz written by save_network): {exc}") from None
    try:
        metadata = json.loads(str(arrays.pop("metadata")))
        if not isinstance(metadata, dict):
            raise ValueError(f"metadata must be a JSON object, got {type(metadata).__name__}")
        if metadata.get("format") != FORMAT:
            raise ValueError(f"format is {metadata.get('format')!r}, expected {FORMAT!r}")
        if metadata.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"format_version {metadata['format_version']} is newer than this "
                             f"reglab reads ({FORMAT_VERSION}); upgrade reglab")
        sizes = metadata["layer_sizes"]
        L = len(sizes) - 1
        weights = [arrays[f"W{l}"] for l in range(1, L + 1)]
        biases = [arrays[f"b{l}"] for l in range(1, L + 1)]
        for l in range(L):
            if weights[l].shape != (sizes[l + 1], sizes[l]) or biases[l].shape != (sizes[l + 1],):
                raise ValueError(f"W{l + 1}/b{l + 1} have shapes {weights[l].shape}/{biases[l].shape}, "
                                 f"expected ({sizes[l + 1]}, {sizes[l]})/({sizes[l + 1]},)")
        network = Network(weights, biases, tuple(metadata["hidden"]), metadata["output"])
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"{path} is not a valid reglab model file: {what}") from None
    return network, metadata
