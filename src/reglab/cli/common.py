"""Pieces shared by the ``reglab`` command-line verbs: list-valued option
types, checks of the paths a command will write (made before any work), and the
translation of reglab's errors and interruptions into a message and exit code."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import click
import numpy as np
from click.core import ParameterSource
from rich.console import Console

from .._validation import InputError, ReglabError
from ..nn.activations import ACTIVATIONS
from ..data import DATASETS, load_dataset, load_file, resplit, subsample_train, with_dev_split
from ..data.split import check_ratios
from ..nn.initializers import INITIALIZERS
from ..training.loop import TrainConfig

#: Wide enough for the tables when output goes to a file or a pipe, unless COLUMNS says
#: otherwise. Markup and emoji codes are off: file names, labels and messages are user
#: text, printed as they are (a name holding ``[/]`` or ``:x:`` must not be read as
#: styling); style goes in ``style=``.
console = Console(highlight=False, markup=False, emoji=False,
                  width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)

EXIT_INPUT = 2  # bad input: the same code click uses for usage errors
EXIT_FAILED = 1  # the job ran and its verdict is "fail" (reproduce, gradcheck)
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT (128 + 2): scripts tell it from done


def exit_interrupted(what: str, signum: int | None = None):
    """End a command stopped by Ctrl-C (or SIGTERM) after it wrote what it had: say so, and
    exit 128 + the signal (130 for Ctrl-C, 143 for SIGTERM; see :func:`interrupted`)."""
    stop = interrupted(signum)
    console.print(f"{what}; exit code {stop.exit_code} (interrupted)", style="yellow", soft_wrap=True)
    raise stop


class CommandError(click.ClickException):
    """A clean ``error: ...`` line and exit code 2, never a traceback."""

    exit_code = EXIT_INPUT

    def format_message(self) -> str:
        return self.message


class CommandFailed(CommandError):
    """The job ran but its result is a failure: exit code 1."""

    exit_code = EXIT_FAILED


#: The signal that interrupted this command (SIGINT or SIGTERM), once one has.
_received: list[int] = []


def interrupted(signum: int | None = None) -> click.exceptions.Exit:
    """The exit after an interruption whose partial results are written: 128 + the signal,
    as shells report it (130 for Ctrl-C, 143 for SIGTERM)."""
    return click.exceptions.Exit(128 + int(signum or (_received[-1] if _received else signal.SIGINT)))


def _sigterm_as_ctrl_c(signum, frame):
    _received.append(signum)
    raise KeyboardInterrupt


def guarded(fn):
    """Run a command body, turning reglab's and the OS's errors into :class:`CommandError`,
    and an interruption (Ctrl-C, or SIGTERM, which is handled the same way: what finished
    is written) into exit code 130 or 143, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _received.clear()
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _sigterm_as_ctrl_c) if main_thread else None
        try:
            return _run(fn, args, kwargs)
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _run(fn, args, kwargs):
    try:
        return fn(*args, **kwargs)
    except (ReglabError, ValueError, TypeError) as exc:
        raise CommandError(str(exc)) from None
    except MemoryError:
        raise CommandError("out of memory: the configuration needs more memory than this "
                           "machine could give; use smaller layers, data or fewer iterations") from None
    except OSError as exc:
        raise CommandError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise interrupted() from None


