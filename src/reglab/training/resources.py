"""How much memory a training run needs, estimated before anything is allocated.

A configuration such as ``iterations=10**12`` or ``layers=(100000, 100000)`` would
otherwise end in a NumPy allocation error (or the machine swapping for minutes)
after the data are loaded. :func:`check_memory` refuses it up front with the
estimate, its main parts, and the memory the machine has available.
"""

from __future__ import annotations

import math
import os

from .._validation import InputError

#: Python floats kept in a history list cost about this much each (object + list slot).
_PY_FLOAT = 32


def n_steps(config, n_train: int) -> int:
    """Gradient steps of a run of ``config`` on ``n_train`` examples (offline augmentation included)."""
    m = n_train * (config.augment_factor if config.augment and config.augment_mode == "offline" else 1)
    if config.batch_size is None:
        return config.iterations
    return config.epochs * math.ceil(m / min(config.batch_size, m))


def estimate_bytes(config, n_train: int, n_features: int, n_outputs: int, n_dev: int = 0) -> dict:
    """The bytes a run needs, by part: ``weights``, ``activations``, ``history``, ``data``
    and their ``total``.

    Parameters
    ----------
    config : TrainConfig
    n_train, n_features : size of the training set
    n_outputs : units of the output layer (1 for a sigmoid)
    n_dev : size of the dev set (evaluated every ``record_every`` steps)

    Notes
    -----
    The parts, with ``b`` bytes per number: weights ``4 P b`` (parameters,
    gradients, the update's temporaries, the best weights early stopping keeps);
    activations ``6 m_b U b`` on a step's batch of ``m_b`` rows with ``U`` units
    in all layers (``Z``, ``A``, masks, ``dA``, ``dZ`` and a copy), and
    ``2 (n_train + n_dev) U b`` for an evaluation; history 8 bytes per step and
    about 32 bytes per recorded number; data ``(n_train + n_dev) n_features b``
    (times the offline augmentation factor). It errs on the high side.
    """
    b = 4 if config.dtype == "float32" else 8
    sizes = [n_features, *config.layers, n_outputs]
    P = sum(sizes[l] * sizes[l - 1] + sizes[l] for l in range(1, len(sizes)))
    U = sum(sizes[1:])
    factor = config.augment_factor if config.augment and config.augment_mode == "offline" else 1
    m = n_train * factor
    batch = m if config.batch_size is None else min(config.batch_size, m)
    steps = n_steps(config, n_train)
    evals = steps // max(1, config.record_every) + 2
    parts = {"weights": 4 * P * b,
             "activations": 6 * batch * U * b + 2 * (n_train + n_dev) * U * b,
             "history": 8 * steps + evals * (5 + len(sizes)) * _PY_FLOAT,
             "data": (m + n_dev) * n_features * b}
    parts["total"] = sum(parts.values())
    return parts


def available_memory() -> int | None:
    """Bytes this process could still get: the machine's available memory (``MemAvailable``
    on Linux), lowered by an address-space limit if one is set; None when unknown."""
    found = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if found is None and hasattr(os, "sysconf"):
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            pass
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:
            found = soft if found is None else min(found, soft)
    except (ImportError, OSError, ValueError):
        pass
    return found


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover - the loop returns first


def check_memory(parts: dict, *, what: str = "this configuration", runs_at_once: int = 1,
                 available: int | None = None) -> None:
    """Refuse (InputError) when ``runs_at_once`` runs of ``parts`` (from :func:`estimate_bytes`)
    need more than the available memory; the message gives the estimate and what is available."""
    available = available_memory() if available is None else available
    need = parts["total"] * runs_at_once
    if available is None or need <= available:
        return
    detail = ("per run: " if runs_at_once > 1 else "") + ", ".join(
        f"{k} {format_bytes(v)}" for k, v in parts.items() if k != "total")
    at_once = f"; times {runs_at_once} runs at once (--jobs)" if runs_at_once > 1 else ""
    raise InputError(f"{what} needs about {format_bytes(need)} of memory ({detail}{at_once}), more "
                     f"than the {format_bytes(available)} this machine has available; use smaller "
                     f"layers, fewer iterations or epochs, or less data"
                     + (", or fewer --jobs" if runs_at_once > 1 else ""))
