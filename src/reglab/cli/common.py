"""Pieces shared by the ``reglab`` command-line verbs: list-valued option
types, and the translation of reglab's errors into a message and exit code."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import sys

import click
import numpy as np
from rich.console import Console

from .._validation import ReglabError
from ..nn.activations import ACTIVATIONS
from ..data import DATASETS, load_dataset, load_file, subsample_train, with_dev_split
from ..nn.initializers import INITIALIZERS
from ..training.loop import TrainConfig

#: Wide enough for the tables when output goes to a file or a pipe.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

EXIT_INPUT = 2  # bad input: the same code click uses for usage errors
EXIT_FAILED = 1  # the job ran and its verdict is "fail" (reproduce, gradcheck)


class CommandError(click.ClickException):
    """A clean ``error: ...`` line and exit code 2, never a traceback."""

    exit_code = EXIT_INPUT

    def format_message(self) -> str:
        return self.message


class CommandFailed(CommandError):
    """The job ran but its result is a failure: exit code 1."""

    exit_code = EXIT_FAILED


def guarded(fn):
    """Run a command body, turning reglab's and the OS's errors into :class:`CommandError`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ReglabError, ValueError, TypeError) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None

    return wrapper


class NumberList(click.ParamType):
    """``20,3`` -> ``(20, 3)``; ``0.9,0.8`` -> ``(0.9, 0.8)``."""

    def __init__(self, kind: type, name: str):
        self.kind = kind
        self.name = name

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        example = "20,3" if self.kind is int else "0.9,0.8"
        try:
            values = tuple(self.kind(v) for v in str(value).split(",") if v.strip() != "")
        except ValueError:
            self.fail(f"expected comma-separated {self.name}s such as {example}, got {value!r}", param, ctx)
        if not values and self.kind is float:
            self.fail(f"expected one or more comma-separated numbers such as {example}, got {value!r}",
                      param, ctx)
        return values


INT_LIST = NumberList(int, "integer")
FLOAT_LIST = NumberList(float, "number")


class LayersGrid(click.ParamType):
    """``10/20,3/40,20`` -> ``((10,), (20, 3), (40, 20))``: architectures to sweep."""

    name = "layers"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        return tuple(INT_LIST.convert(part, param, ctx) for part in str(value).split("/"))


LAYERS_GRID = LayersGrid()


