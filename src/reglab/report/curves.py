"""Train and dev cost and accuracy over training, one panel per setting.

The most instructive figure of a comparison: where the dev cost turns up while
the training cost keeps falling, overfitting sets in, and that is where early
stopping cuts. Styles and conventions as :mod:`reglab.report.plots`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._validation import InputError, check_choice, describe
from ._style import _band_note, _check_dict, _figure, _percent_formatter, _plotting, _save

TRAIN_COLOR, DEV_COLOR = "#0072B2", "#D55E00"
_KEYS = ("eval_steps", "train_accuracy", "dev_accuracy", "dev_cost")


def _padded(runs, key):
    """Rows over seeds, NaN after a run's end (early-stopped runs are shorter)."""
    n = max(len(h["eval_steps"]) for h in runs)
    out = np.full((len(runs), n), np.nan)
    for i, h in enumerate(runs):
        out[i, :len(h[key])] = h[key]
    return out


def _check_runs(label, runs):
    ok = isinstance(runs, (list, tuple)) and runs and all(
        isinstance(h, dict) and all(k in h for k in _KEYS) and len(h["eval_steps"])
        and ("train_loss" in h or "train_cost" in h)
        and all(len(h[k]) == len(h["eval_steps"]) for k in _KEYS[1:]) for h in runs)
    if not ok:
        raise InputError(f"runs[{label!r}] must be a non-empty list over seeds of histories with "
                         f"{', '.join(_KEYS)} and train_loss (or train_cost) of equal lengths, and a "
                         f"dev set, got {describe(runs)}")
    return list(runs)


@_plotting
def training_curves(runs, path, *, metric="cost", title=None, ncols=None) -> Path:
    """Train and dev ``metric`` against training steps, one panel per setting.

    Parameters
    ----------
    runs : dict ``label -> list over seeds of histories`` (``RunRecord.history``: dicts
        with ``eval_steps``, ``train_loss`` (or ``train_cost``, penalty included),
        ``dev_cost``, ``train_accuracy``, ``dev_accuracy`` and ``best_step``).
    path, title : see :mod:`reglab.report.plots`; default title
        ``"Train and dev <metric> during training"``.
    metric : {"cost", "accuracy"}. The cost is the data term alone (the penalty
        left out), so train and dev compare.
    ncols : int, panels per row (default: up to 4, rows balanced).

    Lines are means over the seeds that reached a step (early-stopped runs end
    sooner), bands min to max; panels share the y axis. Where runs stopped early,
    a dotted line marks the median step whose weights were kept (the band spans the
    seeds' steps); elsewhere a star marks the lowest mean dev cost, where early
    stopping would have cut.
    """
    metric = check_choice(metric, "metric", ("cost", "accuracy"))
    data = {label: _check_runs(label, r) for label, r in _check_dict(runs, "runs").items()}
    n = len(data)
    ncols = math.ceil(n / math.ceil(n / 4)) if ncols is None else max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    fig, axes = _figure(nrows, ncols, (2.9 * ncols + 0.4, 2.4 * nrows + 1.1), sharex=True, sharey=True)
    penalty_in, lowest = False, np.inf
    for ax, (label, hs) in zip(axes.flat, data.items()):
        steps = max((h["eval_steps"] for h in hs), key=len)
        steps = np.asarray(steps, dtype=float)
        if metric == "cost":
            key = "train_loss" if all(h.get("train_loss") for h in hs) else "train_cost"
            penalty_in |= key == "train_cost"
            pairs = ((key, "dev_cost"))
        else:
            pairs = ("train_accuracy", "dev_accuracy")
        for key, color, name in zip(pairs, (TRAIN_COLOR, DEV_COLOR), ("train", "dev")):
            a = _padded(hs, key)
            lowest = min(lowest, float(np.nanmin(a)))
            ax.plot(steps, np.nanmean(a, axis=0), color=color, lw=1.6, label=name)
            if len(hs) > 1:
                ax.fill_between(steps, np.nanmin(a, axis=0), np.nanmax(a, axis=0), color=color,
                                alpha=0.18, lw=0)
        best = [h["best_step"] for h in hs if h.get("best_step") is not None]
        if best:
            ax.axvline(float(np.median(best)), color="#333333", lw=1.2, ls=":", label="early-stopping point")
            if len(best) > 1 and min(best) < max(best):
                ax.axvspan(min(best), max(best), color="#999999", alpha=0.15, lw=0)
        else:
            dev_cost = np.nanmean(_padded(hs, "dev_cost"), axis=0)
            i = int(np.nanargmin(dev_cost))
            y = dev_cost[i] if metric == "cost" else np.nanmean(_padded(hs, "dev_accuracy"), axis=0)[i]
            ax.plot([steps[i]], [y], ls="", marker="*", ms=12, color=DEV_COLOR, mec="white", zorder=4,
                    label="lowest dev cost")
        ax.set_title(label, fontweight="bold", fontsize=10)
    for i, ax in enumerate(axes.flat):
        ax.set_visible(i < n)
        if i % ncols == 0:
            ax.set_ylabel("accuracy" if metric == "accuracy" else "cost (without penalty)"
                          if not penalty_in else "cost")
        if i + ncols >= n:
            ax.set_xlabel("step")
            ax.xaxis.set_tick_params(labelbottom=True)
    if metric == "accuracy":
        axes[0, 0].yaxis.set_major_formatter(_percent_formatter())
    elif lowest > 0:  # costs span decades: the training cost falls while the dev cost climbs
        axes[0, 0].set_yscale("log")
    handles = {}
    for ax in axes.flat[:n]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    seeds = [len(hs) for hs in data.values()]
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=len(handles),
               title=_band_note(seeds))
    default = f"Train and dev {metric} during training"
    return _save(fig, path, default if title is None else title)
