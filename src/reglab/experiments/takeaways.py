"""Takeaways: the few sentences a report opens with, computed from its results.

Every function here is pure: it takes summaries (means and 95% intervals over
seeds, :class:`~reglab.experiments.stats.Interval`) and returns a list of
sentences. No sentence is canned: each states numbers taken from its inputs,
and which sentences appear depends on what the numbers show.

"Beyond the intervals" means that two 95% Student-t intervals over seeds (or folds x
seeds, with cross-validation) do not overlap; a difference whose intervals overlap is
reported as not established.
"""

from __future__ import annotations

import numpy as np

from .._validation import InputError, describe
from .stats import Interval

_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


def _ordinal(k: int) -> str:
    return _ORDINAL.get(k, f"{k}th")


def _acc(iv: Interval) -> str:
    """``"87.1 ± 0.3%"`` (just the mean for one value)."""
    return iv.format(100) + "%"


def _points(x: float) -> str:
    return f"{abs(x) * 100:.1f} point{'' if round(abs(x) * 100, 1) == 1 else 's'}"


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def above(a: Interval, b: Interval) -> bool:
    """Whether ``a`` lies above ``b`` beyond both 95% intervals (they do not overlap)."""
    return a.n > 1 and b.n > 1 and a.low > b.high


def _check_rows(rows, name: str):
    if not isinstance(rows, (list, tuple)) or not rows:
        raise InputError(f"{name} must be a non-empty list of summary rows, got {describe(rows)}")
    return list(rows)


def compare_takeaways(rows, *, reference: str = "none", sample: str | None = None) -> list[str]:
    """What a compare table shows: which settings beat ``reference`` on the test set.

    Parameters
    ----------
    rows : list of :class:`~reglab.experiments.compare.SummaryRow` (``setting``,
        ``description``, ``train``, ``test``, ``gap`` intervals over seeds).
    reference : str, the setting the others are measured against.
    sample : str, what the intervals are over (default ``"N seeds"``; with cross-validation
        ``"5 folds x 5 seeds (25 runs)"``).

    Returns
    -------
    list of str
        Which settings beat the reference beyond the intervals and by how much,
        which lead or trail it within them, and how much of the reference's
        train-test gap the best setting closes.
    """
    rows = _check_rows(rows, "rows")
    ref = next((r for r in rows if r.setting == reference), None)
    n = min(r.test.n for r in rows)
    out = []
    if ref is None:
        best = max(rows, key=lambda r: r.test.mean)
        return [f"The best test accuracy is {best.description}'s, {_acc(best.test)}."]
    others = [r for r in rows if r is not ref]
    if not others:
        return [f"Only {ref.description} was run: {_acc(ref.test)} on the test set."]
    if n < 2:
        best = max(others, key=lambda r: r.test.mean)
        out.append(f"With one seed there are no intervals, so no difference is established: "
                   f"{best.description} has the best test accuracy, {_acc(best.test)}, "
                   f"{'+' if best.test.mean >= ref.test.mean else '-'}"
                   f"{_points(best.test.mean - ref.test.mean)} against {ref.description}.")
        return out
    name = ref.description
    over = sample or f"{n} seeds"
    win = sorted((r for r in others if above(r.test, ref.test)), key=lambda r: -r.test.mean)
    lose = [r for r in others if above(ref.test, r.test)]
    ahead = [r for r in others if r not in win and r not in lose and r.test.mean > ref.test.mean]
    behind = [r for r in others if r not in win and r not in lose and r.test.mean <= ref.test.mean]
    if win:
        out.append(f"On the test set, {_join(f'{r.description} ({_acc(r.test)}, +{_points(r.test.mean - ref.test.mean)})' for r in win)} "
                   f"beat{'s' if len(win) == 1 else ''} {name} ({_acc(ref.test)}) beyond the 95% "
                   f"intervals over {over}.")
    else:
        out.append(f"No setting beats {name} ({_acc(ref.test)}) on the test set beyond the 95% "
                   f"intervals over {over}.")
    if ahead:
        out.append(f"{_join(f'{r.description} (+{_points(r.test.mean - ref.test.mean)})' for r in ahead)} "
                   f"{'is' if len(ahead) == 1 else 'are'} ahead of {name}, but within the intervals: "
                   f"not a gain these {over} establish.")
    if behind:
        out.append(f"{_join(f'{r.description} ({_points(r.test.mean - ref.test.mean)} behind)' for r in behind)} "
                   f"{'does' if len(behind) == 1 else 'do'} no better than {name}, within the intervals.")
    if lose:
        out.append(f"{_join(f'{r.description} ({_acc(r.test)})' for r in lose)} "
                   f"{'is' if len(lose) == 1 else 'are'} worse than {name} beyond the intervals.")
    tight = min(others, key=lambda r: r.gap.mean)
    if tight.gap.mean < ref.gap.mean:
        out.append(f"{name} overfits by {_points(ref.gap.mean)} (train {_acc(ref.train)} against test "
                   f"{_acc(ref.test)}); {tight.description} cuts that train-test gap to "
                   f"{_points(tight.gap.mean)}.")
    return out


