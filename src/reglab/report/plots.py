"""Figures for ``reglab compare`` and ``reglab sweep``.

Every function takes plain inputs (dicts of arrays, networks, a Dataset), writes one
PNG to ``path`` (creating its folder), frees the figure and returns the Path;
``title=None`` gives a title saying what is shown, ``title=""`` none. matplotlib is
imported inside the functions and draws on an Agg canvas, never through pyplot, so
``import reglab`` stays light and no window or global figure is ever made. A setting
keeps its colour in every figure (:func:`setting_colors`, Okabe-Ito, colour-blind
safe); over seeds the line is the mean and the band spans min to max.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._validation import InputError, check_choice, check_float, check_int, describe
from ._style import (CLASS_COLORS, DPI, KNOWN_COLORS, PALETTE, _band, _band_note, _check_dict,  # noqa: F401
                     _colors, _figure, _is_number, _label, _lighten, _percent_formatter, _plotting, _save,
                     _stack, line_style, setting_colors)


def _check_panels(panels):
    from ..nn.network import Network
    if not isinstance(panels, (list, tuple)) or not panels:
        raise InputError(f"panels must be a non-empty list of (label, network[, subtitle]), "
                         f"got {describe(panels)}")
    for i, p in enumerate(panels):
        if not isinstance(p, (list, tuple)) or len(p) not in (2, 3) or not isinstance(p[1], Network):
            raise InputError(f"panels[{i}] must be (label, network) or (label, network, subtitle), "
                             f"got {describe(p)}")
    return [(str(p[0]), p[1], str(p[2]) if len(p) == 3 and p[2] else "") for p in panels]


@_plotting
def decision_boundaries(panels, data, path, *, title=None, ncols=None, grid=300) -> Path:
    """One panel per trained network: its decision regions, with the data on top.

    Parameters
    ----------
    panels : list of ``(label, network)`` or ``(label, network, subtitle)``, one per
        setting or swept value; a subtitle (``"train 94.8% · test 91.5%"``) goes
        under the label.
    data : Dataset with 2 features; train points filled, test points hollow
        triangles, coloured by true label. The shared axes limits cover every point.
    path, title : see the module docstring; default title ``"Decision boundaries on <name>"``.
    ncols : int, optional; default one row up to 5 panels, then balanced rows.
    grid : int, points per axis at which each network is evaluated.

    A sigmoid network shows ``P(class 1)`` on a diverging scale with the ``P = 0.5``
    line; a softmax network shows its predicted classes and their boundaries.
    """
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    from matplotlib.lines import Line2D

    from ..data import Dataset
    panels = _check_panels(panels)
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a reglab Dataset, got {type(data).__name__}")
    if data.n_features != 2:
        raise InputError(f"decision boundaries need 2-D data, got {data.n_features} features")
    grid, n = check_int(grid, "grid", low=10), len(panels)
    ncols = math.ceil(n / math.ceil(n / 5)) if ncols is None else min(check_int(ncols, "ncols", low=1), n)
    nrows = math.ceil(n / ncols)
    X_all = np.vstack([data.X_train, data.X_test] + ([data.X_dev] if data.has_dev else []))
    span = np.ptp(X_all, axis=0) + (np.ptp(X_all, axis=0) == 0)
    lo, hi = X_all.min(axis=0) - 0.08 * span, X_all.max(axis=0) + 0.08 * span
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
    G, extent = np.column_stack([xx.ravel(), yy.ravel()]), (lo[0], hi[0], lo[1], hi[1])
    k = max([data.n_classes, 2] + [net.n_classes for _, net, _ in panels])
    colors = [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(k)]
    ratio, size = float(np.clip((hi[1] - lo[1]) / (hi[0] - lo[0]), 0.6, 1.4)), 3.0 if n > 1 else 4.2
    sigmoid = any(net.output == "sigmoid" for _, net, _ in panels)
    fig, axes = _figure(nrows, ncols, (size * ncols + (0.9 if sigmoid else 0.2), size * ratio * nrows + 1.3),
                        sharex=True, sharey=True)
    cmap = LinearSegmentedColormap.from_list(
        "reglab_p1", [_lighten(colors[0], 0.4), (1, 1, 1), _lighten(colors[1], 0.4)])
    image = None
    for ax, (label, net, sub) in zip(axes.flat, panels):
        ax.grid(False)
        proba = net.predict_proba(G)
        if net.output == "sigmoid":
            p1 = proba[:, 1].reshape(grid, grid)
            image = ax.imshow(p1, extent=extent, origin="lower", cmap=cmap, vmin=0, vmax=1,
                              aspect="auto", interpolation="bilinear")
            if p1.min() < 0.5 < p1.max():
                ax.contour(xx, yy, p1, levels=[0.5], colors="#222222", linewidths=1.5)
        else:
            ax.imshow(proba.argmax(axis=1).reshape(grid, grid), extent=extent, origin="lower",
                      cmap=ListedColormap([_lighten(c, 0.3) for c in colors]), vmin=-0.5,
                      vmax=k - 0.5, aspect="auto", interpolation="nearest")
            for c in range(proba.shape[1]):  # class c's border: where p_c equals the best other p
                margin = (proba[:, c] - np.delete(proba, c, axis=1).max(axis=1)).reshape(grid, grid)
                if margin.min() < 0 < margin.max():
                    ax.contour(xx, yy, margin, levels=[0], colors="#222222", linewidths=1.2)
        ax.scatter(*data.X_train.T, s=20, c=[colors[v] for v in data.y_train], edgecolors="white",
                   linewidths=0.5, zorder=3)
        ax.scatter(*data.X_test.T, s=30, marker="^", facecolors="none",
                   edgecolors=[colors[v] for v in data.y_test], linewidths=1.2, zorder=3)
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
        ax.set_title(label, fontweight="bold", pad=15 if sub else 6)
        ax.text(0.5, 1.012, sub, transform=ax.transAxes, ha="center", va="bottom", fontsize=8.5, color="#555")
    for i, ax in enumerate(axes.flat):
        ax.set_visible(i < n)
        ax.set(xlabel="$x_1$" if i + ncols >= n else "", ylabel="$x_2$" if i % ncols == 0 else "")
        ax.xaxis.set_tick_params(labelbottom=i + ncols >= n)  # also above an empty slot
    handles = [Line2D([], [], ls="", marker="s", ms=9, mfc=colors[c], mec=colors[c], label=f"class {c}")
               for c in range(k)]
    handles += [Line2D([], [], ls="", marker="o", ms=7, mfc="#555555", mec="white", label="train"),
                Line2D([], [], ls="", marker="^", ms=7, mfc="none", mec="#555555", mew=1.2, label="test"),
                Line2D([], [], color="#222222", lw=1.5, label="decision boundary")]
    rows = math.ceil(len(handles) / max(2, int(fig.get_figwidth() / 1.2)))  # fit the width
    fig.legend(handles=handles, loc="outside lower center", ncol=math.ceil(len(handles) / rows))
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.85, aspect=30, pad=0.02, label="P(class 1)",
                     ticks=[0, 0.25, 0.5, 0.75, 1])
    return _save(fig, path, f"Decision boundaries on {data.name}" if title is None else title)


def _moving_average(runs: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps along axis 1 (fewer at the start)."""
    c = np.concatenate([np.zeros((len(runs), 1)), np.cumsum(runs, axis=1)], axis=1)
    t = np.arange(1, runs.shape[1] + 1)
    return (c[:, t] - c[:, np.maximum(t - window, 0)]) / np.minimum(t, window)


