"""Names -> data set loaders, so that configs and the CLI can say ``"moons"``."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .._validation import InputError, describe
from .dataset import Dataset
from .generators import (make_circles, make_circles_course, make_field, make_gaussian,
                         make_moons, make_spiral, make_xor)
from .real import load_breast_cancer, load_digits

#: Built-in data sets by name. Loaders take keyword arguments among
#: ``n_samples``, ``noise``, ``seed`` and ``dev`` (each only those it uses).
DATASETS: dict[str, Callable[..., Dataset]] = {
    "field": make_field,
    "moons": make_moons,
    "spiral": make_spiral,
    "xor": make_xor,
    "gaussian": make_gaussian,
    "circles": make_circles,
    "circles_course": make_circles_course,
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
}


def call_with_kwargs(loader: Callable[..., Dataset], kwargs: dict, what: str, *args) -> Dataset:
    """Call ``loader(*args, **kwargs)``, refusing by name a keyword it does not take.

    Checking the signature first gives an :class:`InputError` that lists what
    the loader accepts, instead of Python's bare ``TypeError``.
    """
    params = inspect.signature(loader).parameters
    accepted = [p for p, spec in params.items()
                if spec.kind in (spec.KEYWORD_ONLY, spec.POSITIONAL_OR_KEYWORD)][len(args):]
    for key in kwargs:
        if key not in accepted:
            known = ", ".join(accepted) if accepted else "no arguments"
            raise InputError(f"{what} does not accept argument {key!r}; it accepts: {known}")
    return loader(*args, **kwargs)


def load_dataset(name: str, **kwargs) -> Dataset:
    """Return the built-in data set ``name`` made with ``kwargs``.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS` (``"moons"``, ``"digits"``, ...).
    **kwargs
        Passed to the loader, e.g. ``n_samples``, ``noise``, ``seed``, ``dev``;
        one the loader does not take raises :class:`InputError`.

    Examples
    --------
    >>> load_dataset("xor", n_samples=200, seed=1).X_train.shape
    (140, 2)
    """
    if not isinstance(name, str) or name not in DATASETS:
        shown = repr(name) if isinstance(name, str) else describe(name)
        raise InputError(f"unknown dataset {shown}; known: {', '.join(sorted(DATASETS))}")
    return call_with_kwargs(DATASETS[name], kwargs, f"dataset {name!r}")
