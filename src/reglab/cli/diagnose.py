"""``reglab diagnose``: bias, variance and dev/test mismatch, from numbers or from training."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource
from rich.table import Table

from .._validation import check_float
from .common import (CommandError, check_output_file, check_output_folder, console, data_options,
                     exit_interrupted, guarded, load_data, make_config, model_options,
                     refuse_unused_options, regularization_options, write_json)
from ..experiments.diagnose import choose_baseline, diagnose as diagnose_errors

NUMBER_OPTIONS = ("train_error", "dev_error", "test_error")


class SizeList(click.ParamType):
    """``0.1,0.5,1.0`` (fractions) or ``20,50,100`` (counts): integers stay integers."""

    name = "sizes"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        out = []
        tokens = [t.strip() for t in str(value).split(",")]
        if any(not t for t in tokens):
            self.fail(f"expected comma-separated fractions (0.1,0.5,1.0) or counts (20,50,100), "
                      f"got {value!r}, which has an empty field", param, ctx)
        for token in tokens:
            try:
                out.append(int(token))
            except ValueError:
                try:
                    out.append(float(token))
                except ValueError:
                    self.fail(f"expected comma-separated fractions (0.1,0.5,1.0) or counts "
                              f"(20,50,100), got {value!r}", param, ctx)
        return tuple(out)


def _check_destination(path, option: str, what: str) -> None:
    """Refuse, before any training, a destination that cannot be written: an empty name,
    or one below an existing file."""
    if path is None:
        return
    if not str(path).strip():
        raise CommandError(f"{option} needs a {what} name, got an empty string")
    for parent in Path(path).parents:
        if parent.exists():
            if not parent.is_dir():
                raise CommandError(f"{option} {path}: cannot write there, {parent} is a file, not a folder")
            break


def _print_diagnosis(d) -> None:
    console.print(d.format(), markup=False, end="")
    console.print()
    console.print(d.explanation(), markup=False, soft_wrap=True)


@click.command("diagnose")
@click.option("--train-error", type=float, default=None,
              help="Measured training error, a fraction (0.01 is 1%); with --dev-error, diagnose "
                   "these numbers instead of training.")
@click.option("--dev-error", type=float, default=None, help="Measured dev error, a fraction.")
@click.option("--test-error", type=float, default=None,
              help="Measured test error, a fraction (checks dev/test mismatch).")
@click.option("--baseline", type=float, default=None,
              help="Human-level / Bayes error, a fraction [default: the data set's own when it knows it "
                   "(field: its flipped labels), else 0].")
@click.option("--threshold", type=float, default=0.02, show_default=True,
              help="A gap (avoidable bias, variance, mismatch) above this fraction counts as high.")
@data_options(default="breast_cancer")
@model_options()
@regularization_options
@click.option("--seeds", type=int, default=3, show_default=True,
              help="Training runs (seeds --seed, --seed + 1, ...); errors are averaged over them.")
@click.option("--jobs", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--learning-curve", "with_curve", is_flag=True,
              help="Also train on growing subsets of the training set and draw learning_curve.png.")
@click.option("--sizes", type=SizeList(), default="0.1,0.2,0.4,0.7,1.0", show_default=True,
              help="Training-set sizes of the learning curve: fractions (1.0 is all) or counts.")
@click.option("--out", type=click.Path(file_okay=False), default="reglab-diagnose", show_default=True,
              help="Folder of learning_curve.png.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write the diagnosis and the measured errors to this JSON file.")
@guarded
def diagnose(train_error, dev_error, test_error, baseline, threshold, data_file, dataset, label,
             n_samples, noise, data_seed, with_dev, seeds, jobs, with_curve, sizes, out, json_out,
             train_size=None, **model):
    """Diagnose high bias, high variance or a dev/test mismatch, and say what to try.

    Either give measured errors (--train-error 0.01 --dev-error 0.11), or let it
    train the network described by the options (on breast_cancer by default, a
    dev set always held out) over several seeds and diagnose the mean errors.
    """
    if baseline is not None:
        baseline = check_float(baseline, "--baseline", low=0, high=1)
    threshold = check_float(threshold, "--threshold", low=0, high=1)
    ctx = click.get_current_context()
    _check_destination(json_out, "--json", "file")
    check_output_file(json_out, "--json")  # a folder, or one that cannot be written
    given = [name for name in NUMBER_OPTIONS if ctx.params[name] is not None]
    if given:
        training = [p.opts[0] for p in ctx.command.params
                    if p.name not in (*NUMBER_OPTIONS, "baseline", "threshold", "json_out")
                    and ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE]
        if training:
            raise CommandError(f"give measured errors (--train-error, --dev-error) or training options, "
                               f"not both; got {', '.join(training)} with --{given[0].replace('_', '-')}")
        if train_error is None or dev_error is None:
            raise CommandError("diagnosing numbers needs both --train-error and --dev-error")
        for name in given:  # name the options in the messages, not the Python arguments
            check_float(ctx.params[name], f"--{name.replace('_', '-')}", low=0, high=1)
        value, source = choose_baseline(baseline, None, given_as="given with --baseline")
        if baseline is None:
            source = "assumed 0; give --baseline to set it"
        d = diagnose_errors(train_error, dev_error, test_error, baseline=value, threshold=threshold,
                            baseline_source=source)
        _print_diagnosis(d)
        if json_out:
            write_json(json_out, {"diagnosis": d.to_dict()})
        return
    _train_and_diagnose(ctx, data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                        seeds, jobs, with_curve, sizes, out, json_out, baseline, threshold, model)


def _train_and_diagnose(ctx, data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                        n_seeds, jobs, with_curve, sizes, out, json_out, baseline, threshold, model):
    from .compare import total_steps
    from ..experiments.learning_curves import check_train_sizes, learning_curve
    from ..experiments.runner import RunSpec, default_jobs, interrupted_by, run_all
    from ..experiments.stats import mean_ci

    if not with_dev and ctx.get_parameter_source("with_dev") == ParameterSource.COMMANDLINE:
        raise CommandError("diagnose needs a dev set to measure variance; drop --no-dev")
    if n_seeds < 1:
        raise CommandError(f"--seeds must be >= 1, got {n_seeds}")
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise CommandError(f"--jobs must be >= 1, got {jobs}")
    refuse_unused_options(model)
    if with_curve:
        _check_destination(out, "--out", "folder")
        check_output_folder(out)
    data = load_data(data_file, dataset, label, n_samples, noise, data_seed, with_dev, train_size,
                     default="breast_cancer", need_dev=True, verb="diagnose")
    if with_curve:
        check_train_sizes(list(sizes), len(data.y_train))
    first = model.pop("seed")
    seeds = list(range(first, first + n_seeds))
    config = make_config(**model, record_every=total_steps(model, len(data.y_train)))  # at the end
    console.print(data.summary(), style="bold")
    with console.status(f"training {n_seeds} run(s)"):
        records = run_all([RunSpec("diagnose", {}, s) for s in seeds], data, config, jobs=jobs)
    if interrupted_by() is not None:  # run_all returns what finished: not the seeds asked for
        exit_interrupted(f"interrupted after {len(records)} of {n_seeds} run(s); nothing written",
                         interrupted_by())
    ok = [r for r in records if r.error is None]
    for r in records:
        if r.error:
            console.print(f"seed {r.seed} failed: {r.error}", style="red")
    if not ok:
        raise CommandError(f"every run failed; the first: {records[0].error}")
    ok.sort(key=lambda r: r.seed)
    measured = {}
    for split in ("train", "dev", "test"):
        errors = [1.0 - getattr(r, f"{split}_accuracy") for r in ok]
        measured[f"{split}_error"] = {**mean_ci(errors).to_dict(), "per_seed": errors}
    console.print(f"Measured errors over {len(ok)} seed(s), mean ± 95% interval:")
    table = Table()
    for col in ("split", "error %", "per seed %"):
        table.add_column(col, justify="left" if col == "split" else "right")
    for split in ("train", "dev", "test"):
        m = measured[f"{split}_error"]
        table.add_row(split, mean_ci(m["per_seed"]).format(100, 2),
                      " ".join(f"{e * 100:.2f}" for e in m["per_seed"]))
    console.print(table)
    baseline, source = choose_baseline(baseline, data, given_as="given with --baseline")
    d = diagnose_errors(*(measured[f"{s}_error"]["mean"] for s in ("train", "dev", "test")),
                        baseline=baseline, threshold=threshold, baseline_source=source)
    _print_diagnosis(d)
    payload = {"dataset": data.summary(), "config": config.to_dict(), "seeds": [r.seed for r in ok],
               "measured": measured, "diagnosis": d.to_dict()}
    if with_curve:
        from ..report import plots
        with console.status("learning curve"):
            lc = learning_curve(data, config, list(sizes), seeds, jobs=jobs)
            path = plots.learning_curve(lc.sizes, lc.train_error, lc.dev_error,
                                        Path(out) / "learning_curve.png", baseline=baseline)
        console.print("Learning curve, mean error over seeds:")
        curve = Table()
        for col in ("training examples", "train %", "dev %"):
            curve.add_column(col, justify="right")
        for n, tr, dv in zip(lc.sizes, lc.train_error.mean(axis=1), lc.dev_error.mean(axis=1)):
            curve.add_row(str(n), f"{tr * 100:.2f}", f"{dv * 100:.2f}")
        console.print(curve)
        from ..experiments.takeaways import learning_curve_takeaways
        takeaways = learning_curve_takeaways(lc.sizes, lc.train_error, lc.dev_error, baseline, source)
        console.print("Takeaways", style="bold")
        for sentence in takeaways:
            console.print(f"- {sentence}", markup=False)
        report = _write_report(Path(out), data, config, d, measured, lc, path, takeaways)
        console.print(f"Wrote {path} and {report}")
        payload["learning_curve"] = lc.to_dict()
    if json_out:
        write_json(json_out, payload)


def _write_report(out: Path, data, config, d, measured, lc, curve_png, takeaways) -> Path:
    """A single-file report: the measured errors, the verdict, the learning curve."""
    from ..report.html import Section, Table as ReportTable, write_report

    rows = [[split, f"{measured[f'{split}_error']['mean']:.2%}"] for split in ("train", "dev", "test")]
    curve = [[str(n), f"{tr:.2%}", f"{dv:.2%}"]
             for n, tr, dv in zip(lc.sizes, lc.train_error.mean(axis=1), lc.dev_error.mean(axis=1))]
    return write_report(out / "report.html", title=f"reglab diagnose: {data.name}",
                        intro=f"Data: {data.summary()}. Network: hidden layers {list(config.layers)} "
                              f"({config.hidden}), {config.iterations} iterations.",
                        sections=[Section("Takeaways", items=takeaways),
                                  Section(f"Diagnosis: {d.verdict}", text=d.explanation()
                                          + "\n\nRemedies: " + "; ".join(d.remedies) + ".",
                                          table=ReportTable(["split", "mean error"], rows)),
                                  Section("Learning curve", table=ReportTable(
                                      ["training examples", "train error", "dev error"], curve),
                                      images=[("Train and dev error as the training set grows: "
                                               "mean over seeds, band from min to max.", curve_png)])])