def _rank(values: dict) -> dict:
    order = sorted(values, key=lambda k: -values[k])
    return {k: order.index(k) + 1 for k in values}


def course_takeaways(published: dict, seeds: dict, labels: dict, *, course_costs: dict | None = None,
                     seed_costs: dict | None = None) -> list[str]:
    """Which of the course's single-run conclusions survive seeds.

    Parameters
    ----------
    published : dict ``setting -> test accuracy`` the course publishes (one run each).
    seeds : dict ``setting -> Interval`` of the test accuracy over seeds, fresh masks.
    labels : dict ``setting -> display name`` (``"L2 0.7"``).
    course_costs, seed_costs : dict ``setting -> final training cost`` of the course's
        run and (mean) of the runs over seeds; with both, a sentence on the dropout
        run's training cost.

    Returns
    -------
    list of str
        The two rankings; for each published accuracy its course rank, its rank
        over seeds and where it lies against the multi-seed interval; which
        pairwise conclusions hold beyond the intervals; the dropout cost.
    """
    if not isinstance(published, dict) or not published or set(published) != set(seeds):
        raise InputError(f"published and seeds must be dicts over the same settings, got "
                         f"{describe(published)} and {describe(seeds)}")
    names = list(published)
    n = min(iv.n for iv in seeds.values())
    course_rank, seed_rank = _rank(published), _rank({k: seeds[k].mean for k in names})
    by_course = sorted(names, key=lambda k: course_rank[k])
    by_seeds = sorted(names, key=lambda k: seed_rank[k])
    out = [f"The course's single runs rank "
           + " > ".join(f"{labels[k]} {published[k]:.1%}" for k in by_course)
           + f" on the test set; over {n} seeds with a fresh dropout mask every step the means rank "
           + " > ".join(f"{labels[k]} {_acc(seeds[k])}" for k in by_seeds) + "."]
    for k in by_course:
        iv = seeds[k]
        where = ("above" if published[k] > iv.high else "below" if published[k] < iv.low else "inside")
        verdict = ("its rank holds" if course_rank[k] == seed_rank[k] else
                   f"over seeds it ranks {_ordinal(seed_rank[k])}")
        out.append(f"{labels[k]}: the course's {published[k]:.1%} ranks {_ordinal(course_rank[k])} "
                   f"there and lies {where} the multi-seed interval [{iv.low:.1%}, {iv.high:.1%}]; "
                   f"{verdict}.")
    held, flipped, reversed_, open_ = [], [], [], []
    for i, a in enumerate(by_course):
        for b in by_course[i + 1:]:
            claim = f"{labels[a]} > {labels[b]}"
            if above(seeds[a], seeds[b]):
                held.append(claim)
            elif above(seeds[b], seeds[a]):
                flipped.append(claim)
            elif seeds[b].mean > seeds[a].mean:
                reversed_.append(claim)
            else:
                open_.append(claim)
    parts = []
    if held:
        parts.append(f"{_join(held)} survive{'s' if len(held) == 1 else ''} seeds beyond the intervals")
    if flipped:
        parts.append(f"{_join(flipped)} {'is' if len(flipped) == 1 else 'are'} reversed beyond the "
                     "intervals")
    if reversed_:
        parts.append(f"{_join(reversed_)} {'is' if len(reversed_) == 1 else 'are'} reversed by the "
                     "multi-seed means, within the intervals")
    if open_:
        parts.append(f"{_join(open_)} keep{'s' if len(open_) == 1 else ''} its order but within the "
                     "intervals")
    out.append("Of the course's conclusions, " + "; ".join(parts) + ".")
    if course_costs and seed_costs and "dropout" in course_costs and "dropout" in seed_costs:
        c, s = course_costs["dropout"], seed_costs["dropout"]
        sentence = f"The course's dropout run ends at a training cost of {c:.3g}"
        if "none" in course_costs and c < course_costs["none"]:
            sentence += (f", below its unregularized run's {course_costs['none']:.3g}, although dropout "
                         "should make fitting the training set harder")
        sentence += f"; with a fresh mask every step it ends at {s:.3g} (mean over {n} seeds)."
        if c < s:
            sentence += (" The course calls np.random.seed(1) before every forward pass, so every step "
                         "draws the same mask: it trains one fixed thinned network to fit the training "
                         "set instead of averaging over masks.")
        out.append(sentence)
    return out