def write_json(path, payload: dict) -> None:
    """Write ``payload`` as indented JSON, creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def _apply(fn, options):
    for option in reversed(options):
        fn = option(fn)
    return fn


def data_options(default: str = "moons"):
    """``--data FILE`` / ``--dataset NAME`` and their companions."""
    options = [
        click.option("--data", "data_file", type=click.Path(dir_okay=False),
                     help="A data file: .csv (header row), .npz (X, y) or .mat (football keys)."),
        click.option("--dataset", type=click.Choice(sorted(DATASETS)), default=None,
                     help=f"A built-in data set (default: {default})."),
        click.option("--label", default=None, help="CSV label column by name (default: the last)."),
        click.option("--n-samples", type=int, default=None, help="Size of a generated data set."),
        click.option("--noise", type=float, default=None, help="Noise of a generated data set."),
        click.option("--data-seed", type=int, default=0, show_default=True,
                     help="Seed of the data set's generation and split."),
        click.option("--dev/--no-dev", "with_dev", default=False,
                     help="Hold out a dev set (lecture ratios by size) when the data are split."),
        click.option("--train-size", type=int, default=None,
                     help="Train on a stratified subset of N training examples (dev and test stay whole)."),
    ]
    return lambda fn: _apply(fn, options)


def load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size=None,
              default="moons", need_dev=False):
    """The Dataset a command works on.

    With ``need_dev``, a data set without a dev set gets a quarter of its training
    set held out as dev; ``train_size`` then subsamples what is left for training,
    so the dev and test sets stay whole.
    """
    data = _load(data_file, dataset, label, n_samples, noise, data_seed, with_dev, default)
    for split in ("dev", "test"):
        y = getattr(data, f"y_{split}")
        unseen = np.setdiff1d(y, data.y_train) if y is not None else ()
        if len(unseen):
            raise CommandError(f"the {split} set holds class {unseen[0]}, which the training set "
                               f"does not have: a network trained on it could never predict it")
    if need_dev and not data.has_dev:
        data = with_dev_split(data, seed=data_seed)
    return data if train_size is None else subsample_train(data, train_size, seed=data_seed)


def _load(data_file, dataset, label, n_samples, noise, data_seed, with_dev, default):
    if data_file and dataset:
        raise CommandError("give --data FILE or --dataset NAME, not both")
    if data_file:
        if n_samples is not None or noise is not None:
            raise CommandError("--n-samples and --noise apply to generated data sets, not to --data")
        kwargs = {"label": label} if label is not None else {}
        if not data_file.endswith(".mat"):
            kwargs.update(seed=data_seed, dev=with_dev)
            return load_file(data_file, **kwargs)
        data = load_file(data_file, **kwargs)  # a .mat file fixes train and test
        return with_dev_split(data, seed=data_seed) if with_dev else data
    kwargs = {k: v for k, v in dict(n_samples=n_samples, noise=noise).items() if v is not None}
    name = dataset or default
    if name == "circles_course":  # the course's fixed draws: no seed, no dev set to make
        return with_dev_split(load_dataset(name), seed=data_seed) if with_dev else load_dataset(name)
    return load_dataset(name, **kwargs, seed=data_seed, dev=with_dev)


def model_options(layers: str = "20,3", iterations: int = 10000, layers_grid: bool = False):
    """The network and optimizer options shared by every verb that trains.

    With ``layers_grid``, ``--layers`` takes several architectures separated by ``/``.
    """
    layers_help = ("Hidden layer widths, comma-separated"
                   + ("; several architectures separated by / are swept." if layers_grid else "."))
    options = [
        click.option("--layers", type=LAYERS_GRID if layers_grid else INT_LIST, default=layers,
                     show_default=True, help=layers_help),
        click.option("--hidden", type=click.Choice(sorted(ACTIVATIONS)), default="relu", show_default=True),
        click.option("--output", type=click.Choice(["sigmoid", "softmax"]), default=None,
                     help="Output layer (default: sigmoid for 0/1 labels, softmax otherwise)."),
        click.option("--init", type=click.Choice(sorted(INITIALIZERS)), default="he", show_default=True),
        click.option("--learning-rate", type=float, default=0.3, show_default=True),
        click.option("--iterations", type=int, default=iterations, show_default=True,
                     help="Full-batch gradient-descent steps."),
        click.option("--epochs", type=int, default=None, help="Mini-batch training: epochs (with --batch-size)."),
        click.option("--batch-size", type=int, default=None, help="Mini-batch size (with --epochs)."),
        click.option("--engine", type=click.Choice(["auto", "reference", "fast"]), default="auto",
                     show_default=True,
                     help="Training engine: the compiled fast one (auto: when numba is installed) "
                          "or the reference loop; both give the same results."),
    ]
    return lambda fn: _apply(fn, options)


def regularization_options(fn):
    """``--l2``, ``--l1``, ``--keep-prob``, ``--course-compat``, ``--seed`` for one run."""
    return _apply(fn, [
        click.option("--l2", type=float, default=0.0, show_default=True, help="L2 strength lambd."),
        click.option("--l1", type=float, default=0.0, show_default=True, help="L1 strength lambd."),
        click.option("--keep-prob", type=FLOAT_LIST, default="1",
                     help="Dropout keep probability, one number or one per hidden layer."),
        click.option("--course-compat", is_flag=True,
                     help="The course's randomness: weights after seed(3), dropout masks re-seeded with 1."),
        click.option("--seed", type=int, default=0, show_default=True),
    ])


def make_config(keep_prob=(1.0,), **options) -> TrainConfig:
    """A TrainConfig from parsed options (a one-element ``keep_prob`` becomes a number)."""
    keep = keep_prob[0] if len(keep_prob) == 1 else tuple(keep_prob)
    return TrainConfig(keep_prob=keep, **options)


def early_stopping_options(fn):
    """``--early-stopping PATIENCE [--min-delta D] [--monitor dev_cost|dev_accuracy]``."""
    return _apply(fn, [
        click.option("--early-stopping", type=int, default=None, metavar="PATIENCE",
                     help="Stop after PATIENCE evaluations without improvement on the dev set "
                          "and keep the best weights."),
        click.option("--min-delta", type=float, default=0.0, show_default=True,
                     help="Smallest change of the monitored figure that counts as an improvement."),
        click.option("--monitor", type=click.Choice(["dev_cost", "dev_accuracy"]), default="dev_cost",
                     show_default=True, help="What early stopping watches (cost: lower is better; "
                                             "accuracy: higher is better)."),
        click.option("--eval-every-epoch", "record_per_epoch", is_flag=True,
                     help="Evaluate (and consider stopping) at the end of every epoch."),
    ])


def augment_options(fn):
    """``--augment SPEC [--augment-mode online|offline --augment-factor K] [--allow-flips]``."""
    return _apply(fn, [
        click.option("--augment", default=None, metavar="SPEC",
                     help="Augment training batches, e.g. jitter:0.05 or shift:1,rotate:10."),
        click.option("--augment-mode", type=click.Choice(["online", "offline"]), default="online",
                     show_default=True, help="Fresh transforms every step, or the training set "
                                             "expanded once."),
        click.option("--augment-factor", type=int, default=2, show_default=True,
                     help="Offline: the training set becomes K times larger."),
        click.option("--allow-flips", is_flag=True,
                     help="Allow hflip/vflip on data that does not declare them (e.g. digits)."),
    ])
