"""The tables, figures, bias/variance reading, takeaways and HTML report of ``reglab compare``.

Kept apart from :mod:`reglab.cli.compare` (options and the runs) so that each
stays short. Settings are shown by what they do with their strengths
(``"L2 0.7 + dropout keep 0.8"``), never by their internal keys.
"""

from __future__ import annotations

import numpy as np
from rich import box
from rich.table import Table as RichTable

from .common import console
from ..experiments.stats import mean_ci

COURSE_PREFIX = "course "


def display_name(setting) -> str:
    """What a setting does, with its strengths; the course's exact runs say so."""
    text = setting.describe()
    return f"{COURSE_PREFIX}{text}" if setting.name.startswith(COURSE_PREFIX) else text


def setting_colors(settings) -> dict:
    """``{display name: colour}``: each setting keeps the colour of its key in every figure."""
    from ..report.plots import setting_colors as by_key
    colors = by_key([s.name for s in settings])
    return {display_name(s): colors[s.name] for s in settings}


# --- tables ---------------------------------------------------------------------------------

def summary_table(rows, names: dict, *, narrow: bool = False) -> tuple[list[str], list[list[str]]]:
    """Columns and formatted rows of the results; ``narrow`` keeps the accuracies and the
    gap only (for a terminal of about 80 columns)."""
    has_dev = any(r.dev is not None for r in rows)
    columns = ["setting", "train %"] + (["dev %"] if has_dev else []) + ["test %", "gap"]
    if not narrow:
        columns[-1] = "gap (train-test)"
        columns += ["weight norm", "|w|<1e-3 %", "time s"]
    body = []
    for r in rows:
        line = [names.get(r.setting, r.setting), r.train.format(100)]
        if has_dev:
            line.append(r.dev.format(100) if r.dev is not None else "")
        line += [r.test.format(100), r.gap.format(100)]
        if not narrow:
            line += [r.weight_norm.format(1, 2), r.near_zero.format(100), r.seconds.format(1, 2)]
        if r.n_failed:
            line[0] += f" ({r.n_failed} failed)"
        body.append(line)
    return columns, body


def natural_width(columns, body) -> int:
    """Characters a boxed rich table of these cells needs on one line per row."""
    widths = [max(len(str(c)) for c in col) for col in zip(columns, *body)]
    return sum(widths) + 3 * len(widths) + 1


def print_table(columns, body, title) -> None:
    """A rich table; when it would not fit the terminal it drops the frame, and numbers
    never wrap (a name may wrap onto a second line, never be cut)."""
    fits = natural_width(columns, body) <= console.width
    table = RichTable(title=title, title_justify="left", box=box.HEAVY_HEAD if fits else box.SIMPLE_HEAD,
                      padding=(0, 1), pad_edge=fits, show_edge=fits, collapse_padding=not fits)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=i > 0,
                         overflow="fold")
    for line in body:
        table.add_row(*line)
    console.print(table)


def interval_phrase(seeds: int, cv: int | None) -> str:
    """``"mean ± 95% interval over 5 seeds"``, and with folds what they vary."""
    from ..experiments.cv import sample_phrase

    return (f"mean ± 95% interval over {sample_phrase(seeds, cv)}"
            + ("" if cv is None else ": the data split varies as well as the initial weights"))


def summary_title(name: str, seeds: int, cv: int | None) -> str:
    """The title of the results table: what the intervals are over."""
    if cv is None:
        return f"{name}: {seeds} seed(s) per setting; mean ± 95% interval"
    return f"{name}: {interval_phrase(seeds, cv)}"


def print_summary(rows, names, title) -> None:
    """The results table, compact when the full one does not fit."""
    columns, body = summary_table(rows, names)
    if natural_width(columns, body) > console.width:
        columns, body = summary_table(rows, names, narrow=True)
        print_table(columns, body, title)
        console.print("(weight norms, |w| < 1e-3 and times: results.csv and report.html)")
        return
    print_table(columns, body, title)


# --- bias and variance ----------------------------------------------------------------------