def tune_takeaways(scores: dict, chosen: dict, *, labels: dict | None = None) -> list[str]:
    """The dev scores of a grid search and a warning for each choice at its grid's edge.

    Parameters
    ----------
    scores : dict ``name -> list of (value, Interval of dev accuracy)`` in grid order.
    chosen : dict ``name -> chosen value``.
    labels : dict ``name -> display name`` (default the names).
    """
    labels = labels or {}
    if not isinstance(scores, dict) or not scores:
        raise InputError(f"scores must be a non-empty dict name -> [(value, Interval)], got {describe(scores)}")
    out = []
    for name, grid in scores.items():
        label = labels.get(name, name)
        if name not in chosen:
            raise InputError(f"chosen must give a value for {name!r}, got {describe(chosen)}")
        values = [v for v, _ in grid]
        best = dict(grid)[chosen[name]]
        text = ", ".join(f"{v:g}: {iv.mean:.1%}" for v, iv in grid)
        close = [v for v, iv in grid if v != chosen[name] and not above(best, iv)]
        sentence = f"{label} on dev: {text}; chosen {chosen[name]:g}."
        if close and best.n > 1:
            sentence += (f" {len(close)} of the other {len(grid) - 1} values score within its 95% "
                         "interval: the dev set barely tells them apart.")
        out.append(sentence)
        if len(values) > 2 and chosen[name] in (values[0], values[-1]):
            end = "first" if chosen[name] == values[0] else "last"
            out.append(f"Warning: {label} {chosen[name]:g} is the {end} value of its grid "
                       f"({values[0]:g} to {values[-1]:g}); the best may lie beyond it: extend the grid "
                       "before trusting the choice.")
    return out


def sweep_takeaways(rows, param: str, values, *, held: str = "dev", unregularized=None,
                    sample: str | None = None) -> list[str]:
    """What a one- or two-parameter sweep shows.

    Parameters
    ----------
    rows : list of dicts with ``"label"``, ``"point"`` (dict) and Intervals ``"train"``,
        ``"held_out"``, ``"gap"`` (as :func:`reglab.experiments.sweep.summarize_points`).
    param, values : the first swept parameter and its values, in order.
    held : name of the held-out set.
    unregularized : label of the point without regularization (``"l2=0"``), if swept.
    sample : what each point's runs are (default ``"N seeds"``; with cross-validation
        ``"5 folds x 5 seeds (25 runs)"``).
    """
    rows = _check_rows(rows, "rows")
    best = max(rows, key=lambda r: r["held_out"].mean)
    n = min(r["held_out"].n for r in rows)
    out = [f"The best {held} accuracy is {_acc(best['held_out'])}, at {best['label']}"
           + (" (one run per point: no intervals)." if n < 2 else f" (mean over {sample or f'{n} seeds'}).")]
    base = next((r for r in rows if r["label"] == unregularized), None)
    if base is not None and base is not best:
        d = best["held_out"].mean - base["held_out"].mean
        how = ("beyond the intervals" if above(best["held_out"], base["held_out"]) else
               "within the intervals, so not established" if n > 1 else "in a single run")
        out.append(f"That is {_points(d)} above {base['label']} ({_acc(base['held_out'])}), {how}; "
                   f"the train-{held} gap goes from {_points(base['gap'].mean)} to "
                   f"{_points(best['gap'].mean)}.")
    values = list(values)
    at = best["point"].get(param)
    if len(values) > 2 and at in (values[0], values[-1]):
        out.append(f"Warning: the best {param} is at the {'first' if at == values[0] else 'last'} value "
                   f"of the sweep; the optimum may lie beyond it.")
    return out