def _probe_folder(folder: Path, option: str, target: Path) -> None:
    """Refuse ``target`` unless its nearest existing ancestor is a folder this process can
    create files in (found by creating one: permission bits lie to root and to read-only mounts)."""
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            raise CommandError(f"{option} {target}: {existing} is a broken symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"{option} {target}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise CommandError(f"{option} {target}: cannot write in {existing} "
                           f"({exc.strerror or exc})") from None


def check_output_file(path, option: str) -> Path | None:
    """Check, before any work, that the file ``path`` given to ``option`` can be written:
    not a folder, its folder creatable and writable, the file itself writable if it exists."""
    if path is None:
        return None
    path = Path(path)
    if str(path) == "" or path.name == "":
        raise CommandError(f"{option} needs a file name, got {str(path)!r}")
    if path.is_dir():
        raise CommandError(f"{option} {path} is a folder; give a file name")
    if path.exists():
        if not os.access(path, os.W_OK) or _read_only_file(path):
            raise CommandError(f"{option} {path}: the file exists and cannot be written")
        return path
    _probe_folder(path.parent, option, path)
    return path


def _read_only_file(path: Path) -> bool:
    if not path.is_file():
        return False  # a device such as /dev/null or /dev/full: opened as it is
    try:
        with path.open("r+b"):
            return False
    except OSError:
        return True


def check_output_folder(path, option: str = "--out") -> Path:
    """Check, before any work, that the folder ``path`` can be created and written."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CommandError(f"{option} {path} is a file, not a folder")
    _probe_folder(path, option, path)
    return path


def lock_output(out: Path) -> None:
    """Hold ``out`` for this command until it ends (a second run into it is refused)."""
    from ..experiments.runner import folder_lock

    click.get_current_context().with_resource(folder_lock(out))


def _given(ctx, name: str) -> bool:
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def refuse_unused_options(model: dict, *, early_stopping: bool | None = None,
                          augment: bool | None = None) -> None:
    """Refuse an option given on the command line that the chosen mode would ignore.

    ``early_stopping`` / ``augment``: whether the command will use them (default: when
    ``--early-stopping`` / ``--augment`` is given).
    """
    ctx = click.get_current_context()
    early_stopping = model.get("early_stopping") is not None if early_stopping is None else early_stopping
    augment = model.get("augment") is not None if augment is None else augment
    minibatch = model.get("epochs") is not None and model.get("batch_size") is not None
    rules = [
        ("iterations", not minibatch, "sets full-batch steps; with --epochs/--batch-size a run takes "
                                      "epochs x batches steps, so it would be ignored"),
        ("record_per_epoch", minibatch, "needs mini-batch training (--epochs and --batch-size)"),
        ("min_delta", early_stopping, "only applies to early stopping, which is off"),
        ("monitor", early_stopping, "only applies to early stopping, which is off"),
        ("augment_mode", augment, "only applies with --augment"),
        ("allow_flips", augment, "only applies with --augment"),
        ("augment_factor", augment and model.get("augment_mode") == "offline",
         "sets how much larger the offline training set becomes; it needs --augment with "
         "--augment-mode offline (online augmentation draws fresh transforms every step)"),
    ]
    for name, applies, why in rules:
        if name in ctx.params and not applies and _given(ctx, name):
            option = "--" + {"record_per_epoch": "eval-every-epoch"}.get(name, name.replace("_", "-"))
            raise CommandError(f"{option} {why}")


def warn(message: str) -> None:
    """A visible warning (yellow) on the console."""
    console.print(message, style="yellow")


class NumberList(click.ParamType):
    """``20,3`` -> ``(20, 3)``; ``0.9,0.8`` -> ``(0.9, 0.8)``."""

    def __init__(self, kind: type, name: str):
        self.kind = kind
        self.name = name

    def get_metavar(self, param, ctx=None):
        # what to type, not the Python type: "N[,N...]" rather than INTEGER
        return "N[,N...]" if self.kind is int else "X[,X...]"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        example = "20,3" if self.kind is int else "0.9,0.8"
        fields = str(value).split(",")
        if str(value).strip() == "":
            fields = []  # an empty value is an empty list (no hidden layer), not an empty field
        elif any(f.strip() == "" for f in fields):
            self.fail(f"expected one or more comma-separated {self.name}s such as {example}, "
                      f"got {value!r}, which has an empty field", param, ctx)
        try:
            values = tuple(self.kind(v) for v in fields)
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
        parts = str(value).split("/")
        if len(parts) > 1 and any(part.strip() == "" for part in parts):
            self.fail(f"expected architectures separated by / such as 10/20,3/40,20, got {value!r}, "
                      f"which has an empty one", param, ctx)
        return tuple(INT_LIST.convert(part, param, ctx) for part in parts)


LAYERS_GRID = LayersGrid()


def write_json(path, payload: dict) -> None:
    """Write ``payload`` as indented JSON (see :func:`write_text`)."""
    write_text(path, json.dumps(payload, indent=2) + "\n")


def write_text(path, text: str) -> None:
    """Write ``text``, creating the parent folder; a regular file is replaced whole
    (:func:`reglab.io.write_whole`)."""
    from ..io import write_whole

    write_whole(path, lambda f: Path(f).write_text(text))


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
        click.option("--dev/--no-dev", "with_dev", default=None,
                     help="Hold out a dev set: a quarter of the training set, the test set "
                          "unchanged (docs/data.md). Default: yes for data reglab splits; for "
                          "files and circles_course, whose split is fixed, when the command "
                          "needs one. --no-dev trains on those examples too."),
        click.option("--train-size", type=int, default=None,
                     help="Train on a stratified subset of N training examples (dev and test stay whole)."),
    ]
    return lambda fn: _apply(fn, options)


def split_option(fn):
    """``--split TRAIN,DEV,TEST``: free fractions instead of reglab's split rule."""
    return click.option(
        "--split", "split", type=FLOAT_LIST, default=None, metavar="TRAIN,DEV,TEST",
        help="Split the data into these fractions (summing to 1; DEV 0 for no dev set) instead of "
             "reglab's rule: all examples pooled and split once, stratified, with --data-seed. For "
             "generated data sets and files without their own test set; replaces --dev/--no-dev.")(fn)


def _split_data(split, data_file, dataset, default, with_dev, need_dev, verb, data_seed, load):
    """The data split by ``--split`` fractions (:func:`reglab.data.resplit`)."""
    if with_dev is not None:
        raise CommandError("give --split or --dev/--no-dev, not both: --split's DEV fraction "
                           "says whether there is a dev set")
    fixed = _fixed_split(data_file) if data_file else (dataset or default) == "circles_course"
    if fixed:
        raise CommandError(f"--split applies to data reglab splits itself; {data_file or 'circles_course'} "
                           f"has its own train/test split")
    try:
        ratios = check_ratios(split)
    except InputError:
        raise CommandError(f"--split must be three fractions TRAIN,DEV,TEST, each >= 0, summing to 1, "
                           f"TRAIN and TEST above 0; got {','.join(map(repr, split))}") from None
    if need_dev and ratios[1] == 0:
        raise CommandError(f"{verb} needs a dev set; give --split a DEV fraction above 0")
    return resplit(load(), ratios, seed=data_seed)


def load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size=None,
              default="moons", need_dev=False, verb="this command", split=None):
    """The Dataset a command works on, split by reglab's one rule (``docs/data.md``).

    The test set is the data set's own or held out first; the dev set is a
    quarter of the training set (:func:`reglab.data.with_dev_split` sizes),
    held out when ``with_dev`` is True, or when it is None (no ``--dev`` /
    ``--no-dev``) for data reglab splits itself and, for data whose split is
    fixed (a file's own test set, ``circles_course``), when ``need_dev``. The
    same call in Python gives the same sets: ``load_dataset(name, seed=s,
    dev=True)``, ``load_file(path, seed=s, dev=True)``, or
    ``with_dev_split(load_file(path), seed=s)`` for a fixed split.
    ``train_size`` then subsamples what is left for training, so the dev and
    test sets stay whole. ``split`` (``--split``: train, dev, test fractions)
    replaces the rule: :func:`reglab.data.resplit` of the data loaded without a dev set.
    """
    if need_dev and with_dev is False:
        raise CommandError(f"{verb} needs a dev set; drop --no-dev")
    if split is None:
        data = _load(data_file, dataset, label, n_samples, noise, data_seed, with_dev, default, need_dev)
    else:
        data = _split_data(split, data_file, dataset, default, with_dev, need_dev, verb, data_seed,
                           lambda: _load(data_file, dataset, label, n_samples, noise, data_seed, False,
                                         default, False))
    for part in ("dev", "test"):
        y = getattr(data, f"y_{part}")
        unseen = np.setdiff1d(y, data.y_train) if y is not None else ()
        if len(unseen):
            raise CommandError(f"the {part} set holds class {unseen[0]}, which the training set "
                               f"does not have: a network trained on it could never predict it")
    return data if train_size is None else subsample_train(data, train_size, seed=data_seed)


