"""The ``reglab`` command-line program.

Verbs: ``train`` (one network on one data set), ``compare`` (regularizations over
seeds, with a report), ``sweep`` (one or two hyper-parameters), ``diagnose``
(bias/variance), ``replay`` (early stopping on a logged history), ``reproduce``
(every published course figure, PASS/FAIL), ``gradcheck`` (where backprop is wrong). Bad input
gives ``error: ...`` and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from ..experiments import course
from .common import (EXIT_FAILED, FLOAT_LIST, INT_LIST, CommandError, console, data_options, guarded, load_data, make_config,
                         model_options, regularization_options, write_json,
                         early_stopping_options, augment_options)
from .compare import compare
from .diagnose import diagnose
from .gradcheck import gradcheck
from .sweep import sweep
from ..training.early_stopping import replay_grid
from ..io import reglab_version, save_network
from ..training.loop import train as train_network



@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(reglab_version(), prog_name="reglab")
def main():
    """reglab: a regularization lab for fully-connected networks."""


@main.command()
@data_options()
@model_options()
@regularization_options
@early_stopping_options
@augment_options
@click.option("--print-every", type=int, default=1000, show_default=True,
              help="Print the cost every N steps.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write config, costs and accuracies to this JSON file.")
@click.option("--save", type=click.Path(dir_okay=False), default=None,
              help="Save the trained network (.npz with JSON metadata).")
@guarded
def train(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size, print_every,
          json_out, save, **model):
    """Train one network and print its cost and accuracies."""
    if print_every < 1:
        raise CommandError(f"--print-every must be >= 1, got {print_every}")
    config = make_config(**model, record_every=print_every)
    need_dev = config.early_stopping is not None
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                     need_dev=need_dev)
    if need_dev and not with_dev:
        console.print("early stopping watches the dev set; the data's own, or a quarter of the "
                      "training set held out")
    console.print(f"[bold]{data.summary()}[/]")
    printed = [0]

    def progress(step, history):
        while printed[0] < step:
            console.print(f"Cost after iteration {printed[0]}: {history.costs[printed[0]]:.10g}")
            printed[0] += print_every

    dev = {"X_dev": data.X_dev, "y_dev": data.y_dev} if data.has_dev else {}
    result = train_network(data.X_train, data.y_train, config, callback=progress,
                           image_shape=data.image_shape, symmetries=data.symmetries,
                           dataset_name=data.name, **dev)
    net, history = result.network, result.history
    summary = {"train_accuracy": net.accuracy(data.X_train, data.y_train),
               "test_accuracy": net.accuracy(data.X_test, data.y_test)}
    if data.has_dev:
        summary["dev_accuracy"] = net.accuracy(data.X_dev, data.y_dev)
    if history.stop_reason == "interrupted":
        console.print(f"[yellow]interrupted at step {history.stopped_at}; results so far below[/]")
    elif history.stop_reason.startswith("early stopping"):
        console.print(history.stop_reason.replace("early stopping: ", "Early stopping: ", 1)
                      + (f"; restored the weights of step {history.best_step}"
                         if config.restore_best else ""))
    for key, value in summary.items():
        console.print(f"{key.replace('_', ' ').capitalize()}: {value:.4f}")
    console.print(f"Training time: {result.seconds:.2f} s")
    if json_out:
        write_json(json_out, {"config": config.to_dict(), "dataset": data.name,
                              "costs": {str(t): c for t, c in history.costs_every(print_every).items()},
                              **summary, "seconds": result.seconds,
                              "steps": history.stopped_at, "stop_reason": history.stop_reason,
                              "engine": history.engine,
                              "best_step": history.best_step,
                              "history": {"eval_steps": history.eval_steps,
                                          "train_cost": history.train_cost,
                                          "train_accuracy": history.train_accuracy,
                                          "dev_cost": history.dev_cost,
                                          "dev_accuracy": history.dev_accuracy,
                                          "weight_norms": history.weight_norms}})
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


@main.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option("--patience", type=INT_LIST, default="3,5,10,20", show_default=True,
              help="Patience values to replay, comma-separated.")
@click.option("--min-delta", type=FLOAT_LIST, default="0", show_default=True,
              help="min_delta values to replay, comma-separated.")
@click.option("--monitor", type=click.Choice(["dev_cost", "dev_accuracy"]), default="dev_cost",
              show_default=True)
@click.option("--start-from", type=int, default=0, show_default=True)
@click.option("--run", "run_index", type=int, default=0, show_default=True,
              help="Which run of a compare/sweep results.json (0-based).")
@guarded
def replay(results, patience, min_delta, monitor, start_from, run_index):
    """Where early stopping would have stopped, from a logged history, without retraining.

    RESULTS is the --json file of `reglab train` (trained with a dev set) or the
    results.json of `reglab compare` / `reglab sweep` (pick the run with --run).
    """
    try:
        payload = json.loads(Path(results).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandError(f"{results} is not a JSON file: {exc}") from None
    runs = payload.get("runs") if isinstance(payload, dict) else None
    if isinstance(payload, dict) and isinstance(payload.get("history"), dict):
        history, what = payload["history"], "the run"
    elif isinstance(runs, list) and runs:
        if not 0 <= run_index < len(runs):
            raise CommandError(f"--run must be in [0, {len(runs) - 1}], got {run_index}")
        run = runs[run_index] if isinstance(runs[run_index], dict) else {}
        what = f"run {run_index} ({run.get('group')}, seed {run.get('seed')})"
        if run.get("error"):
            raise CommandError(f"{what} failed, it has no history: {run['error']}")
        history = run.get("history") if isinstance(run.get("history"), dict) else {}
    else:
        raise CommandError(f"{results} holds no training history (expected the --json of reglab "
                           f"train or a results.json of reglab compare/sweep)")
    if not history.get("eval_steps"):
        raise CommandError(f"{what} has no 'eval_steps' in its history")
    if not history.get(monitor):
        raise CommandError(f"{what} has no {monitor} values: replaying {monitor} needs a run "
                           f"trained with a dev set (--dev)")
    rows = replay_grid(history["eval_steps"], history[monitor], monitor=monitor,
                       patiences=patience, min_deltas=min_delta, start_from=start_from)
    last = history["eval_steps"][-1]
    table = Table(title=f"Early stopping replayed on {what}: {monitor}, {len(history['eval_steps'])} "
                        f"evaluations up to step {last}")
    for col in ("patience", "min_delta", "stops at", "best step", f"best {monitor}"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r.patience), f"{r.min_delta:g}",
                      "not stopped" if r.stopped_at is None else str(r.stopped_at),
                      str(r.best_step), "-" if r.best_value is None else f"{r.best_value:.6g}")
    console.print(table)


main.add_command(compare)
main.add_command(diagnose)
main.add_command(gradcheck)
main.add_command(sweep)