def learning_curve_takeaways(sizes, train_error, dev_error, baseline: float, source: str) -> list[str]:
    """What a learning curve shows: the gap at full size and whether more data still helps.

    Parameters
    ----------
    sizes : increasing training-set sizes.
    train_error, dev_error : arrays ``(n_sizes, n_seeds)`` of error fractions.
    baseline, source : the baseline error and where it comes from.
    """
    sizes = [int(s) for s in sizes]
    tr, dv = (np.asarray(a, dtype=float).reshape(len(sizes), -1).mean(axis=1) for a in (train_error, dev_error))
    if len(sizes) < 2:
        raise InputError(f"sizes must hold at least two training-set sizes, got {describe(sizes)}")
    out = [f"With {sizes[-1]} training examples the dev error is {dv[-1]:.1%} and the training error "
           f"{tr[-1]:.1%}, a gap of {_points(dv[-1] - tr[-1])}; the baseline is {baseline:.1%} ({source})."]
    out.append(f"From {sizes[0]} to {sizes[-1]} examples the dev error went from {dv[0]:.1%} to "
               f"{dv[-1]:.1%}" + (f" and the training error rose from {tr[0]:.1%}" if tr[-1] > tr[0] else "")
               + ".")
    last = dv[-2] - dv[-1]
    step = f"The last step ({sizes[-2]} to {sizes[-1]} examples)"
    if last > 0.005:
        out.append(f"{step} still lowered the dev error by {_points(last)}: more data would likely help.")
    else:
        out.append(f"{step} moved the dev error from {dv[-2]:.1%} to {dv[-1]:.1%}: the curve has flattened, "
                   "and more data alone would help little.")
    return out


def diagnosis_takeaways(found: dict, names: dict, baseline: float, source: str) -> list[str]:
    """What the bias/variance reading of a comparison says, setting by setting.

    Parameters
    ----------
    found : dict ``setting -> Diagnosis`` (thresholds from the noise of the figures).
    names : dict ``setting -> display name``.
    baseline, source : the baseline and where it comes from.
    """
    from .diagnose import HIGH_BIAS, HIGH_VARIANCE
    if not isinstance(found, dict) or not found:
        raise InputError(f"found must be a non-empty dict setting -> Diagnosis, got {describe(found)}")
    show = lambda k: names.get(k, k)  # noqa: E731
    out = [f"The baseline is {baseline:.1%} ({source})."]
    var = [k for k, d in found.items() if HIGH_VARIANCE in d.cases]
    if var:
        out.append(f"{_join(f'{show(k)} ({found[k].variance * 100:+.1f} points, noise ±{found[k].thresholds[1] * 100:.1f})' for k in var)} "
                   f"{'shows' if len(var) == 1 else 'show'} high variance: dev error beyond training "
                   "error by more than the noise.")
    reg = [k for k, d in found.items() if d.regularization]
    biased = [k for k in reg if HIGH_BIAS in found[k].cases]
    if biased:
        out.append(f"{_join(show(k) for k in biased)} {'has' if len(biased) == 1 else 'have'} avoidable "
                   "bias beyond noise: over-regularized, weaken the penalty.")
    elif reg:
        out.append(f"No regularized setting shows avoidable bias beyond noise (training errors "
                   f"{min(found[k].train_error for k in reg):.1%} to {max(found[k].train_error for k in reg):.1%} "
                   f"against the baseline of {baseline:.1%}).")
    quiet = [k for k, d in found.items() if not set(d.cases) & {HIGH_BIAS, HIGH_VARIANCE}]
    if quiet:
        out.append(f"{_join(show(k) for k in quiet)}: bias and variance within the noise of the figures.")
    return out
