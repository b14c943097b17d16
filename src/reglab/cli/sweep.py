"""``reglab sweep``: one or two hyper-parameters over seeds, resumable."""

from __future__ import annotations

import csv
import dataclasses
import time
from io import StringIO
from pathlib import Path

import click
import numpy as np
from click.core import ParameterSource

from .common import (exit_interrupted, FLOAT_LIST, CommandError, CommandFailed, augment_options, console, data_options,
                         early_stopping_options, guarded, load_data, make_config, model_options,
                         write_json)
from .common import check_output_folder, lock_output, refuse_unused_options, warn
from .cluster import open_cluster, scheduler_option
from .compare import CV_HELP, progress_bar, total_steps
from .compare_report import interval_phrase, print_table
from ..io import write_whole
from ..experiments.cv import CV_CAVEAT, check_cv, cv_record, fold_data, sample_phrase
from ..experiments.compare import check_fits
from ..experiments.sweep import Grid, first_seed_networks, label as point_label, run_sweep, summarize_points

#: With --course-compat, options left at their defaults take the course's football values.
COURSE_DEFAULTS = {"layers": ((20, 3),), "init": "course", "learning_rate": 0.3, "iterations": 30000,
                   "hidden": "relu", "output": "sigmoid"}


@click.command()
@data_options(default="field")
@model_options(layers="40,20", iterations=10000, layers_grid=True)
@click.option("--l2", type=FLOAT_LIST, default=None, help="L2 strengths, e.g. 0,0.01,0.1,0.3,1,5.")
@click.option("--l1", type=FLOAT_LIST, default=None, help="L1 strengths.")
@click.option("--keep-prob", type=FLOAT_LIST, default=None, help="Keep probabilities, e.g. 1,0.9,0.8.")
@early_stopping_options
@augment_options
@click.option("--course-compat", is_flag=True,
              help="The course's randomness (one run per point); unset network options take the "
                   "course's football values ([20, 3], init course, rate 0.3, 30000 iterations).")