def _fixed_split(data_file: str) -> bool:
    """Whether a data file fixes its own test set (.mat; .npz holding X_test)."""
    if data_file.lower().endswith(".mat"):
        return True
    if data_file.lower().endswith(".npz"):
        try:
            with np.load(data_file, allow_pickle=False) as archive:
                return "X_test" in archive.files
        except Exception:  # an unreadable file: load_file names what is wrong with it
            return False
    return False


def _load(data_file, dataset, label, n_samples, noise, data_seed, with_dev, default, need_dev):
    if data_file and dataset:
        raise CommandError("give --data FILE or --dataset NAME, not both")
    if label is not None and not (data_file and Path(data_file).suffix.lower() == ".csv"):
        raise CommandError(f"--label names the label column of a CSV file; "
                           f"{'--data ' + str(data_file) if data_file else 'a built-in data set'} "
                           f"has its labels in a fixed place")
    if data_file:
        if n_samples is not None or noise is not None:
            raise CommandError("--n-samples and --noise apply to generated data sets, not to --data")
        kwargs = {"label": label} if label is not None else {}
        if _fixed_split(data_file):
            data = load_file(data_file, **kwargs)
            dev = with_dev if with_dev is not None else need_dev
            return with_dev_split(data, seed=data_seed) if dev and not data.has_dev else data
        return load_file(data_file, **kwargs, seed=data_seed, dev=with_dev is not False)
    kwargs = {k: v for k, v in dict(n_samples=n_samples, noise=noise).items() if v is not None}
    name = dataset or default
    fixed = name == "circles_course"  # the course's fixed draws: train and test as published
    dev = (need_dev if fixed else True) if with_dev is None else with_dev
    return load_dataset(name, **kwargs, seed=data_seed, dev=dev)


def model_options(layers: str = "20,3", iterations: int = 10000, layers_grid: bool = False):
    """The network and optimizer options shared by every verb that trains.

    With ``layers_grid``, ``--layers`` takes several architectures separated by ``/``.
    """
    layers_help = ("Hidden layer widths, comma-separated"
                   + ("; several architectures separated by / are swept." if layers_grid else "."))
    options = [
        click.option("--layers", type=LAYERS_GRID if layers_grid else INT_LIST, default=layers,
                     metavar="10/20,3/40,20" if layers_grid else "40,20", show_default=True,
                     help=layers_help),
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
