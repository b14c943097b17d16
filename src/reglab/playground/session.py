"""One page's training: its data, one :class:`SteppedTrainer` per column, and what it shows.

A :class:`PageSession` holds no server object: the server feeds it the page's
messages and sends what it returns, so it is tested without a browser.
"""

from __future__ import annotations

import base64
import json
import math
import tempfile
from pathlib import Path

import numpy as np

from .._validation import InputError, TrainingError
from ..gradcheck.core import check_gradients
from ..io import save_network
from ..nn.network import cost, forward
from .config import (DataSource, check_page_config, command_line, load_page_data, shell_line,
                     train_config)
from .trainer import SteppedTrainer

BOUNDARY = 48  # cells a side of the decision-boundary grid
UNIT_GRID = 16  # cells a side of each hidden unit's picture
HIST_BINS = 41  # odd: one bin is centred on 0, where L1 piles weights up


def _packed(a: np.ndarray, dtype: str) -> str:
    """``a`` as base64 of little-endian ``dtype``: a frame's pictures are most of its
    numbers, and JSON lists of them cost more to build, send and parse than the step."""
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def _rounded(a: np.ndarray, digits: int = 3) -> list:
    return np.round(a.astype(float), digits).ravel().tolist()


class PageSession:
    """The runs of one page.

    Parameters
    ----------
    cfg : dict, a page configuration (see :mod:`reglab.playground.config`)
    sources : ``{"file": DataSource, "upload:<id>": DataSource}`` the page may name
    """

    def __init__(self, cfg: dict, sources: dict[str, DataSource]):
        self.sources = sources
        self.cfg = check_page_config(cfg, sources)
        configs = [train_config(self.cfg, c) for c in self.cfg["columns"]]
        need_dev = any(c.early_stopping is not None for c in configs)
        self.data = d = load_page_data(self.cfg, sources, need_dev)
        dev = {"X_dev": d.X_dev, "y_dev": d.y_dev} if d.has_dev else {}
        self.trainers = [SteppedTrainer(d.X_train, d.y_train, c, symmetries=d.symmetries,
                                        image_shape=d.image_shape, dataset_name=d.name, **dev)
                         for c in configs]
        self.changed_at = [None] * len(configs)  # first step at which live settings changed
        X = np.vstack([d.X_train, d.X_test] + ([d.X_dev] if d.has_dev else []))
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.08 * (hi - lo)
        self.bounds = [float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])]
        self.grid = self._grid(BOUNDARY)
        self.unit_grid = self._grid(UNIT_GRID)
        # Every frame evaluates the network on the three sets and both grids: one forward pass
        # over all of them (rows stacked once here) costs a third of five separate ones.
        blocks = [(name, X) for name, X in (("train", d.X_train), ("dev", d.X_dev), ("test", d.X_test),
                                            ("grid", self.grid), ("units", self.unit_grid)) if X is not None]
        self._points = np.vstack([X for _, X in blocks])
        ends = np.cumsum([len(X) for _, X in blocks])
        self._rows = {name: slice(end - len(X), end) for (name, X), end in zip(blocks, ends)}

    def _grid(self, n: int) -> np.ndarray:
        x0, x1, y0, y1 = self.bounds
        xs = np.linspace(x0, x1, n)
        ys = np.linspace(y1, y0, n)  # top row first, as a canvas draws
        gx, gy = np.meshgrid(xs, ys)
        return np.column_stack([gx.ravel(), gy.ravel()])

    # -- what the page asks -----------------------------------------------------------------
    def update(self, column: int, changes: dict) -> None:
        """Live change of one column's learning rate, L2, L1 or keep_prob (next step on)."""
        trainer = self._trainer(column)
        col = dict(self.cfg["columns"][column])
        for key, value in changes.items():
            if key not in ("learning_rate", "l2", "l1", "keep_prob"):
                raise InputError(f"{key} cannot change while training; change it with a new configuration")
            col[key] = value
        col = check_page_config({**self.cfg, "columns": [col]}, self.sources)["columns"][0]
        keep = col["keep_prob"]
        trainer.update(learning_rate=col["learning_rate"], l2=col["l2"], l1=col["l1"],
                       keep_prob=keep[0] if len(set(keep)) == 1 else tuple(keep))
        self.cfg["columns"][column] = col
        if trainer.step and self.changed_at[column] is None:
            self.changed_at[column] = trainer.step

    def advance(self, n: int) -> None:
        """``n`` steps for every column still training (a diverged one stops alone)."""
        for trainer in self.trainers:
            try:
                trainer.advance(n)
            except TrainingError:
                pass  # trainer.stop_reason says why; the page shows it

    def reset(self) -> None:
        for trainer in self.trainers:
            trainer.reset()
        self.changed_at = [None] * len(self.trainers)

    @property
    def running(self) -> bool:
        return any(t.stop_reason is None for t in self.trainers)

    def _trainer(self, column) -> SteppedTrainer:
        if isinstance(column, bool) or not isinstance(column, int) or not 0 <= column < len(self.trainers):
            raise InputError(f"column must be an integer in [0, {len(self.trainers) - 1}], got {column!r}")
        return self.trainers[column]

    # -- what the page shows ------------------------------------------------------------------
    def data_message(self) -> dict:
        """The points (sent once per configuration) and the drawing bounds."""
        d = self.data
        sets = {"train": (d.X_train, d.y_train), "test": (d.X_test, d.y_test)}
        if d.has_dev:
            sets["dev"] = (d.X_dev, d.y_dev)
        return {"type": "data", "name": d.name, "summary": d.summary(), "bounds": self.bounds,
                "n_classes": d.n_classes, "boundary": BOUNDARY, "unit_grid": UNIT_GRID,
                "config": self.cfg,
                "points": {k: {"x": _rounded(X, 4), "y": y.tolist()} for k, (X, y) in sets.items()}}

    def state(self) -> dict:
        """Step, figures and pictures of every column: one frame of the page."""
        return {"type": "state", "columns": [self._column_state(i, t) for i, t in enumerate(self.trainers)]}

    def _column_state(self, i: int, t: SteppedTrainer) -> dict:
        d, W, b, acts, out = self.data, t.weights, t.biases, t.acts, t.output
        figures = {}
        # A diverged column still gets a frame (its stop_reason says why): overflows are
        # expected there, and what JSON cannot carry becomes None or a large finite number.
        with np.errstate(over="ignore", invalid="ignore"):
            all_logits, cache = forward(W, b, self._points, acts)
            for split in ("train", "dev", "test"):
                y = getattr(d, f"y_{split}")
                if y is None:
                    continue
                logits = all_logits[self._rows[split]]
                loss = cost(logits, y, out, W, t.regs if split == "train" else ())
                figures[f"{split}_cost"] = loss if math.isfinite(loss) else None
                figures[f"{split}_accuracy"] = float(np.mean(out.predict(logits) == y))
            proba = out.proba(all_logits[self._rows["grid"]])
            norms = [float(np.linalg.norm(w)) for w in W]
        weights = np.concatenate([w.ravel() for w in W])
        finite = weights[np.isfinite(weights)]
        top = float(np.abs(finite).max()) if finite.size else 1.0
        counts, _ = np.histogram(finite, bins=HIST_BINS, range=(-top or -1, top or 1))
        # boundary: 1000 p(class 1) with two classes, else 1000 class + 999 confidence (uint16)
        proba = np.nan_to_num(proba, nan=0.5)
        code = (np.round(1000 * proba[:, 1]) if proba.shape[1] == 2
                else 1000 * proba.argmax(1) + np.round(999 * proba.max(1)))
        units = []  # per layer: each unit's outputs scaled by its own largest |value| (int8)
        for _, _, H in cache[:-1]:
            H = np.nan_to_num(H[self._rows["units"]], nan=0.0, posinf=1e6, neginf=-1e6)
            scale = np.abs(H).max(axis=0)
            units.append(_packed(np.round(127 * H / np.where(scale > 0, scale, 1)).T, "i1"))
        return {"step": t.step, "epoch": round(t.epochs_done(), 3), "stop_reason": t.stop_reason,
                "changed_at": self.changed_at[i], "figures": figures,
                "norms": [n if math.isfinite(n) else None for n in norms],
                "zero_fraction": float(np.mean(np.abs(finite) < 1e-3)) if finite.size else 0.0,
                "boundary": _packed(code, "<u2"), "units": units,
                "histogram": {"counts": counts.tolist(), "range": top}}

    # -- exports ------------------------------------------------------------------------------
    def export(self, column: int) -> dict:
        """The configuration (JSON) and the ``reglab train`` command that reproduce a column."""
        t = self._trainer(column)
        col = self.cfg["columns"][column]
        args = command_line(self.cfg, col, t.step, t.n_batches, self.sources)
        notes = []
        if self.cfg["batch_size"] is not None and t.step % t.n_batches:
            notes.append(f"the command trains whole epochs: {math.ceil(t.step / t.n_batches)} epochs are "
                         f"{math.ceil(t.step / t.n_batches) * t.n_batches} steps, the page is at step {t.step}")
        if self.changed_at[column] is not None:
            notes.append(f"settings changed at step {self.changed_at[column]}: the command trains the "
                         f"current settings from the start, so it differs from this run")
        if self.cfg["dataset"].startswith("upload:"):
            notes.append("replace the --data file name by the path of your copy of the uploaded file")
        config = t.config.to_dict()
        config.update(iterations=max(t.step, 1)) if self.cfg["batch_size"] is None else config.update(
            epochs=max(math.ceil(t.step / t.n_batches), 1))
        return {"type": "export", "column": column, "command": shell_line(args), "argv": args[1:],
                "notes": notes, "page": {**self.cfg, "columns": [col]}, "train_config": config}

    def model_file(self, column: int) -> bytes:
        """The network as ``reglab train --save`` would write it after as many steps."""
        t = self._trainer(column)
        extra = {"dataset": self.data.name, "steps": t.step, "made_by": "reglab playground"}
        with tempfile.TemporaryDirectory() as tmp:
            path = save_network(Path(tmp) / "model.npz", t.result_network(), config=t.config, extra=extra)
            return path.read_bytes()

    def gradcheck(self, column: int) -> dict:
        """reglab's per-tensor gradient check of the column's current network on its training set."""
        t = self._trainer(column)
        report = check_gradients(t.network(), self.data.X_train, self.data.y_train, l2=t.config.l2,
                                 l1=t.config.l1, keep_prob=t.config.keep_probs,
                                 sample=None if sum(w.size for w in t.weights) <= 600 else 40)
        return {"type": "gradcheck", "column": column, "status": report.status,
                "difference": report.to_dict().get("difference"), "text": report.format(),
                "step": t.step}


def dumps(message: dict) -> str:
    """JSON for the page (NaN and infinities were already turned into None or numbers)."""
    return json.dumps(message, allow_nan=False, separators=(",", ":"))