@_plotting
def cost_curves(curves, path, *, ylabel="training cost", logy=True, title=None, smooth=1,
                colors=None) -> Path:
    """Cost per iteration, one line per setting (mean over seeds, min-max band).

    Parameters
    ----------
    curves : dict ``label -> list over seeds of 1-D arrays`` (``History.costs``);
        runs of unequal length are cut to the shortest.
    path, title : see the module docstring; default title ``"<ylabel> per iteration"``.
    ylabel : str, y-axis label.
    logy : bool, log y axis (used only when every value is positive).
    smooth : int >= 1, trailing moving average over this many steps, for the noisy
        costs of dropout or mini-batches; the raw mean stays faintly behind and the
        legend says so. 1 (default) draws the raw costs.
    colors : dict ``label -> colour``, optional; default :func:`setting_colors`.

    The legend sits beside the axes, never over the curves; the course's single
    runs (labels ``"course ..."``) are dashed with markers (:func:`line_style`).

    Curves longer than 2000 steps are drawn at 2000 evenly spaced steps.
    """
    smooth = check_int(smooth, "smooth", low=1)
    runs = {label: _stack(r, f"curves[{label!r}]") for label, r in _check_dict(curves, "curves").items()}
    colors = _colors(colors, runs)
    fig, axes = _figure(1, 1, (8.6, 4.6))
    ax = axes[0, 0]
    for label, r in runs.items():
        steps = np.unique(np.linspace(0, r.shape[1] - 1, min(r.shape[1], 2000)).astype(int))
        if smooth > 1:
            ax.plot(steps, r[:, steps].mean(axis=0), color=colors[label], lw=0.6, alpha=0.3)
            r = _moving_average(r, smooth)
        _band(ax, steps, r[:, steps], colors[label], label, **line_style(label))
    if logy and all((r > 0).all() for r in runs.values()):
        ax.set_yscale("log")
    ax.set(xlim=(0, max(max(r.shape[1] for r in runs.values()) - 1, 1)), xlabel="iteration", ylabel=ylabel)
    note = _band_note([len(r) for r in runs.values()])
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper",
               title=note.replace(", band", ",\nband") + (f"\nmoving average over {smooth} steps\n(faint: raw)"
                                                        if smooth > 1 else ""))
    return _save(fig, path, f"{ylabel[:1].upper()}{ylabel[1:]} per iteration" if title is None else title)


