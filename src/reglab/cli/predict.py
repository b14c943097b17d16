"""``reglab predict``: labels and class probabilities from a network saved by ``--save``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
import numpy as np

from .common import CommandError, console, guarded


def _read_csv(path: Path, label: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Numeric feature columns under a header row, and the ``label`` column if named."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a UTF-8 text CSV file") from None
    except csv.Error as exc:
        raise CommandError(f"{path} cannot be read as CSV ({exc})") from None
    if len(rows) < 2:
        raise CommandError(f"{path} must hold a header row and at least one data row, got {len(rows)} row(s)")
    header = [h.strip() for h in rows[0]]
    if label is not None and header.count(label) != 1:
        raise CommandError(f"--label must name one column of {path} ({', '.join(header)}), got {label!r}")
    col = header.index(label) if label is not None else None
    values = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise CommandError(f"{path}: row {i} (line {i + 1}) has {len(row)} fields, the header has "
                               f"{len(header)}")
        for j, cell in enumerate(row):
            try:
                values[i - 1, j] = float(cell)
            except ValueError:
                values[i - 1, j] = np.nan
            if not np.isfinite(values[i - 1, j]):
                raise CommandError(f"{path}: column {header[j]!r} must be numeric, got {cell!r} in row {i} "
                                   f"(line {i + 1})")
    if col is None:
        return values, None
    return np.delete(values, col, axis=1), values[:, col]


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive.files:
                raise CommandError(f"{path} must hold an array X (n, n_features); it holds "
                                   f"{', '.join(archive.files) or 'nothing'}")
            return archive["X"], archive["y"] if "y" in archive.files else None
    except (ValueError, OSError, EOFError) as exc:
        raise CommandError(f"{path} could not be read as a .npz archive ({type(exc).__name__}: {exc})") from None


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.argument("inputs", type=click.Path(exists=True, dir_okay=False))
@click.option("--label", default=None,
              help="CSV column holding the true labels (0..K-1): prints the accuracy too.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the predictions here (CSV) instead of to the terminal.")
@guarded
def predict(model, inputs, label, out):
    """Predict with a network saved by `reglab train --save`.

    INPUTS is a .csv file (a header row, numeric feature columns in the order the
    network was trained on; --label names a column of true labels) or a .npz
    archive (X, and optionally y). Writes one CSV line per example: its row, the
    predicted label and the probability of each class.
    """
    from ..io import load_network
    from .._validation import check_labels, check_X

    net, _ = load_network(model)
    path = Path(inputs)
    if path.suffix.lower() == ".csv":
        X, y = _read_csv(path, label)
    elif path.suffix.lower() == ".npz":
        if label is not None:
            raise CommandError("--label names a CSV column; a .npz archive gives its labels as y")
        X, y = _read_npz(path)
    else:
        raise CommandError(f"INPUTS must be a .csv or .npz file, got {path.name!r}")
    n_features = net.layer_sizes[0]
    X = check_X(X, "X")
    if X.shape[1] != n_features:
        raise CommandError(f"{path} has {X.shape[1]} feature column(s); the network was trained on "
                           f"{n_features}" + (" (name the label column with --label)"
                                              if label is None and X.shape[1] == n_features + 1 else ""))
    proba = net.predict_proba(X)
    labels = net.predict(X)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["row", "prediction", *(f"p{k}" for k in range(proba.shape[1]))])
    for i, (p, row) in enumerate(zip(labels, proba)):
        writer.writerow([i, int(p), *(f"{v:.6g}" for v in row)])
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text.getvalue())
        console.print(f"Wrote {len(labels)} prediction{'s' * (len(labels) != 1)} to {out}")
    else:
        click.echo(text.getvalue(), nl=False)
    if y is not None:
        y = check_labels(y, "labels", n_samples=len(X))
        correct = int(np.sum(labels == y))
        click.echo(f"Accuracy: {correct / len(y):.4f} ({correct} of {len(y)})", err=out is None)
