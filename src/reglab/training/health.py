"""After training: name a dead network in plain words.

Two signs that gradient descent has broken a network rather than trained it:

* a hidden layer whose every unit gives the same output on every training
  example (every ReLU at 0, every sigmoid saturated): nothing after it can
  tell the examples apart, the gradient through it is zero or constant, and the
  network predicts one class;
* a training cost that ended far above where it started.

Both usually come from too large a learning rate (a step overshoots and throws
the weights where every unit is off) or from the initialization (all zeros
makes every unit identical). :func:`check_health` returns the warnings;
:func:`reglab.train` records them in ``history.warnings`` and issues them as
:class:`DeadNetworkWarning`.
"""

from __future__ import annotations

import numpy as np

#: A final cost this many times the first one counts as "risen far above its start".
COST_RISE = 2.0


class DeadNetworkWarning(UserWarning):
    """Training ended with a network that cannot learn any more (dead layer, exploded cost)."""


def _cause(learning_rate: float, init: str) -> str:
    if init == "zeros":
        return ("init 'zeros' gives every unit the same weights, so they never differ; "
                "use init 'he' (ReLU) or 'xavier'")
    return (f"the likely cause is the learning rate ({learning_rate:g}: a step overshoots and "
            f"pushes every unit where it stays off; try one 10 to 100 times smaller) or the "
            f"initialization (init {init!r})")


def check_health(hidden_outputs, first_cost: float, last_cost: float, *, learning_rate: float,
                 init: str) -> list[str]:
    """The dead-network warnings of a finished run, as sentences (empty when healthy).

    Parameters
    ----------
    hidden_outputs : list of arrays ``(m, n[l])``
        Each hidden layer's activations on the whole training set, without dropout.
    first_cost, last_cost : float
        The training cost at the first and the last evaluation.
    learning_rate : float
    init : str
        Name of the initializer, to name the likely cause.
    """
    found = []
    for l, A in enumerate(hidden_outputs, start=1):
        if A.shape[0] > 1 and np.all(np.ptp(A, axis=0) <= 1e-12 * (1.0 + np.abs(A).max())):
            off = "outputs 0" if np.all(A == 0) else "gives the same output"
            found.append(f"every unit of hidden layer {l} ({A.shape[1]} units) {off} on every "
                         f"training example: the layer is dead, the network cannot tell the examples "
                         f"apart and predicts one class")
    if np.isfinite(first_cost) and last_cost > COST_RISE * first_cost:
        found.append(f"the training cost rose from {first_cost:.3g} to {last_cost:.3g} "
                     f"(more than {COST_RISE:g} times its start): gradient descent diverged")
    if found:  # one cause for all the symptoms, said once
        found[-1] += f"; {_cause(learning_rate, init)}"
    return found