@click.option("--seeds", type=int, default=5, show_default=True, help="Seeds per point.")
@click.option("--cv", type=int, default=None, metavar="K", help=CV_HELP.replace("setting", "point"))
@click.option("--jobs", type=int, default=None, help="Worker processes (default: all cores).")
@scheduler_option
@click.option("--resume", is_flag=True, help="Skip the runs already in OUT/runs.jsonl.")
@click.option("--out", type=click.Path(file_okay=False), default="reglab-sweep", show_default=True)
@guarded
def sweep(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size, l2, l1,
          keep_prob,
          course_compat, seeds, cv, jobs, scheduler, resume, out, **model):
    """Explore one or two hyper-parameters over seeds: curves, heatmap, boundaries."""
    from ..experiments.runner import check_resources, default_jobs, interrupted_by

    ctx = click.get_current_context()
    if course_compat and cv is not None:
        raise CommandError("--course-compat runs the course's one split with its randomness; it cannot "
                           "be combined with --cv")
    if course_compat:
        for name, value in COURSE_DEFAULTS.items():
            if ctx.get_parameter_source(name) == ParameterSource.DEFAULT:
                model[name] = value
        if seeds != 1:
            console.print("--course-compat fixes every random draw: one run per point")
            seeds = 1
    if seeds < 1:
        raise CommandError(f"--seeds must be >= 1, got {seeds}")
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise CommandError(f"--jobs must be >= 1, got {jobs}")
    refuse_unused_options(model)
    check_output_folder(out)
    layers = model.pop("layers")
    fixed = {name: values[0] for name, values in (("l2", l2), ("l1", l1), ("keep_prob", keep_prob))
             if values is not None and len(values) == 1}
    grid = Grid.build(l2=l2, l1=l1, keep_prob=keep_prob, layers=layers)
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                     default="field", need_dev=not course_compat, verb="sweep")
    cv = None if cv is None else check_cv(cv, data, "--cv")
    shape = fold_data(data, 0, cv) if cv else data  # what one run trains on (sizes, dev set)
    held = "dev" if shape.has_dev else "test"
    base = make_config(**model, layers=layers[0], course_compat=course_compat,
                       record_every=max(1, total_steps(model, len(shape.y_train)) // 100),
                       **{k: v for k, v in fixed.items() if k != "keep_prob"},
                       keep_prob=(fixed.get("keep_prob", 1.0),))
    for point in grid.points():  # every point must fit the network and the data before any run
        check_fits(shape, dataclasses.replace(base, **point), point_label(point))
    client = open_cluster(scheduler)  # None without --scheduler: the local pool runs
    if client is None:  # a cluster's workers have their own memory
        check_resources(shape, [dataclasses.replace(base, **p) for p in grid.points()], jobs)
    lock_output(Path(out))  # one writer per folder, until the command ends
    console.print(data.summary(), style="bold")
    console.print("sweeping " + " x ".join(f"{n} over {len(v)} values" for n, v in grid.params)
                  + f", {sample_phrase(seeds, cv)} each")
    started = time.perf_counter()
    out = Path(out)
    n_total = len(grid.points()) * seeds * (cv or 1)
    progress, advance = progress_bar(n_total, "sweep")
    with progress:
        records, n_new = run_sweep(out, data, base, grid, list(range(seeds)), cv=cv, resume=resume,
                                   jobs=jobs, on_done=advance, on_note=warn, scheduler=client,
                                   source={"data": data_file, "dataset": dataset, "n_samples": n_samples,
                                           "noise": noise, "data_seed": data_seed, "dev": with_dev,
                                           "train_size": train_size})
    if not records:  # every point errs into a record, so none at all means Ctrl-C came first
        exit_interrupted(f"interrupted before any run finished; nothing new in {out}/", interrupted_by())
    if resume:
        console.print(f"resumed: {n_total - n_new} run(s) already done, {n_new} to run")
    rows = summarize_points(records, grid)
    # without a dev set the held-out set is the test set: one column for it, not two
    columns = ["point", "runs", "train %", f"{held} %"] + (["test %"] if held != "test" else []) + [
        f"train-{held} gap"]
    body = [[r["label"], str(r["n"]), r["train"].format(100), r["held_out"].format(100)]
            + ([r["test"].format(100)] if held != "test" else []) + [r["gap"].format(100)] for r in rows]
    print_table(columns, body, f"{data.name}: " + (interval_phrase(seeds, cv) if cv else
                                                   "mean ± 95% interval over seeds"))
    takeaways = _takeaways(rows, grid, held, sample_phrase(seeds, cv)) if rows else []
    if takeaways:
        console.print("Takeaways", style="bold")
        for sentence in takeaways:
            console.print(f"- {sentence}", markup=False)
    failed = [r for r in records if r.error]
    for r in failed:
        fold = "" if r.fold is None else f", fold {r.fold}"
        console.print(f"{r.group}{fold}, seed {r.seed} failed: {r.error}", style="red", markup=False)
    interrupted = len(records) < n_total
    if interrupted:
        warn(f"{len(records)} of {n_total} runs are in {out / 'runs.jsonl'}; rerun with --resume to finish")
    write_json(out / "results.json", {
        "dataset": data.summary(), "config": base.to_dict(), "held_out": held,
        "grid": {n: [list(v) if isinstance(v, tuple) else v for v in vals] for n, vals in grid.params},
        "seeds": seeds, "cv": cv_record(data, cv),
        "intervals": f"mean and 95% Student-t interval over {sample_phrase(seeds, cv)}"
                     + (f"; {CV_CAVEAT}" if cv else ""),
        "interrupted": interrupted, "takeaways": takeaways,
        "summary": [{"point": {k: list(v) if isinstance(v, tuple) else v for k, v in r["point"].items()},
                     "n": r["n"], **{k: r[k].to_dict() for k in ("train", "held_out", "test", "gap")}}
                    for r in rows],
        "runs": [r.to_json() for r in records]})
    _write_csv(out / "results.csv", records, grid)
    with console.status("drawing figures and the report"):
        figures = _figures(out, shape, grid, rows, records, held)
        report = _report(out, data, base, grid, columns, body, figures, seeds, held, takeaways, cv)
    console.print(f"Wrote {report}, {len(figures)} figure{'s' * (len(figures) != 1)}, results.json, results.csv and runs.jsonl "
                  f"to {out}/ in {time.perf_counter() - started:.1f} s")
    if interrupted_by() is not None:  # what finished is written; the exit says it is not all
        exit_interrupted(f"{len(records)} of {n_total} runs finished before the interruption; "
                         f"--resume finishes the sweep", interrupted_by())
    empty = [point_label(p) for p in grid.points() if point_label(p) not in {r["label"] for r in rows}]
    if failed and empty:
        raise CommandFailed(f"no run of {', '.join(empty)} finished; see {out / 'runs.jsonl'}")


def _write_csv(path, records, grid):
    f = StringIO()  # then written whole: a kill never leaves half a results.csv
    writer = csv.writer(f)
    writer.writerow(["point", *grid.names, "fold", "seed", "train_accuracy", "dev_accuracy",
                     "test_accuracy", "weight_norm", "near_zero", "seconds", "error"])
    for r in records:
        values = [",".join(map(str, v)) if isinstance(v, list) else v
                  for v in (r.params.get(n) for n in grid.names)]
        writer.writerow([r.group, *values, "" if r.fold is None else r.fold, r.seed, r.train_accuracy, r.dev_accuracy,
                         r.test_accuracy, r.weight_norm, r.near_zero, r.seconds, r.error or ""])
    text = f.getvalue()  # csv ends its lines with \r\n: written as they are
    write_whole(path, lambda t: Path(t).write_text(text, newline=""))


def _figures(out, data, grid, rows, records, held):
    from ..report import plots

    figures = []
    first, values = grid.params[0]
    other = {n: vals[0] for n, vals in grid.params[1:]}
    line = [next((r for r in rows if r["point"] == {first: v, **other}), None) for v in values]
    if all(r is not None for r in line):
        n_seeds = min(len(r["train_runs"]) for r in line)
        train = np.array([r["train_runs"][:n_seeds] for r in line])
        dev = np.array([r["held_runs"][:n_seeds] for r in line])
        xs = [",".join(map(str, v)) if isinstance(v, tuple) else v for v in values]
        suffix = f" (at {point_label(other)})" if other else ""
        figures.append((f"Validation curve: train and {held} accuracy against {first}{suffix}, "
                        + ("one run per value." if n_seeds == 1 else "mean over "
                           + ("seeds" if all(r.fold is None for r in records) else "folds and seeds")
                           + " with its band."),
                        plots.validation_curve(first, xs, train, dev, out / "validation_curve.png",
                                               ylabel="accuracy", held=held)))
        histories = {point_label({first: v, **other}): [r.history for r in records if r.error is None
                                                        and r.group == point_label({first: v, **other})]
                     for v in values}
        if data.has_dev and all(h and all(x.get("dev_cost") for x in h) for h in histories.values()):
            from ..report.curves import training_curves
            figures.append((f"Train and dev cost (without the penalty) during training at each {first}: "
                            "where the dev cost turns up, the network starts to overfit.",
                            training_curves(histories, out / "training_cost.png", metric="cost")))
            figures.append((f"Train and dev accuracy during training at each {first}.",
                            training_curves(histories, out / "training_accuracy.png", metric="accuracy")))
    if len(grid.params) == 2:
        (nx, xs), (ny, ys) = grid.params[1], grid.params[0]
        acc = np.full((len(ys), len(xs)), np.nan)
        gap = np.full_like(acc, np.nan)
        for r in rows:
            i, j = ys.index(r["point"][ny]), xs.index(r["point"][nx])
            acc[i, j], gap[i, j] = r["held_out"].mean, r["gap"].mean
        show = lambda vals: [",".join(map(str, v)) if isinstance(v, tuple) else v for v in vals]  # noqa: E731
        figures.append((f"Mean {held} accuracy and train-{held} gap for every pair of values.",
                        plots.heatmap(nx, show(xs), ny, show(ys), acc, gap, out / "heatmap.png")))
    if data.n_features == 2:
        panels = first_seed_networks(out, records, grid)
        if panels:
            figures.append((f"Decision boundaries across {first} (first seed).",
                            plots.decision_boundaries(panels, data, out / "boundaries.png",
                                                      ncols=len(panels))))
    return figures


def _takeaways(rows, grid, held, sample):
    from ..experiments.takeaways import sweep_takeaways

    first, values = grid.params[0]
    off = {"l2": 0.0, "l1": 0.0, "keep_prob": 1.0}
    plain = next((r["label"] for r in rows if all(r["point"].get(k, v) == v for k, v in off.items())
                  and set(r["point"]) & set(off)), None)
    return sweep_takeaways(rows, first, values, held=held, unregularized=plain, sample=sample)


def _report(out, data, base, grid, columns, body, figures, seeds, held, takeaways, cv=None):
    from ..report.html import Section, Table, write_report
    from .compare_report import runs_text

    runs = (f"{seeds} seed(s) per point; the held-out set of the curves is the {held} set." if cv is None
            else runs_text(data, seeds, cv).replace("setting", "point") + " The boundaries are fold 0's.")
    intro = (f"Data: {data.summary()}. {data.description}\n\n"
             f"Swept: " + "; ".join(f"{n} over {', '.join(map(str, v))}" for n, v in grid.params)
             + f". Network: hidden layers {list(base.layers)} ({base.hidden}), init {base.init}, "
               f"learning rate {base.learning_rate:g}. {runs}")
    return write_report(out / "report.html", title=f"reglab sweep: {data.name}", intro=intro,
                        sections=[Section("Takeaways", items=takeaways),
                                  Section("Results", table=Table(
                                      columns, body, caption=f"Accuracies in %; {interval_phrase(seeds, cv)}.")),
                                  Section("Figures", images=figures)])
