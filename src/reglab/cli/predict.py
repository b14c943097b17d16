"""``reglab predict``: labels and class probabilities from a network saved by ``--save``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
import numpy as np

from .common import CommandError, check_output_file, console, guarded, write_text


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
    from ..data.files import read_csv_table
    from ..io import load_network
    from .._validation import check_X

    check_output_file(out, "--out")  # before any work, as every verb that writes does
    net, metadata = load_network(model)
    # what train --save recorded: the file's label values, when they were encoded to 0..K-1
    classes = (metadata.get("extra") or {}).get("classes")
    if classes and (not isinstance(classes, list) or len(classes) != net.n_classes):
        raise CommandError(f"{model} records the classes {classes!r}, but its network has "
                           f"{net.n_classes}; the file was not written by reglab train --save")
    names = [str(c) for c in classes] if classes else [str(k) for k in range(net.n_classes)]
    path = Path(inputs)
    if path.suffix.lower() == ".csv":
        X, y = read_csv_table(path, label, last_is_label=False)
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
    writer.writerow(["row", "prediction", *(f"p{name}" for name in names)])
    for i, (p, row) in enumerate(zip(labels, proba)):
        writer.writerow([i, names[p], *(f"{v:.6g}" for v in row)])
    if out:
        write_text(out, text.getvalue())
        console.print(f"Wrote {len(labels)} prediction{'s' * (len(labels) != 1)} to {out}")
    else:
        click.echo(text.getvalue(), nl=False)
    if y is not None:
        truth = [_label_name(v) for v in np.asarray(y).ravel()]
        unknown = sorted(set(truth) - set(names))
        if unknown:
            raise CommandError(f"the labels of {path} must be among the network's classes "
                               f"({', '.join(names)}), got {', '.join(unknown[:5])}")
        correct = int(np.sum(np.array(names)[labels] == np.array(truth)))
        click.echo(f"Accuracy: {correct / len(truth):.4f} ({correct} of {len(truth)})", err=out is None)


def _label_name(value) -> str:
    """A label as the data loaders name classes: ``"1"`` for 1, 1.0 or "1.0", ``"0.5"``;
    text as it is."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value).strip()
    return f"{number:g}"