def diagnoses(rows, records, data, settings, baseline, source, n_dev: int | None = None) -> dict:
    """``{setting key: Diagnosis}`` from each setting's per-seed errors, thresholds from
    the noise of the figures (dev-set size and the spread over seeds). ``n_dev``: the
    examples the mean dev error is measured on, when not ``data``'s dev set (with
    cross-validation the held-out folds together hold every pooled example)."""
    from ..experiments.diagnose import diagnose, noise_thresholds, weaken_hint

    by_name = {s.name: s for s in settings}
    out = {}
    for r in rows:
        if r.dev is None:
            continue
        ok = [x for x in records if x.group == r.setting and x.error is None]
        errors = {k: [1 - getattr(x, f"{k}_accuracy") for x in ok] for k in ("train", "dev", "test")}
        noise = noise_thresholds(errors["train"], errors["dev"], errors["test"], n_train=len(data.y_train),
                                 n_dev=n_dev or len(data.y_dev), n_test=len(data.y_test),
                                 baseline=baseline)
        s = by_name[r.setting]
        knobs = dict(l2=s.l2, l1=s.l1, keep_prob=s.keep_prob, early_stopping=s.early_stopping,
                     augment=s.augment)
        regularized = s.describe() != "none"
        out[r.setting] = diagnose(np.mean(errors["train"]), np.mean(errors["dev"]), np.mean(errors["test"]),
                                  baseline=baseline, threshold=noise, baseline_source=source,
                                  regularization=s.describe() if regularized else None,
                                  weaken=weaken_hint(**knobs) if regularized else None,
                                  strengthen=weaken_hint(**knobs, stronger=True))
    return out


def diagnosis_section(found: dict, names: dict, baseline: float, source: str, n_dev: int,
                      cv: int | None = None):
    """The report's bias/variance section from :func:`diagnoses` (``n_dev`` as given there;
    ``cv`` the number of folds, or None)."""
    from ..experiments.diagnose import FINE, HIGH_BIAS, HIGH_VARIANCE
    from ..report.html import Section, Table

    if not found:
        return None
    lines = []
    for key, d in found.items():
        verdict = d.verdict if d.cases != (FINE,) else "within noise"
        gap = lambda value, i, case: (f"{value * 100:+.1f}{' HIGH' if case in d.cases else ''} "  # noqa: E731
                                      f"(noise ±{d.thresholds[i] * 100:.1f})")
        lines.append([names.get(key, key), f"{d.train_error:.1%}", f"{d.dev_error:.1%}",
                      gap(d.avoidable_bias, 0, HIGH_BIAS), gap(d.variance, 1, HIGH_VARIANCE), verdict,
                      "; ".join(d.remedies) if d.cases != (FINE,) else ""])
    text = (f"Baseline (the best achievable error): {baseline:.1%}; {source}. "
            "Each setting's mean errors read as the lecture does: train error minus the baseline is the "
            "avoidable bias, dev minus train error the variance. A gap counts as high only beyond the "
            "noise of its figures: two binomial standard errors of the errors it joins (one example of "
            + (f"the {n_dev}-example dev set is {100 / n_dev:.1f} points)" if cv is None else
               f"the dev sets, the {cv} held-out folds that together hold all {n_dev} pooled "
               f"examples, is {100 / n_dev:.1f} points)")
            + " combined with the spread of the gap over " + ("seeds" if cv is None else "folds and seeds")
            + "; that noise is given in brackets. A regularized setting with avoidable "
            "bias is over-regularized: the remedy is a weaker penalty, not a bigger network. "
            "`reglab diagnose` reads any numbers or network against the same baseline, with a "
            "fixed threshold (`--threshold`, 2 points by default) instead of these noise bands.")
    return Section("Bias and variance", text=text, table=Table(
        ["setting", "train error", "dev error", "avoidable bias, points", "variance, points", "verdict",
         "remedies"], lines))


# --- figures --------------------------------------------------------------------------------