@_plotting
def weight_norms(norms, path, *, title=None, colors=None) -> Path:
    """Frobenius norm of each weight matrix during training, one panel per layer.

    Parameters
    ----------
    norms : dict ``label -> list over seeds of (steps, values)``, ``steps`` of shape
        ``(n_evals,)``, ``values`` of shape ``(n_evals, n_layers)``; from a
        :class:`~reglab.training.loop.History`, ``(h.eval_steps, h.weight_norms)``.
    path, title : see the module docstring; default title ``"Weight norms during training"``.
    colors : dict ``label -> colour``, optional; default :func:`setting_colors`.
    """
    data = {}
    for label, runs in _check_dict(norms, "norms").items():
        pairs = [(np.asarray(p[0], dtype=float), np.asarray(p[1], dtype=float))
                 for p in (runs if isinstance(runs, (list, tuple)) else []) if len(p) == 2]
        if not pairs or len(pairs) != len(runs) or any(
                s.ndim != 1 or v.ndim != 2 or len(v) != len(s) or not len(s) for s, v in pairs):
            raise InputError(f"norms[{label!r}] must be a non-empty list over seeds of (steps, values), "
                             f"steps (n_evals,) and values (n_evals, n_layers), got {describe(runs)}")
        m = min(len(s) for s, _ in pairs)
        data[label] = (pairs[0][0][:m], np.stack([v[:m] for _, v in pairs]))
    n_layers = max(v.shape[2] for _, v in data.values())
    colors = _colors(colors, data)
    ncols, nrows = min(n_layers, 4), math.ceil(n_layers / 4)
    fig, axes = _figure(nrows, ncols, (3.4 * ncols + 0.4, 3.3 * nrows + 0.8), sharex=True)
    for l, ax in enumerate(axes.flat):
        ax.set_visible(l < n_layers)
        for label, (steps, values) in data.items():
            if l < values.shape[2]:
                _band(ax, steps, values[:, :, l], colors[label], label, **line_style(label))
        ax.set_title(rf"$\Vert W^{{[{l + 1}]}} \Vert_F$")
        ax.set(xlabel="iteration", ylabel="Frobenius norm" if l % ncols == 0 else "", ylim=(0, None))
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center",
               ncol=min(len(data), 6), title=_band_note([len(v) for _, v in data.values()]))
    return _save(fig, path, "Weight norms during training" if title is None else title)


