"""``reglab compare``: settings x seeds, a table, plots and a report."""

from __future__ import annotations

import csv
import dataclasses
import time
from io import StringIO
from pathlib import Path

import click
from click.core import ParameterSource
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..io import write_whole
from ..experiments import course
from .._validation import check_float
from .common import (exit_interrupted, FLOAT_LIST, CommandError, CommandFailed, augment_options, console, data_options,
                         early_stopping_options, guarded, load_data, make_config, model_options,
                         write_json)
from ..experiments.compare import (GRIDS, Setting, check_settings, compare as compare_settings, default_augment,
                      default_settings, summarize, tune as tune_strengths)
from ..data import load_football
from ..experiments.cv import CV_CAVEAT, check_cv, cv_record, fold_data, pooled, sample_phrase
from ..experiments.runner import RunLog, check_resources, default_jobs, interrupted_by
from .common import check_output_folder, lock_output, refuse_unused_options, warn
from .cluster import open_cluster, scheduler_option
from .compare_report import (COURSE_PREFIX, course_sentences, diagnoses, diagnosis_section, display_name,
                             make_figures, print_summary, print_table, summary_title, tune_scores,
                             write_report)

CV_HELP = ("Stratified K-fold cross-validation over the training data (train and dev pooled): every "
           "setting runs on K folds x --seeds seeds, each fold's held-out part as its dev set; the "
           "test set is untouched.")


