"""The ``reglab`` command-line program.

Verbs: ``train`` (one network on one data set), ``compare`` (regularizations over
seeds, with a report), ``sweep`` (one or two hyper-parameters), ``diagnose``
(bias/variance), ``replay`` (early stopping on a logged history), ``reproduce``
(every published course figure, PASS/FAIL), ``gradcheck`` (where backprop is wrong). Bad input
gives ``error: ...`` and exit code 2, never a traceback.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import warnings
from pathlib import Path

import click

from .common import (EXIT_FAILED, exit_interrupted, FLOAT_LIST, INT_LIST, CommandError, console, data_options, guarded, load_data, make_config, split_option,
                         model_options, regularization_options, write_json,
                         early_stopping_options, augment_options)
from .common import CommandFailed, check_output_file, refuse_unused_options
from .._validation import TrainingError
from ..training.health import DeadNetworkWarning

#: Verbs whose modules are imported only when they run (or their own --help is asked):
#: name -> (module, attribute, the summary ``reglab --help`` lists; a test keeps it in
#: step with the command's docstring).
LAZY_VERBS = {
    "compare": (".compare", "compare",
                "Train one network under several regularizations over several seeds and compare them."),
    "diagnose": (".diagnose", "diagnose",
                 "Diagnose high bias, high variance or a dev/test mismatch, and say what to try."),
    "gradcheck": (".gradcheck", "gradcheck", "Check backprop against centred differences and say where it is wrong."),
    "playground": (".playground", "playground",
                   "Watch a small network train, live, in the browser."),
    "predict": (".predict", "predict", "Predict with a network saved by `reglab train --save`."),
    "sweep": (".sweep", "sweep", "Explore one or two hyper-parameters over seeds: curves, heatmap, boundaries."),
}


class LazyGroup(click.Group):
    """A click group that imports a verb's module only when that verb is used.

    ``reglab --help`` and ``import reglab.cli`` then skip the experiments, the
    report and their libraries (``benchmarks/import_time.py``).
    """

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *LAZY_VERBS})

    def get_command(self, ctx, name):
        if name in LAZY_VERBS and name not in self.commands:
            module, attribute, _ = LAZY_VERBS[name]
            self.add_command(getattr(importlib.import_module(module, __package__), attribute), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        # Ctrl-C outside a training loop (loading data, drawing figures): exit code 130, as
        # after one inside it, instead of click's "Aborted!" and 1
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            exit_interrupted("interrupted")

    def format_commands(self, ctx, formatter):
        # a verb not imported yet is listed through a stand-in holding its summary, so that
        # click shortens it exactly as it shortens the others
        commands = {name: self.commands.get(name) or click.Command(name, help=LAZY_VERBS[name][2])
                    for name in self.list_commands(ctx)}
        limit = formatter.width - 6 - max(len(name) for name in commands)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit))
                                for name, command in commands.items()])


def _print_version(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    from ..io import reglab_version  # importlib.metadata only when asked

    click.echo(f"reglab, version {reglab_version()}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
def main():
    """reglab: a regularization lab for fully-connected networks."""


@main.command()
@data_options()
@split_option
@model_options()
@regularization_options
@early_stopping_options
@augment_options
@click.option("--print-every", type=int, default=1000, show_default=True,
              help="Print the cost every N steps.")
@click.option("--eval-every", type=int, default=None, metavar="N",
              help="Evaluate train/dev cost and accuracy (and consider early stopping) every N steps "
                   "(default: every 1% of the run).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write config, costs and accuracies to this JSON file.")
@click.option("--save", type=click.Path(dir_okay=False), default=None,
              help="Save the trained network (.npz with JSON metadata).")
@guarded
def train(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size, split, print_every,
          eval_every, json_out, save, **model):
    """Train one network and print its cost and accuracies."""
    from ..io import model_file_name, save_network
    from ..training.loop import train as train_network
    from .compare import total_steps

    if print_every < 1:
        raise CommandError(f"--print-every must be >= 1, got {print_every}")
    refuse_unused_options(model)
    check_output_file(json_out, "--json")  # before training: a long run must not be lost to a bad path
    check_output_file(model_file_name(save) if save else None, "--save")
    if eval_every is not None and eval_every < 1:
        raise CommandError(f"--eval-every must be >= 1, got {eval_every}")
    if eval_every is not None and model["record_per_epoch"]:
        raise CommandError("give --eval-every N or --eval-every-epoch, not both")
    need_dev = model["early_stopping"] is not None
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                     need_dev=need_dev, verb="early stopping", split=split)
    config = make_config(**model)  # validates the options before they are used
    n_steps = total_steps(model, len(data.y_train))
    config = dataclasses.replace(config, record_every=eval_every or max(1, n_steps // 100))
    console.print(data.summary(), style="bold")
    if config.early_stopping is not None:
        console.print(_early_stopping_plan(config, n_steps, eval_every is not None))
    printed = [0]

    def progress(step, history):
        while printed[0] < step:
            console.print(f"Cost after iteration {printed[0]}: {history.costs[printed[0]]:.10g}")
            printed[0] += print_every

    dev = {"X_dev": data.X_dev, "y_dev": data.y_dev} if data.has_dev else {}
    with warnings.catch_warnings():  # printed below from history.warnings, in the CLI's words
        warnings.simplefilter("ignore", DeadNetworkWarning)
        try:
            result = train_network(data.X_train, data.y_train, config, callback=progress,
                                   image_shape=data.image_shape, symmetries=data.symmetries,
                                   dataset_name=data.name, **dev)
        except TrainingError as exc:  # divergence: the history so far is still worth having
            if json_out and getattr(exc, "history", None) is not None:
                write_json(json_out, {"config": config.to_dict(), "dataset": data.name, "error": str(exc),
                                      **_history_json(exc.history, print_every)})
                raise CommandFailed(f"{exc}; the history up to it is in {json_out}") from None
            raise
    net, history = result.network, result.history
    summary = {"train_accuracy": net.accuracy(data.X_train, data.y_train)}
    if data.has_dev:
        summary["dev_accuracy"] = net.accuracy(data.X_dev, data.y_dev)
    summary["test_accuracy"] = net.accuracy(data.X_test, data.y_test)
    if history.stop_reason == "interrupted":
        console.print(f"interrupted at step {history.stopped_at}; results so far below", style="yellow")
    elif history.stop_reason.startswith("early stopping"):
        console.print(history.stop_reason.replace("early stopping: ", "Early stopping: ", 1)
                      + (f"; restored the weights of step {history.best_step}"
                         if config.restore_best else ""))
    elif (config.early_stopping is not None and history.best_step == history.stopped_at
          and history.stop_reason == "completed"):
        console.print(f"Early stopping did not stop: {config.monitor} was at its best at the last "
                      f"step, {history.stopped_at}")
    elif config.early_stopping is not None and config.restore_best and history.best_step is not None:
        at = history.eval_steps.index(history.best_step)
        console.print(f"Early stopping did not stop: {config.monitor} never went "
                      f"{config.early_stopping} evaluations without improving. The network keeps "
                      f"the weights of its best evaluation, step {history.best_step} of "
                      f"{history.stopped_at} ({config.monitor} "
                      f"{getattr(history, config.monitor)[at]:.4g}), not the last step's: the "
                      f"accuracies below are that step's")
    for message in history.warnings:
        console.print(f"Warning: {message}", style="yellow")
    for key, value in summary.items():
        console.print(f"{key.replace('_', ' ').capitalize()}: {value:.4f}")
    console.print(f"Training time: {result.seconds:.2f} s")
    if json_out:
        write_json(json_out, {"config": config.to_dict(), "dataset": data.name, **summary,
                              "seconds": result.seconds, **_history_json(history, print_every)})
    if save:
        # the file's own label values, so that reglab predict answers in them
        classes = list(data.classes) if data.classes is not None else None
        path = save_network(save, net, config=config, extra={"dataset": data.name, "classes": classes,
                                                              **summary})
        console.print(f"Saved the network to {path}")
    if history.stop_reason == "interrupted":
        exit_interrupted(f"training stopped at step {history.stopped_at}")


def _history_json(history, print_every: int) -> dict:
    """The costs, stop and evaluation history of a run, as ``train --json`` writes them."""
    return {"costs": {str(t): c for t, c in history.costs_every(print_every).items()},
            "steps": history.stopped_at, "stop_reason": history.stop_reason,
            "engine": history.engine, "best_step": history.best_step,
            "warnings": list(history.warnings),
            "history": {"eval_steps": history.eval_steps, "train_cost": history.train_cost,
                        "train_accuracy": history.train_accuracy, "dev_cost": history.dev_cost,
                        "dev_accuracy": history.dev_accuracy, "weight_norms": history.weight_norms}}


def _list_runs(results, runs) -> None:
    """The table ``replay --list`` prints: one row per run of a compare/sweep results.json."""
    from rich.table import Table

    if not isinstance(runs, list) or not runs:
        raise CommandError(f"{results} holds no list of runs (--list reads the results.json of "
                           f"reglab compare or reglab sweep)")
    table = Table(title=f"Runs in {results} (replay one with --run K)")
    folds = any(isinstance(r, dict) and r.get("fold") is not None for r in runs)  # a --cv run
    columns = ("--run", "setting") + (("fold",) if folds else ()) + ("seed", "steps", "dev history",
                                                                     "stop reason")
    for col in columns:
        table.add_column(col, justify="right" if col in ("--run", "fold", "seed", "steps") else "left")
    for k, run in enumerate(runs):
        run = run if isinstance(run, dict) else {}
        history = run.get("history") if isinstance(run.get("history"), dict) else {}
        if run.get("error"):
            dev, reason = "-", f"failed: {run['error']}"
        else:
            dev = "yes" if history.get("dev_cost") else "no"
            reason = str(run.get("stop_reason", "-"))
        steps = run.get("steps", "-")
        fold = (str(run.get("fold", "-")),) if folds else ()
        table.add_row(str(k), str(run.get("group", "-")), *fold, str(run.get("seed", "-")), str(steps), dev,
                      reason)
    console.print(table)


def _early_stopping_plan(config, n_steps: int, explicit: bool) -> str:
    """One sentence: what patience means in steps for this run."""
    if config.record_per_epoch:
        every = "at the end of every epoch"
    else:
        share = f"{config.record_every / n_steps:.0%} of the run" if n_steps else ""
        every = (f"every {config.record_every} steps ({share}"
                 + ("" if explicit else "; --eval-every changes it") + ")")
    patience = config.early_stopping
    span = "" if config.record_per_epoch else f", {patience * config.record_every} steps,"
    return (f"Early stopping: {config.monitor} on the dev set is evaluated {every}; training stops "
            f"after {patience} evaluation{'s' * (patience != 1)}{span} without an improvement "
            f"larger than {config.min_delta:g}, and the network keeps the weights of the best "
            f"evaluation" + ("" if config.restore_best else " (not restored: restore_best is off)"))


@main.command()
@click.option("--data", "data_file", type=click.Path(dir_okay=False), required=True,
              help="Your copy of the course's football.mat.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write every check to this JSON file.")
@guarded
def reproduce(data_file, json_out):
    """Run the course's experiments and check every published figure."""
    from rich.table import Table
    from rich.text import Text

    from ..experiments import course

    check_output_file(json_out, "--json")
    with console.status("running") as status:
        checks = course.reproduce(data_file, progress=lambda e, r: status.update(f"running {e}: {r}"))
    table = Table(title="Course figures: published vs reglab")
    for col in ("experiment", "run", "figure", "published", "reglab", "check"):
        table.add_column(col, justify="right" if col in ("published", "reglab") else "left")
    for c in checks:
        table.add_row(c.experiment, c.run, c.quantity, f"{c.published:.16g}", f"{c.computed:.16g}",
                      Text("PASS", style="green") if c.passed else Text("FAIL", style="red"))
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
              help="Which run of a compare/sweep results.json (0-based; --list shows them).")