@_plotting
def weight_histograms(weights, path, *, threshold=1e-2, title=None, colors=None) -> Path:
    """Distribution of the final weights, one panel per setting, shared x axis.

    Parameters
    ----------
    weights : dict ``label -> 1-D array`` of all final weights, pooled over layers
        and seeds (``np.concatenate([W.ravel() for net in nets for W in net.weights])``).
    path, title : see the module docstring; default title
        ``"Final weights, pooled over layers and seeds"``.
    threshold : float > 0; each panel gives the share of weights with
        ``|w| < threshold`` (shaded; L1 drives many to zero), their std and count.
    colors : dict ``label -> colour``, optional; default :func:`setting_colors`.

    The x range covers 99.5% of the largest ``|w|``; the few weights beyond it are
    counted in the outermost bins.
    """
    threshold = check_float(threshold, "threshold", low=0, low_open=True)
    data = {}
    for label, w in _check_dict(weights, "weights").items():
        data[label] = w = np.asarray(w, dtype=np.float64).ravel()
        if not w.size or not np.isfinite(w).all():
            raise InputError(f"weights[{label!r}] must be a non-empty array of finite values")
    colors = _colors(colors, data)
    lim = max(float(np.quantile(np.abs(w), 0.995)) for w in data.values()) * 1.05 or 1.0
    bins = np.linspace(-lim, lim, 82)  # 81 bins, one centred on zero
    fig, axes = _figure(len(data), 1, (7.0, 1.45 * len(data) + 1.0), sharex=True)
    for ax, (label, w) in zip(axes[:, 0], data.items()):
        ax.hist(np.clip(w, -lim, lim), bins=bins, weights=np.full(w.size, 100.0 / w.size),
                color=colors[label], alpha=0.85)
        ax.axvspan(-threshold, threshold, color="#999999", alpha=0.15, lw=0)
        ax.text(0.01, 0.9, label, transform=ax.transAxes, va="top", weight="bold", color=colors[label],
                size=11)
        ax.text(0.99, 0.9, f"|w| < {threshold:g}: {np.mean(np.abs(w) < threshold):.1%}\n"
                f"std {w.std():.3g} · {w.size:,} weights", transform=ax.transAxes, va="top",
                ha="right", fontsize=9, color="#333333")
        ax.set_ylabel("% of weights")
        ax.grid(axis="x", visible=False)
    axes[-1, 0].set(xlabel="weight value", xlim=(-lim, lim))
    return _save(fig, path, "Final weights, pooled over layers and seeds" if title is None else title)


def _x_positions(ax, values, log_x):
    """Place the swept values on the x axis (log or symlog when they span > 2 decades)."""
    from matplotlib.ticker import NullLocator
    if not all(_is_number(v) for v in values):
        ax.set(xticks=range(len(values)), xticklabels=[_label(v) for v in values],
               xlim=(-0.3, len(values) - 0.7))
        return np.arange(len(values), dtype=float)
    x = np.asarray(values, dtype=float)
    pos = x[x > 0]
    if log_x is None:
        log_x = bool((x >= 0).all() and pos.size >= 2 and pos.max() / pos.min() > 100)
    if log_x:
        if (x < 0).any() or not pos.size:
            raise InputError(f"a log x axis needs values >= 0 with one above 0, got {values!r}")
        if (x == 0).any():
            ax.set_xscale("symlog", linthresh=pos.min(), linscale=0.6)
        else:
            ax.set_xscale("log")
    if len(x) <= 12:
        ax.set_xticks(x, [_label(v) for v in values])
        ax.xaxis.set_minor_locator(NullLocator())
    return x