def make_figures(out, data, settings, records) -> list[tuple[str, object]]:
    """The compare figures; returns ``(caption, path)`` pairs."""
    from ..report import plots
    from ..report.curves import training_curves

    ok = [r for r in records if r.error is None]
    first = {}  # the first seed's run (of fold 0 with cross-validation: ``data`` is that fold)
    for r in sorted(ok, key=lambda r: (r.fold or 0, r.seed)):
        first.setdefault(r.group, r)
    shown = [s for s in settings if s.name in first]
    names = {s.name: display_name(s) for s in shown}
    colors = setting_colors(shown)
    by = lambda key: [r for r in ok if r.group == key]  # noqa: E731
    over = "seeds" if all(r.fold is None for r in ok) else "folds and seeds"
    figures = []
    if data.has_dev and all(r.history.get("dev_cost") for r in ok):
        runs = {names[s.name]: [r.history for r in by(s.name)] for s in shown}
        figures.append(("Train and dev cost (the data term, without the penalty) during training: "
                        "where the dev cost turns up while the training cost keeps falling, the network "
                        "starts to overfit; that is where early stopping cuts (dotted line) or would cut "
                        "(star).", training_curves(runs, out / "training_cost.png", metric="cost")))
        figures.append((f"Train and dev accuracy during training, mean over {over} with its band.",
                        training_curves(runs, out / "training_accuracy.png", metric="accuracy")))
    if data.n_features == 2:
        panels = [(names[s.name], first[s.name].network,
                   f"train {first[s.name].train_accuracy:.1%} · test {first[s.name].test_accuracy:.1%}")
                  for s in shown]
        which = f"seed {min(r.seed for r in ok)}" + ("" if ok[0].fold is None else ", fold 0")
        figures.append((f"Decision boundaries ({which}): filled points are "
                        "training examples, hollow ones test examples.",
                        plots.decision_boundaries(panels, data, out / "decision_boundaries.png")))
    course_runs = any(s.name.startswith(COURSE_PREFIX) for s in shown)
    figures.append(("Training cost as gradient descent sees it (with the penalty and dropout in force), "
                    f"every step: mean over {over} with its band. A penalty raises it by design"
                    + ("; dashed lines with markers are the course's single runs." if course_runs else "."),
                    plots.cost_curves({names[s.name]: [r.costs for r in by(s.name)] for s in shown},
                                      out / "cost_curves.png", colors=colors)))
    figures.append(("Frobenius norm of each weight matrix during training.",
                    plots.weight_norms({names[s.name]: [(r.history["eval_steps"], r.history["weight_norms"])
                                                        for r in by(s.name)] for s in shown},
                                       out / "weight_norms.png", colors=colors)))
    figures.append((f"Final weights, pooled over layers and {over}.",
                    plots.weight_histograms({names[s.name]: np.concatenate(
                        [W.ravel() for r in by(s.name) for W in r.network.weights]) for s in shown},
                        out / "weight_histograms.png", colors=colors)))
    return figures


# --- takeaways ------------------------------------------------------------------------------

def tune_scores(records, grids) -> dict:
    """``{name: [(value, Interval of dev accuracy)]}`` of a tuning run, in grid order."""
    scores = {}
    for name, values in grids.items():
        scores[name] = []
        for v in values:
            acc = [r.dev_accuracy for r in records if r.group == f"{name}={v:g}" and r.error is None]
            if acc:
                scores[name].append((v, mean_ci(acc)))
    return scores