@click.option("--list", "list_runs", is_flag=True,
              help="List the runs of a compare/sweep results.json with their --run numbers, and exit.")
@guarded
def replay(results, patience, min_delta, monitor, start_from, run_index, list_runs):
    """Where early stopping would have stopped, from a logged history, without retraining.

    RESULTS is the --json file of `reglab train` (trained with a dev set) or the
    results.json of `reglab compare` / `reglab sweep` (pick the run with --run;
    --list shows them).
    """
    from rich.table import Table

    from ..training.early_stopping import replay_grid

    try:
        payload = json.loads(Path(results).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandError(f"{results} is not a JSON file: {exc}") from None
    runs = payload.get("runs") if isinstance(payload, dict) else None
    if list_runs:
        _list_runs(results, runs)
        return
    if isinstance(payload, dict) and isinstance(payload.get("history"), dict):
        history, what = payload["history"], "the run"
    elif isinstance(runs, list) and runs:
        if not 0 <= run_index < len(runs):
            raise CommandError(f"--run must be in [0, {len(runs) - 1}], got {run_index}")
        run = runs[run_index] if isinstance(runs[run_index], dict) else {}
        fold = f", fold {run['fold']}" if run.get("fold") is not None else ""
        what = f"run {run_index} ({run.get('group')}{fold}, seed {run.get('seed')})"
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