@_plotting
def validation_curve(param, values, train, dev, path, *, log_x=None, ylabel="accuracy",
                     title=None, best="max", held="dev") -> Path:
    """Train and dev score against one hyper-parameter, with the best dev value marked.

    Parameters
    ----------
    param : str, the hyper-parameter's name (x-axis label).
    values : list of its values (numbers, or strings for categories).
    train, dev : arrays ``(n_values, n_seeds)``; lines are means, bands min to max.
    path, title : see the module docstring; default ``"Train and dev <ylabel> against <param>"``.
    log_x : bool or None; None uses a log axis (symlog when 0 is among the values)
        when the positive values span more than two decades.
    ylabel : str; an "accuracy" within [0, 1] is shown in percent.
    best : {"max", "min"}, whether the best dev value is the highest or the lowest.
    held : str, the name of the held-out set ``dev`` was measured on (``"test"`` when
        the data have no dev set), used in the legend and the default title.
    """
    best, values, scores = check_choice(best, "best", ("max", "min")), list(values), {}
    if not isinstance(held, str) or not held:
        raise InputError(f"held must name the held-out set, got {describe(held)}")
    for name, a in (("train", train), ("dev", dev)):
        a = np.asarray(a, dtype=float)
        scores[name] = a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2 or len(a) != len(values) or not a.size or not np.isfinite(a).all():
            raise InputError(f"{name} must be a finite array (n_values={len(values)}, n_seeds), "
                             f"got {describe(a)}")
    fig, axes = _figure(1, 1, (8.4, 4.4))
    ax = axes[0, 0]
    x = _x_positions(ax, values, log_x)
    for (name, a), color, marker in zip(scores.items(), ("#0072B2", "#D55E00"), ("o", "s")):
        _band(ax, x, a.T, color, "train" if name == "train" else held, marker=marker)
    dev_mean = scores["dev"].mean(axis=1)
    i = int(np.argmax(dev_mean) if best == "max" else np.argmin(dev_mean))
    percent = "accuracy" in ylabel.lower() and all(((a >= 0) & (a <= 1)).all() for a in scores.values())
    shown = f"{dev_mean[i]:.1%}" if percent else f"{dev_mean[i]:.4g}"
    ax.axvline(x[i], color="#888888", lw=1, ls=":", zorder=1)
    ax.plot([x[i]], [dev_mean[i]], ls="", marker="*", ms=16, color="#D55E00", mec="white",
            zorder=4, label=f"best {held}: {shown} at {param} = {_label(values[i])}")
    if percent:
        ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set(xlabel=param, ylabel=ylabel)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper",  # never over the curves
               title=_band_note([scores["dev"].shape[1]]).replace(", band", ",\nband"))
    what = ylabel if {"train", held} & set(ylabel.lower().split()) else f"train and {held} {ylabel}"
    return _save(fig, path, f"{what[:1].upper()}{what[1:]} against {param}" if title is None else title)


@_plotting
def heatmap(param_x, xs, param_y, ys, dev_accuracy, gap, path, *, title=None) -> Path:
    """Two-parameter sweep: mean dev accuracy and mean train-dev gap, side by side.

    Parameters
    ----------
    param_x, param_y : str, the swept hyper-parameters' names.
    xs, ys : lists of their values (columns and rows).
    dev_accuracy, gap : arrays ``(len(ys), len(xs))`` of mean dev accuracy and mean
        ``train - dev`` accuracy, as fractions; cells show % and points, NaN as "–".
    path, title : see the module docstring.

    The best dev cell is outlined in both panels.
    """
    import matplotlib
    from matplotlib.colors import Normalize, to_rgb
    from matplotlib.patches import Rectangle
    xs, ys, grids = list(xs), list(ys), []
    for name, a in (("dev_accuracy", dev_accuracy), ("gap", gap)):
        grids.append(np.asarray(a, dtype=float) * 100)
        if grids[-1].shape != (len(ys), len(xs)) or not grids[-1].size:
            raise InputError(f"{name} must have shape (len(ys), len(xs)) = {(len(ys), len(xs))}, "
                             f"got {describe(a)}")
    dev, gp = grids
    if np.isnan(dev).all():
        raise InputError("dev_accuracy must hold at least one value that is not NaN")
    g = max(0.0 if np.isnan(gp).all() else float(np.nanmax(np.abs(gp))), 1e-9)
    specs = ((dev, "viridis", Normalize(np.nanmin(dev), np.nanmax(dev) + 1e-9), "mean dev accuracy (%)",
              "{:.1f}"), (gp, "PuOr_r", Normalize(-g, g), "mean train − dev gap (points)", "{:+.1f}"))
    w = max(0.62 * len(xs) + 1.9, 3.6)
    fig, axes = _figure(1, 2, (2 * w, max(0.5 * len(ys) + 1.9, 3.4)))
    best = np.unravel_index(np.nanargmax(dev), dev.shape)
    for ax, (a, cmap, norm, label, fmt) in zip(axes[0], specs):
        cmap = matplotlib.colormaps[cmap]
        fig.colorbar(ax.imshow(a, cmap=cmap, norm=norm, origin="lower", aspect="auto"), ax=ax,
                     shrink=0.9, aspect=25, pad=0.02)
        for (r, c), v in np.ndenumerate(a):
            dark = np.isfinite(v) and np.dot(to_rgb(cmap(norm(v))), (0.299, 0.587, 0.114)) < 0.55
            ax.text(c, r, "–" if np.isnan(v) else fmt.format(v), ha="center", va="center",
                    fontsize=9 if len(xs) <= 6 else 7.5, color="white" if dark else "#111111")
        for ec, lw in (("#111111", 3.5), ("white", 1.3)):  # visible on any cell colour
            ax.add_patch(Rectangle((best[1] - 0.5, best[0] - 0.5), 1, 1, fill=False, ec=ec, lw=lw))
        ax.set(xticks=range(len(xs)), xticklabels=[_label(v) for v in xs], yticks=range(len(ys)),
               yticklabels=[_label(v) for v in ys], xlabel=param_x, ylabel=param_y, title=label)
        ax.tick_params(length=0)
        ax.spines[:].set_visible(False)
        ax.grid(False)
    default = f"{param_x} × {param_y}: dev accuracy and overfitting (best outlined)"
    return _save(fig, path, default if title is None else title)