def _final_cost(record) -> float:
    # dropout makes the per-step cost noisy: average the last 1% of the steps
    return float(np.mean(record.costs[-max(1, len(record.costs) // 100):]))


def course_sentences(course_records, records, rows) -> list[str]:
    """:func:`~reglab.experiments.takeaways.course_takeaways` on the course's runs and the seeds'."""
    from ..experiments import course
    from ..experiments.takeaways import course_takeaways

    published = {"none": course.FOOTBALL["no_regularization"]["test_accuracy"],
                 "l2": course.FOOTBALL["l2"]["test_accuracy"],
                 "dropout": course.FOOTBALL["dropout"]["test_accuracy"]}
    seeds = {r.setting: r.test for r in rows if r.setting in published}
    if set(seeds) != set(published):
        return []
    labels = {"none": "no regularization", "l2": "L2 0.7", "dropout": "dropout 0.86"}
    ok = [r for r in course_records if r.error is None and r.costs is not None]
    course_costs = {r.group[len(COURSE_PREFIX):]: _final_cost(r) for r in ok}
    seed_costs = {k: float(np.mean([_final_cost(r) for r in records
                                    if r.group == k and r.error is None and r.costs is not None]))
                  for k in published if any(r.group == k and r.error is None for r in records)}
    return course_takeaways(published, seeds, labels, course_costs=course_costs, seed_costs=seed_costs)


def runs_text(data, seeds: int, cv: int | None) -> str:
    """What each setting's runs are and what the intervals are over."""
    from ..experiments.cv import CV_CAVEAT, CV_SEED, pooled, sample_phrase

    if cv is None:
        return (f"Each setting was trained with {seeds} seed(s): the seed changes the initial "
                "weights, the dropout masks and the mini-batch order; the data stay the same. "
                "Figures are means with 95% Student-t intervals over the seeds.")
    n = len(pooled(data)[1])
    return (f"Each setting was trained on {sample_phrase(seeds, cv)}: stratified {cv}-fold "
            f"cross-validation over the {n} training examples (the data set's train"
            + (" and dev sets pooled" if data.has_dev else " set")
            + f", shuffled with seed {CV_SEED}); each run trains on {cv - 1} folds, its dev set is "
            "the held-out fold (early stopping watches it), and the test set is untouched, the same "
            "for every run. The seed changes the initial weights, the dropout masks and the "
            "mini-batch order; the fold changes the data split. Figures are means with 95% "
            f"Student-t intervals over the {cv * seeds} runs; {CV_CAVEAT}.")


def write_report(out, data, base, rows, names, figures, *, seeds, takeaways, cv=None, tuned=None,
                 scores=None, checks=(), diagnosis=None):
    """The single-file HTML report of a compare (``cv``: the number of folds, or None)."""
    from ..report.html import Section, Table, write_report as write

    intro = (f"Data: {data.summary()}. {data.description}\n\n"
             f"Network: {data.n_features} inputs, hidden layers {list(base.layers)} ({base.hidden}), "
             f"init {base.init}, learning rate {base.learning_rate:g}, "
             + (f"{base.iterations} full-batch iterations" if base.epochs is None
                else f"{base.epochs} epochs of mini-batches of {base.batch_size}")
             + ". " + runs_text(data, seeds, cv)
             + (" The rows named \"course ...\" are the course's own single runs, with its randomness "
                "(one dropout mask reused every step)." if any(k.startswith(COURSE_PREFIX) for k in names)
                else ""))
    columns, body = summary_table(rows, names)
    sections = [Section("Takeaways", items=list(takeaways)),
                Section("Results", table=Table(columns, body, caption="Accuracies in %; "
                                               "gap = train - test accuracy, in points; "
                                               + interval_phrase(seeds, cv) + "."))]
    if tuned:
        lines = [[name, f"{v:g}", iv.format(100) + "%", "chosen" if v == tuned[name] else ""]
                 for name, grid in (scores or {}).items() for v, iv in grid]
        sections.append(Section("Strengths chosen on the dev set",
                                text=", ".join(f"{k} = {v:g}" for k, v in tuned.items())
                                + ". Test figures were computed only for the chosen values.",
                                table=Table(["strength", "value", "dev accuracy", ""], lines)
                                if lines else None))
    if checks:
        sections.append(Section("The course's table, reproduced", table=Table(
            ["run", "figure", "published", "reglab", "check"],
            [[c.run, c.quantity, f"{c.published:.4g}", f"{c.computed:.4g}",
              "PASS" if c.passed else "FAIL"] for c in checks])))
    if diagnosis is not None:
        sections.append(diagnosis)
    sections.append(Section("Figures", images=figures))
    return write(out / "report.html", title=f"reglab compare: {data.name}", intro=intro, sections=sections)
