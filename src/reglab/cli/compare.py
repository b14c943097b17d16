"""``reglab compare``: settings x seeds, a table, plots and a report."""

from __future__ import annotations

import csv
import dataclasses
import time
from pathlib import Path

import click
from click.core import ParameterSource
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..experiments import course
from .common import (FLOAT_LIST, CommandError, CommandFailed, augment_options, console, data_options,
                         early_stopping_options, guarded, load_data, make_config, model_options,
                         write_json)
from ..experiments.compare import (GRIDS, Setting, check_settings, compare as compare_settings, default_augment,
                      default_settings, summarize, tune as tune_strengths)
from ..data import load_football
from ..experiments.runner import RunLog, default_jobs

COURSE_PREFIX = "course "


def total_steps(model: dict, n_train: int) -> int:
    """Gradient steps of a run: iterations, or epochs times batches per epoch."""
    if model.get("epochs") is None:
        return model["iterations"]
    return model["epochs"] * -(-n_train // min(model["batch_size"], n_train))


def progress_bar(total: int, what: str):
    """A progress bar that counts finished runs."""
    progress = Progress(TextColumn(f"[bold]{what}[/]"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=False)
    task = progress.add_task(what, total=total)
    return progress, lambda record: progress.advance(task)


def summary_table(rows) -> tuple[list[str], list[list[str]]]:
    """Columns and formatted rows shared by the terminal table and the report."""
    has_dev = any(r.dev is not None for r in rows)
    columns = ["setting", "regularization", "train %"] + (["dev %"] if has_dev else []) + [
        "test %", "gap (train-test)", "weight norm", "|w|<1e-3 %", "time s"]
    body = []
    for r in rows:
        line = [r.setting, r.description, r.train.format(100)]
        if has_dev:
            line.append(r.dev.format(100) if r.dev is not None else "")
        line += [r.test.format(100), r.gap.format(100), r.weight_norm.format(1, 2),
                 r.near_zero.format(100), r.seconds.format(1, 2)]
        if r.n_failed:
            line[0] += f" ({r.n_failed} failed)"
        body.append(line)
    return columns, body


def print_table(columns, body, title):
    table = RichTable(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i < 2 else "right")
    for line in body:
        table.add_row(*line)
    console.print(table)


def write_csv(path: Path, records) -> None:
    fields = ["setting", "seed", "l2", "l1", "keep_prob", "train_accuracy", "dev_accuracy",
              "test_accuracy", "gap", "weight_norm", "near_zero", "seconds", "steps",
              "stop_reason", "error"]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        for r in records:
            keep = r.params.get("keep_prob", 1.0)
            writer.writerow([r.group, r.seed, r.params.get("l2", 0.0), r.params.get("l1", 0.0),
                             ",".join(map(str, keep)) if isinstance(keep, list) else keep,
                             r.train_accuracy, r.dev_accuracy, r.test_accuracy, r.gap,
                             r.weight_norm, r.near_zero, r.seconds, r.steps, r.stop_reason,
                             r.error or ""])


def make_figures(out: Path, data, settings, records) -> list[tuple[str, Path]]:
    """The compare figures; returns ``(caption, path)`` pairs."""
    from ..report import plots

    ok = [r for r in records if r.error is None]
    first = {}
    for r in sorted(ok, key=lambda r: r.seed):
        first.setdefault(r.group, r)
    names = [s.name for s in settings if s.name in first]
    figures = []
    if data.n_features == 2:
        panels = [(name, first[name].network,
                   f"train {first[name].train_accuracy:.1%} · test {first[name].test_accuracy:.1%}")
                  for name in names]
        figures.append((f"Decision boundaries (seed {min(r.seed for r in ok)}): filled points are "
                        "training examples, hollow ones test examples.",
                        plots.decision_boundaries(panels, data, out / "decision_boundaries.png")))
    by = lambda name: [r for r in ok if r.group == name]  # noqa: E731
    figures.append(("Training cost (with the penalty and dropout in force) over iterations: "
                    "mean over seeds with its band.",
                    plots.cost_curves({n: [r.costs for r in by(n)] for n in names},
                                      out / "cost_curves.png")))
    figures.append(("Frobenius norm of each weight matrix during training.",
                    plots.weight_norms({n: [(r.history["eval_steps"], r.history["weight_norms"])
                                            for r in by(n)] for n in names},
                                       out / "weight_norms.png")))
    figures.append(("Final weights, pooled over layers and seeds.",
                    plots.weight_histograms({n: np.concatenate([W.ravel() for r in by(n)
                                                                for W in r.network.weights])
                                             for n in names}, out / "weight_histograms.png")))
    return figures


@click.command()
@data_options(default="field")
@model_options(layers="40,20", iterations=10000)
@click.option("--l2", type=float, default=0.7, show_default=True, help="L2 strength of the L2 settings.")
@click.option("--l1", type=float, default=0.1, show_default=True, help="L1 strength of the L1 setting.")
@click.option("--keep-prob", type=FLOAT_LIST, default="0.8", show_default=True,
              help="Keep probability of the dropout settings (one, or one per hidden layer).")
@early_stopping_options
@augment_options
@click.option("--no-early-stopping", is_flag=True, help="Leave the early-stopping setting out.")
@click.option("--no-augment", is_flag=True, help="Leave the augmentation setting out.")
@click.option("--seeds", type=int, default=5, show_default=True, help="Seeds per setting.")
@click.option("--jobs", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--tune", is_flag=True, help="Choose each strength on a dev split first.")
@click.option("--course", "course_mode", is_flag=True,
              help="With --data football.mat: the course's table, exactly, beside the same settings over seeds.")
@click.option("--out", type=click.Path(file_okay=False), default="reglab-out", show_default=True)
@guarded
def compare(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size, l2, l1,
            keep_prob,
            early_stopping, augment, no_early_stopping, no_augment, seeds, jobs, tune, course_mode,
            out, **model):
    """Train one network under several regularizations over several seeds and compare them.

    Settings: none, L2, L1, dropout, L2 + dropout, early stopping (patience
    --early-stopping, default 10 evaluations) and data augmentation (--augment,
    default: shifts and rotations for images, small jitter otherwise). The data's
    dev set (or a quarter of the training set) is the dev set.
    """
    if seeds < 1:
        raise CommandError(f"--seeds must be >= 1, got {seeds}")
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise CommandError(f"--jobs must be >= 1, got {jobs}")
    if course_mode and tune:
        raise CommandError("--course runs the course's own strengths; it cannot be combined with --tune")
    if course_mode and not data_file:
        raise CommandError("--course needs the course's data: --data path/to/football.mat")
    if course_mode:  # the course fixes the network and the data; say so rather than ignore options
        ctx = click.get_current_context()
        given = [f"--{name.replace('_', '-')}" for name in ctx.params
                 if name not in ("data_file", "seeds", "jobs", "out", "course_mode", "engine")
                 and ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
        if given:
            raise CommandError(f"--course runs the course's own network and settings; "
                               f"{', '.join(given)} cannot be combined with it")
        load_football(data_file)  # refuses a file without the football layout, before training
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                     default="field", need_dev=not course_mode)
    seed_list = list(range(seeds))
    if course_mode:
        base = dataclasses.replace(course.football_config(), course_compat=False, record_every=300,
                                   engine=model["engine"])
        settings = [Setting("none"), Setting("l2", l2=0.7), Setting("dropout", keep_prob=0.86)]
    else:
        base = make_config(**model, record_every=max(1, total_steps(model, len(data.y_train)) // 100))
        patience = None if no_early_stopping else (10 if early_stopping is None else early_stopping)
        augment = None if no_augment else (augment or default_augment(data))
        settings = default_settings(l2, l1, keep_prob, patience, augment)
    check_settings(data, base, settings)  # before anything is written or trained
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = RunLog(out / "runs.jsonl")
    log.clear()
    console.print(f"[bold]{data.summary()}[/]")
    started = time.perf_counter()
    tuned = None
    if tune:
        tune_seeds = seed_list[:3]
        n_tune = sum(len(v) for v in GRIDS.values())
        progress, advance = progress_bar(n_tune * len(tune_seeds), "tuning on dev")
        with progress:
            tuned, _ = tune_strengths(data, base, tune_seeds, jobs=jobs, on_done=advance)
        console.print("chosen on dev: " + ", ".join(f"{k} = {v:g}" for k, v in tuned.items()))
        settings = default_settings(tuned["l2"], tuned["l1"], tuned["keep_prob"], patience, augment)

    course_records = []
    total = len(settings) * seeds + (len(course.FOOTBALL) if course_mode else 0)
    progress, advance = progress_bar(total, "training")

    def done(record):
        log.append(record)
        advance(record)

    with progress:
        if course_mode:
            exact = dataclasses.replace(base, course_compat=True)
            course_settings = [Setting(COURSE_PREFIX + s.name, s.l2, s.l1, s.keep_prob) for s in settings]
            course_records = compare_settings(data, exact, course_settings, [0], jobs=jobs, on_done=done)
        records = compare_settings(data, base, settings, seed_list, jobs=jobs, on_done=done)
    interrupted = len(records) + len(course_records) < total
    all_settings = (course_settings if course_mode else []) + settings
    rows = summarize(course_records + records, all_settings)
    everything = course_records + records
    if not any(r.error is None for r in everything):
        first = next((r.error for r in everything), "interrupted before any run finished")
        raise CommandError(f"no run finished; the first error: {first}")
    columns, body = summary_table(rows)
    failed = {s.name: [r.error for r in everything if r.group == s.name and r.error]
              for s in all_settings if s.name not in {row.setting for row in rows}}
    failed = {name: errors for name, errors in failed.items() if errors}
    for name, errors in failed.items():
        body.append([f"{name} (all {len(errors)} runs failed)", errors[0]] + [""] * (len(columns) - 2))
    print_table(columns, body, f"{data.name}: {seeds} seed(s) per setting; mean ± 95% interval")
    if interrupted:
        console.print(f"[yellow]interrupted: {len(records) + len(course_records)} of {total} runs "
                      f"finished; writing what there is[/]")
    checks = _course_checks(course_records, data) if course_mode else []
    if checks:
        print_table(["run", "figure", "published", "reglab", "check"],
                    [[c.run, c.quantity, f"{c.published:.4g}", f"{c.computed:.4g}",
                      "PASS" if c.passed else "FAIL"] for c in checks],
                    "The course's table, exactly (course-compatible randomness)")
    payload = {"dataset": {"name": data.name, "summary": data.summary(), "description": data.description},
               "config": base.to_dict(), "seeds": seed_list,
               "settings": [dataclasses.asdict(s) for s in all_settings],
               "tuned": tuned, "summary": [r.to_dict() for r in rows],
               "course_checks": [c.to_dict() for c in checks],
               "runs": [r.to_json() for r in everything], "interrupted": interrupted,
               "seconds": time.perf_counter() - started}
    write_json(out / "results.json", payload)
    write_csv(out / "results.csv", everything)
    with console.status("drawing figures and the report"):
        figures = make_figures(out, data, all_settings, everything)
        report = _write_report(out, data, base, columns, body, figures, tuned, checks, seeds, rows)
    console.print(f"Wrote {report}, {len(figures)} figures, results.json and results.csv to {out}/ "
                  f"in {time.perf_counter() - started:.1f} s")
    if failed:
        raise CommandFailed(f"every run of {', '.join(failed)} failed; see the table and {log.path}")


def _course_checks(course_records, data):
    checks = []
    for r in course_records:
        run = {"none": "no_regularization"}.get(r.group[len(COURSE_PREFIX):], r.group[len(COURSE_PREFIX):])
        figures = course.FOOTBALL[run]
        checks.append(course.Check("football", run, "train_accuracy", figures["train_accuracy"],
                                   r.train_accuracy, 0.0))
        checks.append(course.Check("football", run, "test_accuracy", figures["test_accuracy"],
                                   r.test_accuracy, 0.0))
    return checks


def diagnosis_section(rows):
    """Bias/variance verdict per setting from its mean errors (baseline 0)."""
    from ..experiments.diagnose import diagnose
    from ..report.html import Section, Table

    lines = []
    for r in rows:
        if r.dev is None:
            continue
        d = diagnose(1 - r.train.mean, 1 - r.dev.mean, 1 - r.test.mean)
        lines.append([r.setting, f"{d.train_error:.1%}", f"{d.dev_error:.1%}", f"{d.test_error:.1%}",
                      d.verdict, "; ".join(d.remedies[:2]) if d.cases != ("fine",) else ""])
    if not lines:
        return None
    return Section("Bias and variance", text=(
        "Each setting's mean errors read as the lecture does: train error against a baseline "
        "(human or Bayes error, taken as 0 here) is the avoidable bias; dev minus train error is "
        "the variance; test minus dev error flags a dev/test mismatch. A gap above 2 points counts "
        "as high. `reglab diagnose` gives the same reading for any numbers or network."),
        table=Table(["setting", "train error", "dev error", "test error", "verdict", "remedies"], lines))


def _write_report(out, data, base, columns, body, figures, tuned, checks, seeds, rows) -> Path:
    from ..report.html import Section, Table, write_report

    intro = (f"Data: {data.summary()}. {data.description}\n\n"
             f"Network: {data.n_features} inputs, hidden layers {list(base.layers)} ({base.hidden}), "
             f"init {base.init}, learning rate {base.learning_rate:g}, "
             + (f"{base.iterations} full-batch iterations" if base.epochs is None
                else f"{base.epochs} epochs of mini-batches of {base.batch_size}")
             + f". Each setting was trained with {seeds} seed(s): the seed changes the initial "
               "weights, the dropout masks and the mini-batch order; the data stay the same. "
               "Figures are means with 95% Student-t intervals over the seeds.")
    sections = [Section("Results", table=Table(columns, body, caption="Accuracies in %; "
                                               "gap = train - test accuracy."))]
    if tuned:
        sections.append(Section("Strengths chosen on the dev set",
                                text=", ".join(f"{k} = {v:g}" for k, v in tuned.items())
                                + ". Test figures were computed only for the chosen values."))
    if checks:
        sections.append(Section("The course's table, reproduced", table=Table(
            ["run", "figure", "published", "reglab", "check"],
            [[c.run, c.quantity, f"{c.published:.4g}", f"{c.computed:.4g}",
              "PASS" if c.passed else "FAIL"] for c in checks])))
    diagnosis = diagnosis_section(rows)
    if diagnosis is not None:
        sections.append(diagnosis)
    sections.append(Section("Figures", images=figures))
    return write_report(out / "report.html", title=f"reglab compare: {data.name}", intro=intro,
                        sections=sections)