@_plotting
def learning_curve(sizes, train_error, dev_error, path, *, baseline=None, title=None) -> Path:
    """Train and dev error against the number of training examples.

    Parameters
    ----------
    sizes : increasing numbers of training examples, shape ``(n_sizes,)``.
    train_error, dev_error : arrays ``(n_sizes, n_seeds)`` (or ``(n_sizes,)`` for one
        seed) of error fractions; lines are means over seeds, bands min to max.
    path, title : see the module docstring; default title
        ``"Learning curve: error against training-set size"``.
    baseline : float in [0, 1] or None, human-level / Bayes error, drawn as a
        dashed horizontal line.
    """
    x = np.asarray(sizes, dtype=float)
    if x.ndim != 1 or not x.size or not np.isfinite(x).all() or (x <= 0).any() or (np.diff(x) <= 0).any():
        raise InputError(f"sizes must be a non-empty increasing 1-D array of positive numbers, "
                         f"got {describe(sizes)}")
    errors = {}
    for name, a in (("train", train_error), ("dev", dev_error)):
        a = np.asarray(a, dtype=float)
        errors[name] = a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2 or len(a) != len(x) or not a.size or not np.isfinite(a).all():
            raise InputError(f"{name}_error must be a finite array (n_sizes={len(x)}, n_seeds), "
                             f"got {describe(a)}")
    if baseline is not None:
        baseline = check_float(baseline, "baseline", low=0, high=1)
    fig, axes = _figure(1, 1, (8.4, 4.4))
    ax = axes[0, 0]
    for (name, a), color, marker in zip(errors.items(), ("#0072B2", "#D55E00"), ("o", "s")):
        _band(ax, x, a.T, color, f"{name} error", marker=marker)
    if baseline is not None:
        ax.axhline(baseline, color="#444444", lw=1.2, ls="--", label="baseline (human / Bayes)")
    top = max(max(float(a.max()) for a in errors.values()), baseline or 0.0, 0.01)
    # a little room below 0, so that a zero training error or baseline stays visible
    ax.set(xlabel="training examples", ylabel="error", ylim=(-0.03 * top, 1.1 * top))
    ax.yaxis.set_major_formatter(_percent_formatter())
    if x[-1] / x[0] >= 10:  # sizes usually grow geometrically: spread them out
        from matplotlib.ticker import NullLocator
        ax.set_xscale("log")
        if len(x) <= 12:
            ax.set_xticks(x, [f"{v:g}" for v in x])
            ax.xaxis.set_minor_locator(NullLocator())
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper",
               title=_band_note([errors["dev"].shape[1]]).replace(", band", ",\nband"))
    return _save(fig, path, "Learning curve: error against training-set size" if title is None else title)
