"""reglab's figure style: colours, the matplotlib rc, and helpers every figure shares.

Private to :mod:`reglab.report`; :mod:`reglab.report.plots` re-exports the public names
(:func:`setting_colors`, :func:`line_style`, :data:`PALETTE`, ...).
"""

from __future__ import annotations

import functools
import numbers
from pathlib import Path

import numpy as np

from .._validation import InputError, describe

DPI = 140
#: Okabe & Ito (2008) for lines on white (yellow last), then a few tab10 extras.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#8C564B", "#7F7F7F", "#BCBD22", "#F0E442")
#: The settings of ``reglab compare`` keep these colours whatever else is shown.
KNOWN_COLORS = {"none": "#000000", "baseline": "#000000", "l2": "#0072B2", "l1": "#D55E00",
                "dropout": "#009E73", "l2+dropout": "#CC79A7", "early-stopping": "#E69F00",
                "augment": "#56B4E9"}
CLASS_COLORS = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")
_RC = {"font.size": 10, "axes.titlesize": 11, "figure.titlesize": 13, "figure.titleweight": "bold",
       "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#666666",
       "xtick.color": "#444444", "ytick.color": "#444444", "axes.grid": True, "grid.color": "#e3e3e3",
       "axes.axisbelow": True, "legend.frameon": False, "legend.fontsize": 9,
       "legend.title_fontsize": 9, "figure.facecolor": "white", "savefig.facecolor": "white"}


def setting_colors(labels) -> dict[str, str]:
    """``{label: "#RRGGBB"}``: the settings of :data:`KNOWN_COLORS` (case, spaces and ``_``
    ignored) always get the same colour, other labels the free ones in the order given."""
    labels = [str(label) for label in labels]
    key = lambda s: s.lower().replace(" ", "").replace("_", "-")  # noqa: E731
    fixed = {lab: KNOWN_COLORS[key(lab)] for lab in labels if key(lab) in KNOWN_COLORS}
    free = [c for c in PALETTE if c not in fixed.values()]
    out, i = {}, 0
    for lab in labels:
        if lab in fixed:
            out[lab] = fixed[lab]
        elif lab not in out:
            out[lab], i = free[i % len(free)], i + 1
    return out


def _colors(colors, labels) -> dict:
    """``colors`` checked to cover ``labels``, or :func:`setting_colors` of them."""
    if colors is None:
        return setting_colors(labels)
    missing = [str(k) for k in labels if str(k) not in colors]
    if not isinstance(colors, dict) or missing:
        raise InputError(f"colors must map every label to a colour, missing {', '.join(missing)}")
    return {str(k): v for k, v in colors.items()}


def _plotting(func):
    """Run ``func`` under reglab's matplotlib style."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib
        with matplotlib.rc_context(_RC):
            return func(*args, **kwargs)
    return wrapper


def _figure(nrows, ncols, figsize, **kwargs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kwargs)


def _save(fig, path, title) -> Path:
    if title:
        fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI)
    fig.clear()  # no pyplot registry to close it from: free the artists now
    return path


def _check_dict(value, name: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise InputError(f"{name} must be a non-empty dict label -> values, got {describe(value)}")
    return {str(k): v for k, v in value.items()}


def _stack(runs, name: str) -> np.ndarray:
    """List over seeds of 1-D arrays -> finite ``(n_seeds, shortest length)``."""
    arrays = [np.asarray(r, dtype=np.float64) for r in runs] if isinstance(runs, (list, tuple)) else []
    if not arrays or any(a.ndim != 1 or a.size == 0 or not np.isfinite(a).all() for a in arrays):
        raise InputError(f"{name} must be a non-empty list over seeds of non-empty 1-D arrays of "
                         f"finite values, got {describe(runs)}")
    return np.stack([a[:min(a.size for a in arrays)] for a in arrays])


def _band(ax, x, runs, color, label, marker=None, **style):
    """Mean line over seeds (rows of ``runs``) and a min-max band."""
    style = {"marker": marker, "ms": 5, **style}
    if style.get("marker") and len(x) > 20:
        style.setdefault("markevery", max(1, len(x) // 12))
    ax.plot(x, runs.mean(axis=0), color=color, lw=1.8, label=label, **style)
    if len(runs) > 1:
        ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color=color, alpha=0.18, lw=0)


def _band_note(seed_counts) -> str:
    lo, hi = min(seed_counts), max(seed_counts)
    # "runs", not "seeds": with --cv a setting's runs are folds x seeds
    return "one run" if hi == 1 else f"mean of {hi if lo == hi else f'{lo}-{hi}'} runs, band: min to max"


def _lighten(color, amount: float):
    from matplotlib.colors import to_rgb
    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


def _label(v) -> str:
    return f"{v:g}" if _is_number(v) else str(v)


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _percent_formatter():
    """Percent tick labels with as many decimals as the ticks need, and no more: ticks at
    92.5 and 95 read "92.5%" and "95.0%", never "92%" twice (PercentFormatter(decimals=0)
    rounds them onto each other)."""
    from matplotlib.ticker import Formatter

    class Percent(Formatter):
        ticks = ()

        def set_locs(self, locs):
            self.ticks = tuple(locs)

        def __call__(self, x, pos=None):
            locs = [v * 100 for v in (self.ticks or (x,))]
            decimals = next((d for d in range(4)
                             if all(abs(v - round(v, d)) < 1e-6 for v in locs)), 4)
            return f"{x * 100:.{decimals}f}%"

    return Percent()


def line_style(label: str) -> dict:
    """Line keywords for ``label``: the course's single runs (``"course ..."``) are dashed,
    with open markers, drawn on top, so that one lying exactly on its multi-seed
    counterpart stays visible."""
    if str(label).lower().startswith("course "):
        return {"ls": (0, (5, 3)), "marker": "o", "mfc": "white", "ms": 4.5, "zorder": 4}
    return {}
