"""The ``reglab`` command-line program.

Verbs: ``train`` (one network on one data set), ``reproduce`` (every published
course figure, PASS/FAIL), ``gradcheck`` (where backprop is wrong). Bad input
gives ``error: ...`` and exit code 2, never a traceback.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from . import course
from .cli_common import EXIT_FAILED, FLOAT_LIST, INT_LIST, CommandError, guarded, write_json
from .cli_gradcheck import gradcheck
from .data import DATASETS, load_dataset, load_file
from .initializers import INITIALIZERS
from .activations import ACTIVATIONS
from .io import reglab_version, save_network
from .training import TrainConfig, train as train_network

console = Console(highlight=False)


def data_options(fn):
    """``--data FILE`` / ``--dataset NAME`` and their companions."""
    options = [
        click.option("--data", "data_file", type=click.Path(dir_okay=False),
                     help="A data file: .csv (header row), .npz (X, y) or .mat (football keys)."),
        click.option("--dataset", type=click.Choice(sorted(DATASETS)), default=None,
                     help="A built-in data set (default: moons)."),
        click.option("--label", default=None, help="CSV label column by name (default: the last)."),
        click.option("--n-samples", type=int, default=None, help="Size of a generated data set."),
        click.option("--noise", type=float, default=None, help="Noise of a generated data set."),
        click.option("--data-seed", type=int, default=0, show_default=True,
                     help="Seed of the data set's generation and split."),
        click.option("--dev/--no-dev", "with_dev", default=False,
                     help="Hold out a dev set (lecture ratios by size) when the data are split."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev):
    """The Dataset a command works on."""
    if data_file and dataset:
        raise CommandError("give --data FILE or --dataset NAME, not both")
    if data_file:
        if n_samples is not None or noise is not None:
            raise CommandError("--n-samples and --noise apply to generated data sets, not to --data")
        kwargs = {"label": label} if label is not None else {}
        if not data_file.endswith(".mat"):
            kwargs.update(seed=data_seed, dev=with_dev)
        return load_file(data_file, **kwargs)
    kwargs = {k: v for k, v in dict(n_samples=n_samples, noise=noise).items() if v is not None}
    name = dataset or "moons"
    if name != "circles_course":
        kwargs["seed"] = data_seed
        kwargs["dev"] = with_dev
    return load_dataset(name, **kwargs)


def model_options(fn):
    """The network and training options shared by every verb that trains."""
    options = [
        click.option("--layers", type=INT_LIST, default="20,3", show_default=True,
                     help="Hidden layer widths, comma-separated."),
        click.option("--hidden", type=click.Choice(sorted(ACTIVATIONS)), default="relu", show_default=True),
        click.option("--output", type=click.Choice(["sigmoid", "softmax"]), default=None,
                     help="Output layer (default: sigmoid for 0/1 labels, softmax otherwise)."),
        click.option("--init", type=click.Choice(sorted(INITIALIZERS)), default="he", show_default=True),
        click.option("--learning-rate", type=float, default=0.3, show_default=True),
        click.option("--iterations", type=int, default=10000, show_default=True,
                     help="Full-batch gradient-descent steps."),
        click.option("--epochs", type=int, default=None, help="Mini-batch training: epochs (with --batch-size)."),
        click.option("--batch-size", type=int, default=None, help="Mini-batch size (with --epochs)."),
        click.option("--l2", type=float, default=0.0, show_default=True, help="L2 strength lambd."),
        click.option("--l1", type=float, default=0.0, show_default=True, help="L1 strength lambd."),
        click.option("--keep-prob", type=FLOAT_LIST, default="1",
                     help="Dropout keep probability, one number or one per hidden layer."),
        click.option("--course-compat", is_flag=True,
                     help="The course's randomness: weights after seed(3), dropout masks re-seeded with 1."),
        click.option("--seed", type=int, default=0, show_default=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def make_config(layers, hidden, output, init, learning_rate, iterations, epochs, batch_size,
                l2, l1, keep_prob, course_compat, seed, record_every=100) -> TrainConfig:
    keep = keep_prob[0] if len(keep_prob) == 1 else keep_prob
    return TrainConfig(layers=layers, hidden=hidden, output=output, init=init,
                       learning_rate=learning_rate, iterations=iterations, epochs=epochs,
                       batch_size=batch_size, l2=l2, l1=l1, keep_prob=keep,
                       course_compat=course_compat, seed=seed, record_every=record_every)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(reglab_version(), prog_name="reglab")
def main():
    """reglab: a regularization lab for fully-connected networks."""


@main.command()
@data_options
@model_options
@click.option("--print-every", type=int, default=1000, show_default=True,
              help="Print the cost every N steps.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write config, costs and accuracies to this JSON file.")
@click.option("--save", type=click.Path(dir_okay=False), default=None,
              help="Save the trained network (.npz with JSON metadata).")
@guarded
def train(data_file, dataset, label, n_samples, noise, data_seed, with_dev, print_every,
          json_out, save, **model):
    """Train one network and print its cost and accuracies."""
    if print_every < 1:
        raise CommandError(f"--print-every must be >= 1, got {print_every}")
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev)
    config = make_config(**model, record_every=print_every)
    console.print(f"[bold]{data.summary()}[/]")
    printed = [0]

    def progress(step, history):
        while printed[0] < step:
            console.print(f"Cost after iteration {printed[0]}: {history.costs[printed[0]]:.10g}")
            printed[0] += print_every

    dev = {"X_dev": data.X_dev, "y_dev": data.y_dev} if data.has_dev else {}
    result = train_network(data.X_train, data.y_train, config, callback=progress, **dev)
    net, history = result.network, result.history
    summary = {"train_accuracy": net.accuracy(data.X_train, data.y_train),
               "test_accuracy": net.accuracy(data.X_test, data.y_test)}
    if data.has_dev:
        summary["dev_accuracy"] = net.accuracy(data.X_dev, data.y_dev)
    if history.stop_reason == "interrupted":
        console.print(f"[yellow]interrupted at step {history.stopped_at}; results so far below[/]")
    for key, value in summary.items():
        console.print(f"{key.replace('_', ' ').capitalize()}: {value:.4f}")
    console.print(f"Training time: {result.seconds:.2f} s")
    if json_out:
        write_json(json_out, {"config": config.to_dict(), "dataset": data.name,
                              "costs": {str(t): c for t, c in history.costs_every(print_every).items()},
                              **summary, "seconds": result.seconds,
                              "steps": history.stopped_at, "stop_reason": history.stop_reason})
    if save:
        path = save_network(save, net, config=config, extra={"dataset": data.name, **summary})
        console.print(f"Saved the network to {path}")


@main.command()
@click.option("--data", "data_file", type=click.Path(dir_okay=False), required=True,
              help="Your copy of the course's football.mat.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write every check to this JSON file.")
@guarded
def reproduce(data_file, json_out):
    """Run the course's experiments and check every published figure."""
    with console.status("running") as status:
        checks = course.reproduce(data_file, progress=lambda e, r: status.update(f"running {e}: {r}"))
    table = Table(title="Course figures: published vs reglab")
    for col in ("experiment", "run", "figure", "published", "reglab", "check"):
        table.add_column(col, justify="right" if col in ("published", "reglab") else "left")
    for c in checks:
        table.add_row(c.experiment, c.run, c.quantity, f"{c.published:.16g}", f"{c.computed:.16g}",
                      "[green]PASS[/]" if c.passed else "[red]FAIL[/]")
    console.print(table)
    failed = sum(not c.passed for c in checks)
    console.print(f"{len(checks) - failed} passed, {failed} failed")
    if json_out:
        write_json(json_out, {"checks": [c.to_dict() for c in checks],
                              "passed": len(checks) - failed, "failed": failed})
    if failed:
        raise SystemExit(EXIT_FAILED)


main.add_command(gradcheck)
