"""The page's configuration: validated, turned into data, TrainConfigs and command lines.

A page sends its whole configuration as JSON (the same object its URL holds)::

    {"dataset": "moons", "n_samples": 400, "noise": 0.2, "data_seed": 0, "dev": true,
     "split": null, "train_size": null, "layers": [8, 8], "hidden": "relu", "batch_size": null,
     "seed": 0, "record_every": 10, "course_compat": false,
     "columns": [{"learning_rate": 0.1, "init": "he", "l2": 0, "l1": 0, "keep_prob": [1, 1],
                  "early_stopping": null, "augment": null}, ...]}

Everything above ``columns`` is shared by the side-by-side configurations (same
data, architecture and seed, hence the same initial weights when their ``init``
is the same); each column holds what differs. The data are loaded exactly as
``reglab train`` loads them, so :func:`command_line` reproduces a column's run.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import InputError, describe
from ..data import load_dataset, load_file, resplit, subsample_train, with_dev_split
from ..data.split import check_ratios
from ..nn.activations import ACTIVATIONS
from ..nn.initializers import INITIALIZERS
from ..training.loop import TrainConfig

#: Generated 2-D data sets the page offers (``circles_course`` is the course's fixed draw).
GENERATED = ("field", "moons", "circles", "xor", "spiral", "gaussian", "circles_course")
MAX_SAMPLES = 5000
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 64
MAX_COLUMNS = 4
MAX_PARAMETERS = 20_000  # per network: keeps every page at 10+ updates a second on 2 cores
SHARED_KEYS = ("dataset", "n_samples", "noise", "data_seed", "dev", "split", "train_size", "layers", "hidden",
               "batch_size", "seed", "record_every", "course_compat")
COLUMN_KEYS = ("learning_rate", "init", "l2", "l1", "keep_prob", "early_stopping", "augment")


@dataclass(frozen=True)
class DataSource:
    """Where a page's ``file`` or ``upload`` data come from: a path and the name to show."""

    path: Path
    label: str


def _number(cfg: dict, key: str, kind=float, low=None, high=None, optional=False):
    value = cfg.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        want = "an integer" if kind is int else "a number"
        raise InputError(f"{key} must be {want}, got {describe(value)}")
    value = kind(value)
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{key} must be in [{low}, {high}], got {value}")
    return value


def _choice(cfg: dict, key: str, choices) -> str:
    value = cfg.get(key)
    if value not in choices:
        raise InputError(f"{key} must be one of {', '.join(choices)}, got {describe(value)}")
    return value


