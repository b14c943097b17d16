"""The runs of a compare or a sweep as a list that also turns into a pandas DataFrame.

:func:`~reglab.experiments.compare.compare`, :func:`~reglab.experiments.compare.tune`
and :func:`~reglab.experiments.sweep.run_sweep` return their records as :class:`Runs`:
a plain ``list`` of :class:`~reglab.experiments.runner.RunRecord` (so every caller
of the list keeps working) with one more method, :meth:`Runs.to_frame`. pandas is
optional: it is imported only there.
"""

from __future__ import annotations

#: The columns of :meth:`Runs.to_frame` after ``setting`` and the run's parameters.
COLUMNS = ("fold", "seed", "train_accuracy", "dev_accuracy", "test_accuracy", "gap", "weight_norm",
           "near_zero", "steps", "stop_reason", "seconds", "engine", "error")


def _cell(value):
    # lists (keep_prob per layer, layers) become tuples: hashable, so groupby works on them
    return tuple(value) if isinstance(value, list) else value


def rows(records) -> tuple[list[str], list[list]]:
    """``(columns, rows)``: one row per run (see :meth:`Runs.to_frame`)."""
    params: list[str] = []
    for r in records:
        params += [k for k in r.params if k not in params]
    columns = ["setting", *params, *COLUMNS]
    out = []
    for r in records:
        figures = {name: getattr(r, name, None) for name in COLUMNS}
        figures["gap"] = r.gap
        figures["engine"] = (r.history or {}).get("engine")
        out.append([r.group, *(_cell(r.params.get(k)) for k in params),
                    *(figures[name] for name in COLUMNS)])
    return columns, out


class Runs(list):
    """The records of a compare or sweep (a ``list``), with :meth:`to_frame`."""

    def to_frame(self):
        """A pandas DataFrame with one row per run.

        Columns: ``setting`` (the setting's or grid point's name), one column per
        parameter the runs set (``l2``, ``l1``, ``keep_prob``, ``layers``...; lists as
        tuples), ``fold`` (None without cross-validation), ``seed``, ``train_accuracy``,
        ``dev_accuracy``, ``test_accuracy``, ``gap`` (train - test), ``weight_norm``,
        ``near_zero`` (share of weights below 1e-3), ``steps``, ``stop_reason``,
        ``seconds``, ``engine`` and ``error`` (the message of a failed run, else None;
        its figures are then missing).

        Raises
        ------
        ImportError
            When pandas is not installed, saying how to install it.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame() needs pandas, which is not installed: pip install pandas "
                              "(the records themselves are this list of RunRecord)") from None
        columns, body = rows(self)
        return pd.DataFrame(body, columns=columns)