def total_steps(model: dict, n_train: int) -> int:
    """Gradient steps of a run: iterations, or epochs times batches per epoch."""
    if model.get("epochs") is None:
        return model["iterations"]
    return model["epochs"] * -(-n_train // min(model["batch_size"], n_train))


def progress_bar(total: int, what: str):
    """A progress bar that counts finished runs."""
    progress = Progress(TextColumn(what, style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=False)
    task = progress.add_task(what, total=total)
    return progress, lambda record: progress.advance(task)


def write_csv(path: Path, records) -> None:
    fields = ["setting", "fold", "seed", "l2", "l1", "keep_prob", "train_accuracy", "dev_accuracy",
              "test_accuracy", "gap", "weight_norm", "near_zero", "seconds", "steps",
              "stop_reason", "error"]
    f = StringIO()  # then written whole: a kill never leaves half a results.csv
    writer = csv.writer(f)
    writer.writerow(fields)
    for r in records:
        keep = r.params.get("keep_prob", 1.0)
        writer.writerow([r.group, "" if r.fold is None else r.fold, r.seed, r.params.get("l2", 0.0),
                         r.params.get("l1", 0.0),
                         ",".join(map(str, keep)) if isinstance(keep, list) else keep,
                         r.train_accuracy, r.dev_accuracy, r.test_accuracy, r.gap,
                         r.weight_norm, r.near_zero, r.seconds, r.steps, r.stop_reason,
                         r.error or ""])
    text = f.getvalue()  # csv ends its lines with \r\n: written as they are
    write_whole(path, lambda t: Path(t).write_text(text, newline=""))


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
@click.option("--cv", type=int, default=None, metavar="K", help=CV_HELP)
@click.option("--jobs", type=int, default=None, help="Worker processes (default: all cores).")
@scheduler_option
@click.option("--tune", is_flag=True, help="Choose each strength on a dev split first.")
@click.option("--baseline", type=float, default=None,
              help="Best achievable error (human / Bayes), a fraction, for the bias/variance reading "
                   "[default: the data set's own when it knows it (field: its flipped labels), else 0].")
@click.option("--course", "course_mode", is_flag=True,
              help="With --data football.mat: the course's table, exactly, beside the same settings over seeds.")
@click.option("--out", type=click.Path(file_okay=False), default="reglab-out", show_default=True)
@guarded
def compare(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size, l2, l1,
            keep_prob,
            early_stopping, augment, no_early_stopping, no_augment, seeds, cv, jobs, scheduler, tune,
            baseline,
            course_mode, out, **model):
    """Train one network under several regularizations over several seeds and compare them.

    Settings: none, L2, L1, dropout, L2 + dropout, early stopping (patience
    --early-stopping, default 10 evaluations) and data augmentation (--augment,
    default: shifts and rotations for images, small jitter otherwise). The data's
    dev set (or a quarter of the training set) is the dev set; with --cv K, each
    fold's held-out part.
    """
    if seeds < 1:
        raise CommandError(f"--seeds must be >= 1, got {seeds}")
    if cv is not None and tune:
        raise CommandError("--tune chooses the strengths on the data set's one dev split, which --cv "
                           "folds into the training data: run --tune without --cv, then --cv with the "
                           "chosen --l2, --l1 and --keep-prob")
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise CommandError(f"--jobs must be >= 1, got {jobs}")
    from ..experiments.diagnose import choose_baseline
    if baseline is not None:
        check_float(baseline, "--baseline", low=0, high=1)
    if course_mode and tune:
        raise CommandError("--course runs the course's own strengths; it cannot be combined with --tune")
    check_output_folder(out)
    if not course_mode:
        refuse_unused_options(dict(model, early_stopping=early_stopping, augment=augment),
                              early_stopping=not no_early_stopping, augment=not no_augment)
        for flag, off, name in ((early_stopping, no_early_stopping, "--early-stopping"),
                                (augment, no_augment, "--augment")):
            if flag is not None and off:
                raise CommandError(f"{name} sets the {name[2:]} setting, which --no-{name[2:]} leaves out")
    if course_mode and not data_file:
        raise CommandError("--course needs the course's data: --data path/to/football.mat")
    if course_mode:  # the course fixes the network and the data; say so rather than ignore options
        ctx = click.get_current_context()
        given = [f"--{name.replace('_', '-')}" for name in ctx.params
                 if name not in ("data_file", "seeds", "jobs", "scheduler", "out", "course_mode", "engine")
                 and ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
        if given:
            raise CommandError(f"--course runs the course's own network and settings; "
                               f"{', '.join(given)} cannot be combined with it")
        load_football(data_file)  # refuses a file without the football layout, before training
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                     default="field", need_dev=not course_mode, verb="compare")
    seed_list = list(range(seeds))
    cv = None if cv is None else check_cv(cv, data, "--cv")
    shape = fold_data(data, 0, cv) if cv else data  # what one run trains on (sizes, dev set)
    if course_mode:
        base = dataclasses.replace(course.football_config(), course_compat=False, record_every=300,
                                   engine=model["engine"])
        settings = [Setting("none"), Setting("l2", l2=0.7), Setting("dropout", keep_prob=0.86)]
    else:
        base = make_config(**model, record_every=max(1, total_steps(model, len(shape.y_train)) // 100))
        patience = None if no_early_stopping else (10 if early_stopping is None else early_stopping)
        augment = None if no_augment else (augment or default_augment(data))
        settings = default_settings(l2, l1, keep_prob, patience, augment)
    check_settings(shape, base, settings)  # before anything is written or trained
    client = open_cluster(scheduler)  # None without --scheduler: the local pool runs
    if client is None:  # a cluster's workers have their own memory
        check_resources(shape, [dataclasses.replace(base, **s.params) for s in settings], jobs)
    out = Path(out)
    lock_output(out)  # one writer per folder, until the command ends
    log = RunLog(out / "runs.jsonl")
    log.clear()
    console.print(data.summary(), style="bold")
    started = time.perf_counter()
    tuned, tune_records = None, []
    if tune:
        tune_seeds = seed_list[:3]
        n_tune = sum(len(v) for v in GRIDS.values())
        progress, advance = progress_bar(n_tune * len(tune_seeds), "tuning on dev")
        with progress:
            tuned, tune_records = tune_strengths(data, base, tune_seeds, jobs=jobs, on_done=advance,
                                                   scheduler=client)
        console.print("chosen on dev: " + ", ".join(f"{k} = {v:g}" for k, v in tuned.items()))
        settings = default_settings(tuned["l2"], tuned["l1"], tuned["keep_prob"], patience, augment)

    course_records = []
    total = len(settings) * seeds * (cv or 1) + (len(course.FOOTBALL) if course_mode else 0)
    progress, advance = progress_bar(total, "training")

    def done(record):
        log.append(record)
        advance(record)

    with progress:
        if course_mode:
            exact = dataclasses.replace(base, course_compat=True)
            course_settings = [Setting(COURSE_PREFIX + s.name, s.l2, s.l1, s.keep_prob) for s in settings]
            course_records = compare_settings(data, exact, course_settings, [0], jobs=jobs, on_done=done,
                                              scheduler=client)
        # an interrupted course part must not go on to the seeds
        stopped = interrupted_by() if course_mode else None
        records = [] if stopped else compare_settings(data, base, settings, seed_list, cv=cv, jobs=jobs,
                                                      on_done=done, scheduler=client)
        stopped = stopped or interrupted_by()
    interrupted = len(records) + len(course_records) < total
    all_settings = (course_settings if course_mode else []) + settings
    rows = summarize(course_records + records, all_settings)
    everything = course_records + records
    if not any(r.error is None for r in everything):
        if interrupted and not any(r.error for r in everything):
            exit_interrupted(f"interrupted before any run finished; nothing to write in {out}/",
                             interrupted_by())
        first = next((r.error for r in everything), "interrupted before any run finished")
        raise CommandError(f"no run finished; the first error: {first}")
    names = {s.name: display_name(s) for s in all_settings}
    failed = {s.name: [r.error for r in everything if r.group == s.name and r.error]
              for s in all_settings if s.name not in {row.setting for row in rows}}
    failed = {name: errors for name, errors in failed.items() if errors}
    print_summary(rows, names, summary_title(data.name, seeds, cv))
    for name, errors in failed.items():
        console.print(f"{names[name]}: all {len(errors)} runs failed; the first: {errors[0]}", style="red")
    if interrupted:
        warn(f"interrupted: {len(records) + len(course_records)} of {total} runs finished; "
             f"writing what there is")
    checks = _course_checks(course_records, data) if course_mode else []
    if checks:
        print_table(["run", "figure", "published", "reglab", "check"],
                    [[c.run, c.quantity, f"{c.published:.4g}", f"{c.computed:.4g}",
                      "PASS" if c.passed else "FAIL"] for c in checks],
                    "The course's table, exactly (course-compatible randomness)")
    baseline, source = choose_baseline(baseline, data, given_as="given with --baseline")
    # with folds the mean dev error is measured on every pooled example (each held out once)
    n_dev = len(pooled(data)[1]) if cv else len(data.y_dev) if data.has_dev else None
    found = diagnoses(rows, everything, shape, all_settings, baseline, source, n_dev)
    takeaways = _takeaways(rows, names, found, baseline, source, course_records, records, tuned,
                           tune_records, sample_phrase(seeds, cv))
    console.print("Takeaways", style="bold")
    for sentence in takeaways:
        console.print(f"- {sentence}", markup=False)
    payload = {"dataset": {"name": data.name, "summary": data.summary(), "description": data.description},
               "config": base.to_dict(), "seeds": seed_list, "cv": cv_record(data, cv),
               "intervals": f"mean and 95% Student-t interval over {sample_phrase(seeds, cv)}"
                            + (f"; {CV_CAVEAT}" if cv else ""),
               "settings": [dataclasses.asdict(s) for s in all_settings],
               "tuned": tuned, "summary": [r.to_dict() for r in rows],
               "course_checks": [c.to_dict() for c in checks],
               "baseline": {"value": baseline, "source": source}, "takeaways": takeaways,
               "diagnosis": {k: d.to_dict() for k, d in found.items()},
               "runs": [r.to_json() for r in everything], "interrupted": interrupted,
               "seconds": time.perf_counter() - started}
    write_json(out / "results.json", payload)
    write_csv(out / "results.csv", everything)
    with console.status("drawing figures and the report"):
        figures = make_figures(out, shape, all_settings, everything)
        report = write_report(out, data, base, rows, names, figures, seeds=seeds, cv=cv,
                              takeaways=takeaways,
                              tuned=tuned, scores=tune_scores(tune_records, GRIDS) if tuned else None,
                              checks=checks,
                              diagnosis=diagnosis_section(found, names, baseline, source, n_dev,
                                                          cv) if found else None)
    console.print(f"Wrote {report}, {len(figures)} figure{'s' * (len(figures) != 1)}, results.json and results.csv to {out}/ "
                  f"in {time.perf_counter() - started:.1f} s")
    if stopped:  # what finished is written; the exit says it is not all
        exit_interrupted(f"{len(everything)} of {total} runs finished before the interruption; "
                         f"their results are in {out}/", stopped)
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


def _takeaways(rows, names, found, baseline, source, course_records, records, tuned, tune_records,
               sample):
    from ..experiments.takeaways import compare_takeaways, diagnosis_takeaways, tune_takeaways

    seeded = [r for r in rows if not r.setting.startswith(COURSE_PREFIX)]
    shown = [dataclasses.replace(r, description=names[r.setting]) for r in seeded]
    out = course_sentences(course_records, records, seeded) if course_records else []
    out += compare_takeaways(shown, sample=sample) if shown else []
    if tuned:
        out += tune_takeaways(tune_scores(tune_records, GRIDS), tuned,
                              labels={"l2": "L2", "l1": "L1", "keep_prob": "keep_prob"})
    if found:
        out += diagnosis_takeaways(found, names, baseline, source)
    return out