def check_page_config(cfg, sources: dict[str, DataSource]) -> dict:
    """Return a clean copy of a page's configuration, or raise InputError saying what is wrong.

    ``sources`` maps ``"file"`` (``--data``) and ``"upload:<id>"`` to their files.
    """
    if not isinstance(cfg, dict):
        raise InputError(f"the configuration must be a JSON object, got {describe(cfg)}")
    unknown = sorted(set(cfg) - set(SHARED_KEYS) - {"columns"})
    if unknown:
        raise InputError(f"unknown configuration key(s): {', '.join(unknown)}")
    out = {"dataset": _choice(cfg, "dataset", (*GENERATED, *sources))}
    generated = out["dataset"] in GENERATED and out["dataset"] != "circles_course"
    out["n_samples"] = _number(cfg, "n_samples", int, 20, MAX_SAMPLES) if generated else None
    out["noise"] = _number(cfg, "noise", float, 0, 0.5 if out["dataset"] == "field" else 2) if generated else None
    out["data_seed"] = _number(cfg, "data_seed", int, 0, 2**31 - 1)
    out["dev"] = bool(cfg.get("dev", False))
    out["split"] = _check_split(cfg.get("split"), out["dataset"], sources)
    if out["split"] is not None:
        out["dev"] = out["split"][1] > 0  # the split's dev fraction says whether there is a dev set
    out["train_size"] = _number(cfg, "train_size", int, 2, MAX_SAMPLES, optional=True)
    layers = cfg.get("layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_HIDDEN_LAYERS:
        raise InputError(f"layers must list 1 to {MAX_HIDDEN_LAYERS} hidden layer widths, got {describe(layers)}")
    out["layers"] = [_number({"layers": w}, "layers", int, 1, MAX_WIDTH) for w in layers]
    out["hidden"] = _choice(cfg, "hidden", sorted(ACTIVATIONS))
    out["batch_size"] = _number(cfg, "batch_size", int, 1, MAX_SAMPLES, optional=True)
    out["seed"] = _number(cfg, "seed", int, 0, 2**31 - 1)
    out["record_every"] = _number(cfg, "record_every", int, 1, 100_000)
    out["course_compat"] = bool(cfg.get("course_compat", False))
    columns = cfg.get("columns")
    if not isinstance(columns, list) or not 1 <= len(columns) <= MAX_COLUMNS:
        raise InputError(f"columns must list 1 to {MAX_COLUMNS} configurations, got {describe(columns)}")
    out["columns"] = [_check_column(c, len(out["layers"])) for c in columns]
    for column in out["columns"]:
        train_config(out, column)  # TrainConfig's own checks, with its messages
    return out


def fixed_split(name: str, sources: dict[str, DataSource]) -> bool:
    """Whether data set ``name`` comes with its own test set (as ``reglab train`` judges it)."""
    if name == "circles_course":
        return True
    if name not in sources:
        return False
    path = sources[name].path
    if path.suffix.lower() == ".mat":
        return True
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return "X_test" in archive.files
    return False


def _check_split(split, name: str, sources: dict[str, DataSource]):
    """``None`` (reglab's rule, ``dev`` on or off) or ``[train, dev, test]`` fractions."""
    if split is None:
        return None
    if fixed_split(name, sources):
        label = sources[name].label if name in sources else name
        raise InputError(f"split applies to data reglab splits itself; {label} has its own train/test split")
    try:
        if not isinstance(split, list):
            raise InputError("not a list")
        return list(check_ratios(split))
    except InputError:
        raise InputError("split must be three fractions [train, dev, test], each >= 0, summing to 1, "
                         f"train and test above 0; got {describe(split)}") from None


def _check_column(col, n_hidden: int) -> dict:
    if not isinstance(col, dict):
        raise InputError(f"each column must be a JSON object, got {describe(col)}")
    unknown = sorted(set(col) - set(COLUMN_KEYS))
    if unknown:
        raise InputError(f"unknown column key(s): {', '.join(unknown)}")
    keep = col.get("keep_prob", 1.0)
    keep = [keep] * n_hidden if not isinstance(keep, list) else keep
    if len(keep) != n_hidden:
        raise InputError(f"keep_prob must have one value per hidden layer ({n_hidden}), got {len(keep)}")
    augment = col.get("augment") or None
    if augment is not None and not isinstance(augment, str):
        raise InputError(f"augment must be a text such as jitter:0.05, got {describe(augment)}")
    return {"learning_rate": _number(col, "learning_rate", float, 1e-6, 100),
            "init": _choice(col, "init", sorted(INITIALIZERS)),
            "l2": _number(col, "l2", float, 0, 1e4), "l1": _number(col, "l1", float, 0, 1e4),
            "keep_prob": [_number({"keep_prob": p}, "keep_prob", float, 0, 1) for p in keep],
            "early_stopping": _number(col, "early_stopping", int, 1, 10_000, optional=True),
            "augment": augment}


def train_config(cfg: dict, column: dict) -> TrainConfig:
    """The TrainConfig of one column (``iterations``/``epochs`` are set by the export)."""
    keep = column["keep_prob"]
    batch = cfg["batch_size"]
    config = TrainConfig(
        layers=tuple(cfg["layers"]), hidden=cfg["hidden"], init=column["init"],
        learning_rate=column["learning_rate"], l2=column["l2"], l1=column["l1"],
        keep_prob=keep[0] if len(set(keep)) == 1 else tuple(keep), seed=cfg["seed"],
        course_compat=cfg["course_compat"], record_every=cfg["record_every"],
        early_stopping=column["early_stopping"], augment=column["augment"],
        epochs=None if batch is None else 1, batch_size=batch,
        engine="reference")  # the page steps the reference loop's maths (trainer.py)
    n_params = sum(a * b + b for a, b in zip((2, *config.layers), (*config.layers, 2)))
    if n_params > MAX_PARAMETERS:
        raise InputError(f"a network of {n_params} parameters is too large for the playground "
                         f"(at most {MAX_PARAMETERS}); use fewer or narrower layers")
    return config


def load_page_data(cfg: dict, sources: dict[str, DataSource], need_dev: bool):
    """The Dataset of a page, loaded as ``reglab train``'s options load it."""
    name, seed = cfg["dataset"], cfg["data_seed"]
    if cfg["split"] is not None:  # as `reglab train --split`: loaded without a dev set, then resplit
        if need_dev and cfg["split"][1] == 0:
            raise InputError("early stopping needs a dev set; give the split a dev fraction above 0")
        data = resplit(load_page_data({**cfg, "split": None, "dev": False, "train_size": None}, sources, False),
                       cfg["split"], seed=seed)
    elif name in sources:
        path = sources[name].path
        if fixed_split(name, sources):  # a .mat file (or an .npz with X_test) fixes train and test
            data = load_file(path)
            data = with_dev_split(data, seed=seed) if cfg["dev"] else data
        else:
            data = load_file(path, seed=seed, dev=cfg["dev"])
    elif name == "circles_course":
        data = load_dataset(name)
        data = with_dev_split(data, seed=seed) if cfg["dev"] else data
    else:
        data = load_dataset(name, n_samples=cfg["n_samples"], noise=cfg["noise"], seed=seed, dev=cfg["dev"])
    if data.n_features != 2:
        raise InputError(f"the playground draws 2-D data; {sources[name].label if name in sources else name} "
                         f"has {data.n_features} feature columns")
    if need_dev and not data.has_dev:
        data = with_dev_split(data, seed=seed)
    if cfg["train_size"] is not None:
        data = subsample_train(data, cfg["train_size"], seed=seed)
    return data


def command_line(cfg: dict, column: dict, steps: int, n_batches: int,
                 sources: dict[str, DataSource], save: str = "model.npz") -> list[str]:
    """The ``reglab train`` arguments that reproduce ``steps`` steps of ``column``.

    With mini-batches the command runs whole epochs: ``ceil(steps / n_batches)``.
    """
    name = cfg["dataset"]
    args = ["reglab", "train"]
    if name in sources:
        args += ["--data", str(sources[name].path if name == "file" else sources[name].label)]
    else:
        args += ["--dataset", name]
        if cfg["n_samples"] is not None:
            args += ["--n-samples", str(cfg["n_samples"]), "--noise", repr(cfg["noise"])]
    args += ["--data-seed", str(cfg["data_seed"])]
    if cfg["split"] is not None:
        args += ["--split", ",".join(repr(f) for f in cfg["split"])]
    elif cfg["dev"]:
        args.append("--dev")
    if cfg["train_size"] is not None:
        args += ["--train-size", str(cfg["train_size"])]
    args += ["--layers", ",".join(map(str, cfg["layers"])), "--hidden", cfg["hidden"],
             "--init", column["init"], "--learning-rate", repr(column["learning_rate"])]
    if cfg["batch_size"] is None:
        args += ["--iterations", str(max(steps, 1))]
    else:
        args += ["--epochs", str(max(math.ceil(steps / n_batches), 1)), "--batch-size", str(cfg["batch_size"])]
    keep = column["keep_prob"]
    args += ["--l2", repr(column["l2"]), "--l1", repr(column["l1"]),
             "--keep-prob", ",".join(repr(p) for p in (keep[:1] if len(set(keep)) == 1 else keep)),
             "--seed", str(cfg["seed"]), "--engine", "reference"]
    if cfg["course_compat"]:
        args.append("--course-compat")
    if column["early_stopping"] is not None:
        args += ["--early-stopping", str(column["early_stopping"])]
    if column["augment"]:
        args += ["--augment", column["augment"]]
    return args + ["--print-every", str(cfg["record_every"]), "--save", save]


def shell_line(args: list[str]) -> str:
    """``args`` quoted for a POSIX shell."""
    return shlex.join(args)
