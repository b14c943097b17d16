"""Sweeps of one or two hyper-parameters over seeds, resumable.

Every finished run is appended to ``DIR/runs.jsonl`` as it completes (and the
network of the first seed saved under ``DIR/models/``), so an interrupted
sweep keeps everything it computed and ``resume`` skips finished runs.
``DIR/sweep.json`` records what the sweep is; resuming a different sweep in the
same folder is refused. One sweep writes into a folder at a time
(:func:`~reglab.experiments.runner.folder_lock`), and the log is read with each
run once, so no run is ever counted twice. With ``cv=K`` every point runs on K
folds x the seeds (:mod:`.cv`); ``sweep.json`` records the folds, and resuming with
other folds is refused.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import InputError, check_float, check_sizes
from ..nn.dropout import check_keep_probs
from ..io import load_network, save_network, write_whole
from .cv import check_cv, cv_record
from .results import Runs
from .runner import RunLog, RunSpec, folder_lock, run_all
from .stats import mean_ci
from ..training.loop import TrainConfig

SWEEPABLE = ("l2", "l1", "keep_prob", "layers")


def _check_values(name, values):
    if name == "layers":
        checked = [check_sizes(v, "layers") for v in values]
    elif name == "keep_prob":
        checked = [check_keep_probs(v, 1)[0] for v in values]
    else:
        checked = [check_float(v, name, low=0) for v in values]
    repeated = sorted({v for v in checked if checked.count(v) > 1}, key=str)
    if repeated:
        raise InputError(f"{name} lists a value more than once: {label({name: repeated[0]})}")
    return checked


@dataclass(frozen=True)
class Grid:
    """The swept parameters (one or two), in order, with their values."""

    params: tuple[tuple[str, tuple], ...]

    @classmethod
    def build(cls, **values) -> "Grid":
        """``Grid.build(l2=[0, 0.1], keep_prob=[1, 0.8])``; parameters with one value are not swept."""
        swept = []
        for name, vals in values.items():
            if name not in SWEEPABLE:
                raise InputError(f"cannot sweep {name!r}; sweepable: {', '.join(SWEEPABLE)}")
            if vals is not None and len(vals) > 1:
                swept.append((name, tuple(_check_values(name, vals))))
        if not swept:
            raise InputError("a sweep needs one or two parameters with two or more values each, "
                             "e.g. --l2 0,0.1,1")
        if len(swept) > 2:
            raise InputError(f"a sweep explores one or two parameters, got {len(swept)}: "
                             f"{', '.join(n for n, _ in swept)}")
        return cls(tuple(swept))

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.params]

    def points(self) -> list[dict]:
        """Every combination, the first parameter outermost."""
        names = self.names
        return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in self.params))]


def label(point: dict) -> str:
    """``"l2=0.1, keep_prob=0.8"``; layers as ``layers=20,3``."""
    def fmt(v):
        return ",".join(str(x) for x in v) if isinstance(v, (tuple, list)) else f"{v:g}"
    return ", ".join(f"{k}={fmt(v)}" for k, v in point.items())


def specs_for(grid: Grid, seeds, folds: int | None = None) -> list[RunSpec]:
    """One run per point and seed (and fold of ``folds``), points outermost."""
    return [RunSpec(label(p), {k: list(v) if isinstance(v, tuple) else v for k, v in p.items()}, s,
                    fold, folds)
            for p in grid.points() for fold in (range(folds) if folds else [None]) for s in seeds]


def fingerprint(data) -> str:
    """A hash of every array of a Dataset: two data sets with equal sizes still differ."""
    digest = hashlib.sha1()
    for name in ("X_train", "y_train", "X_dev", "y_dev", "X_test", "y_test"):
        arr = getattr(data, name)
        digest.update(name.encode() + (b"-" if arr is None else np.ascontiguousarray(arr).tobytes()))
    return digest.hexdigest()


def signature(grid: Grid, base: TrainConfig, seeds, data, source=None, cv=None) -> dict:
    """What identifies a sweep, stored in ``sweep.json`` (``"cv"`` only with folds, so that
    sweeps written before cross-validation existed still resume)."""
    sig = {"grid": [[n, [list(v) if isinstance(v, tuple) else v for v in vals]] for n, vals in grid.params],
           "config": base.to_dict(), "seeds": list(seeds), "data": data.summary(),
           "data_sha1": fingerprint(data), "source": source or {}}
    if cv is not None:
        sig["cv"] = cv_record(data, cv)
    return sig


def _folds_of(sig: dict) -> str:
    folds = (sig.get("cv") or {}).get("folds")
    return "no folds (no --cv)" if folds is None else f"{folds} folds (--cv {folds})"


def model_path(out: Path, point_label: str, seed: int) -> Path:
    """``out/models/l2=0.1_keep_prob=0.8_seed0.npz``: the point and seed, readable in a file name.

    ``reglab predict`` reads these files.
    """
    stem = re.sub(r"[^A-Za-z0-9=.+-]", "-", point_label.replace(", ", "_").replace(",", "-"))
    return out / "models" / f"{stem}_seed{seed}.npz"


def _read_signature(path: Path):
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is damaged (not complete JSON: {exc}); the sweep cannot be "
                         f"resumed from it: drop --resume to start over, or use another --out") from None


def _write_text_atomically(path: Path, text: str) -> None:
    write_whole(path, lambda f: Path(f).write_text(text))  # a kill leaves the old file or the new one


def check_model(path: Path, point: dict, base: TrainConfig, n_features: int):
    """The network stored at ``path`` for grid ``point``, refused (InputError naming the
    file) unless it has the architecture this sweep trains at that point."""
    network = load_network(path)[0]
    layers = tuple(point.get("layers", base.layers))
    want_hidden = _hidden_of(base, layers)
    problems = []
    if network.layer_sizes[0] != n_features:
        problems.append(f"{network.layer_sizes[0]} inputs, the data have {n_features}")
    if tuple(network.layer_sizes[1:-1]) != layers:
        problems.append(f"hidden layers {list(network.layer_sizes[1:-1])}, the sweep's are {list(layers)}")
    elif tuple(network.hidden) != want_hidden:
        problems.append(f"activations {list(network.hidden)}, the sweep's are {list(want_hidden)}")
    if base.output is not None and network.output != base.output:
        problems.append(f"a {network.output} output, the sweep's is {base.output}")
    if problems:
        raise InputError(f"{path} is not a network of this sweep's point {label(point)}: it has "
                         + "; ".join(problems) + "; delete it (it is redrawn on --resume) or use "
                         "another --out")
    return network


def _hidden_of(base: TrainConfig, layers) -> tuple:
    """The hidden activations ``base`` gives a network with hidden ``layers``."""
    h = base.hidden
    return (h,) * len(layers) if isinstance(h, str) else tuple(h)


def run_sweep(out, data, base: TrainConfig, grid: Grid, seeds, *, cv=None, resume=False, jobs=1,
              on_done=None, source=None, on_note=None, scheduler=None):
    """Run (or finish) a sweep in folder ``out``.

    Parameters
    ----------
    out : folder for ``sweep.json``, ``runs.jsonl`` and ``models/``; held exclusively
        while the sweep runs (a second writer gets :class:`~reglab.experiments.runner.FolderBusy`)
    data : Dataset (its dev set, if any, is the held-out set of the curves)
    cv : int >= 2 or None, stratified K-fold cross-validation over the training data
        (:mod:`reglab.experiments.cv`): every point runs on each fold with each seed, the
        fold's held-out part as the held-out set; the networks of ``models/`` are fold 0's
    resume : skip the runs already in ``runs.jsonl`` (the sweep must be the same)
    on_done : callable ``(record) -> None`` for progress
    source : dict, how the data were made (file, name, seed...), stored in ``sweep.json``
    on_note : callable ``(message) -> None``, told what the log held that had to be
        dropped or counted once
    scheduler : a Dask cluster to run on instead of ``jobs`` local processes (a
        ``distributed.Client``, ``tcp://host:port`` or a scheduler file; see
        :mod:`reglab.experiments.distributed`); this process still writes the folder

    Returns
    -------
    records : Runs, every record of the sweep, each run once, those of earlier sessions
        first (a list; ``.to_frame()`` gives a pandas DataFrame)
    n_new : how many runs this call ran
    """
    out = Path(out)
    if cv is not None:
        cv = check_cv(cv, data)
    with folder_lock(out):
        sig = signature(grid, base, seeds, data, source, cv)
        sig_path, log = out / "sweep.json", RunLog(out / "runs.jsonl")
        if resume:
            if not sig_path.exists():
                raise InputError(f"nothing to resume in {out}: no sweep.json")
            old = _read_signature(sig_path)
            if isinstance(old, dict) and old.get("cv") != json.loads(json.dumps(sig.get("cv"))):
                raise InputError(f"{out} holds a sweep run with {_folds_of(old)}; this one asks for "
                                 f"{_folds_of(sig)}: resume with the same --cv, or use another --out")
            if old != json.loads(json.dumps(sig)):
                raise InputError(f"{out} holds a different sweep (other grid, seeds, data or settings); "
                                 f"use another --out or drop --resume")
            done = log.read()
            for note in log.notes:
                if on_note is not None:
                    on_note(note)
            points = {label(p): p for p in grid.points()}
            for r in done:  # a network that is not this sweep's must not be drawn as one of its own
                path = model_path(out, r.group, r.seed)
                if (r.error is None and r.seed == min(seeds) and not r.fold and r.group in points
                        and path.exists()):
                    check_model(path, points[r.group], base, data.n_features)
        else:
            log.clear()
            shutil.rmtree(out / "models", ignore_errors=True)  # no network of an earlier sweep may show
            done = []
        _write_text_atomically(sig_path, json.dumps(sig, indent=2) + "\n")
        finished = {r.key for r in done if r.error is None}
        done = [r for r in done if r.error is None]  # failed runs are tried again
        todo = [s for s in specs_for(grid, seeds, cv) if s.key not in finished]
        first_seed = min(seeds)

        def keep(record):  # the network of the first seed (of the first fold) is kept
            if record.network is not None and record.seed == first_seed and not record.fold:
                save_network(model_path(out, record.group, record.seed), record.network,
                             extra={"sweep_point": record.params, "seed": record.seed})
            log.append(record)
            if on_done is not None:
                on_done(record)

        new = run_all(todo, data, base, jobs=jobs, on_done=keep, scheduler=scheduler)
    return Runs(done + new), len(todo)


def first_seed_networks(out: Path, records, grid: Grid, base: TrainConfig | None = None,
                        n_features: int | None = None) -> list:
    """``(label, network)`` for each point of the first parameter (first seed, first value of the
    second); each file is checked against the sweep's architecture (``base``, ``n_features``;
    read from ``out/sweep.json`` when not given)."""
    if base is None or n_features is None:
        sig = _read_signature(Path(out) / "sweep.json")
        base = TrainConfig.from_dict(sig["config"]) if base is None else base
        if n_features is None:
            found = re.search(r"(\d+) features, \d+ classes;", str(sig.get("data")))
            if found is None:
                raise InputError(f"{Path(out) / 'sweep.json'} does not say how many features the data have")
            n_features = int(found.group(1))
    first_seed = min(r.seed for r in records)  # of fold 0 with cv: the only networks saved
    panels = []
    other = {n: vals[0] for n, vals in grid.params[1:]}
    for value in grid.params[0][1]:
        point = {grid.names[0]: value, **other}
        path = model_path(out, label(point), first_seed)
        if path.exists():
            network = check_model(path, point, base, n_features)
            panels.append((label({grid.names[0]: value}), network))
    return panels


def summarize_points(records, grid: Grid):
    """Per grid point: mean and interval of train, held-out (dev or test) and test accuracy over
    its runs (seeds, or folds x seeds)."""
    rows = []
    for point in grid.points():
        name = label(point)
        ok = [r for r in records if r.group == name and r.error is None]
        if not ok:
            continue
        held = [r.dev_accuracy if r.dev_accuracy is not None else r.test_accuracy for r in ok]
        rows.append({"point": point, "label": name, "n": len(ok),
                     "train": mean_ci([r.train_accuracy for r in ok]),
                     "held_out": mean_ci(held),
                     "test": mean_ci([r.test_accuracy for r in ok]),
                     "gap": mean_ci([r.train_accuracy - h for r, h in zip(ok, held)]),
                     "train_runs": [r.train_accuracy for r in ok], "held_runs": held})
    return rows
