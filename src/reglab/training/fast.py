"""The fast engine: the reference loop's steps, compiled (numba), run in chunks.

:func:`reglab.training.loop.train` sets a run up (validation, initial weights,
random streams, augmentation, early stopping, the evaluations of the history)
and hands the stepping to :func:`run_fast` when the engine is ``"fast"``. Between
two evaluations the steps run inside one compiled call
(:func:`reglab.training._kernels.run_steps`); the evaluations, early stopping,
callbacks and error reports stay the reference's own Python code.

The random streams are the reference's: the kernel draws the dropout masks from
the run's own mask generator's PCG64 stream (:mod:`reglab.training._random`:
the numbers of the reference's per-step, per-layer ``rng.random((m, n))``
calls, in the same order, and the generator moved on by the count drawn); the
course's masks are the reference sampler's own arrays; mini-batch orders come
from the shuffle generator once per epoch; the augmenter runs in Python on each
batch, and a chunk's augmented batches go to the kernel stacked. Inside a group
of runs stepped together (:mod:`reglab.training.batch`) each chunk goes through
the group. What differs is the order of the sums inside the products and the
last bit of some ``exp``/``log1p`` (:mod:`._vmath`), so costs agree with the
reference to about 1e-10 relative (tests hold them to 1e-9).

numba is imported on the first fast run, never by ``import reglab``; its
compilations are cached in the user's cache directory (``NUMBA_CACHE_DIR``, set
before numba is imported unless the user set it), so a new process loads them
instead of compiling, also when the package itself is installed read-only.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from ..nn.activations import LEAKY_SLOPE
from ..nn.dropout import CourseMasks, FreshMasks
from .batch import call_kernel

_ACT_CODES = {"relu": 0, "leaky_relu": 1, "tanh": 2, "sigmoid": 3}


def user_cache_dir() -> Path:
    """Where reglab caches compiled code: the platform's per-user cache directory."""
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return root / "reglab" / "Cache" / "numba"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "reglab" / "numba"
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "reglab" / "numba"


#: The modules whose code the compiled kernel holds (numba inlines and links them).
KERNEL_MODULES = ("_kernels.py", "_random.py", "_vmath.py", "_blas.py", "_exact.py")


def kernel_cache_dir() -> Path:
    """The cache directory of this version of the kernels: the user's cache directory,
    then a digest of the kernel modules' sources.

    numba checks a cached function against its own source file only: a change to a
    module it calls (``_random.py``, say) alone would leave the old code in use. One
    directory per set of sources rules that out.
    """
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in KERNEL_MODULES:
        digest.update((here / name).read_bytes())
    return user_cache_dir() / f"kernels-{digest.hexdigest()[:16]}"


def _kernels():
    """The compiled kernels; the first call points numba's cache at the kernels' cache dir."""
    if "numba" not in sys.modules and not os.environ.get("NUMBA_CACHE_DIR"):
        os.environ["NUMBA_CACHE_DIR"] = str(kernel_cache_dir())
    from . import _kernels
    return _kernels


_READY: set = set()

#: The most numbers of augmented examples a chunk holds (16 MB of float64): the chunk of
#: steps between two evaluations is cut shorter when its augmented batches would exceed it.
_AUGMENTED_ELEMENTS = 1 << 21


def prepare(dtype) -> None:
    """Load (or compile, the first time on a machine) the kernels for ``dtype``.

    :func:`reglab.training.loop.train` calls it before its clock starts, so a
    run's ``seconds`` are training time; the first call in a process costs the
    numba import and the cache load (about 1-2 s), or the compilation when the
    cache is cold (about 8 s).
    """
    dtype = np.dtype(dtype)
    if dtype in _READY:
        return
    k = _kernels()
    W = [np.ones((2, 2), dtype), np.ones((1, 2), dtype)]
    b = [np.zeros(2, dtype), np.zeros(1, dtype)]
    X = np.ones((2, 2), dtype)
    one = np.ones(1, np.int64)
    k.run_steps(*k.pack(W, b), X, X.copy(), np.zeros(2, np.int64), one, one * 0, one * 2, False,
                np.zeros(1, np.int64), np.ones(1, dtype), np.ones(1), np.zeros(1, np.uint64), False,
                np.zeros(1, np.bool_), one * 0, np.zeros(1, np.bool_),
                np.array([0.1, 0, 0, 0.01, 1], dtype), False, np.empty(1), 0, np.zeros(2, np.int64),
                _gemm(dtype))
    _READY.add(dtype)


class _Batches:
    """Which rows each step trains on, drawing one permutation per epoch as the reference does."""

    def __init__(self, m: int, batch_size: int | None, n_batches: int, rng):
        self.m, self.size, self.n_batches, self.rng = m, batch_size, n_batches, rng
        self.epoch, self.order = -1, None

    def rows(self, step: int) -> np.ndarray:
        epoch, k = divmod(step, self.n_batches)
        if epoch != self.epoch:
            self.epoch, self.order = epoch, self.rng.permutation(self.m)
        return self.order[k * self.size:(k + 1) * self.size]


def _course_masks(sampler: CourseMasks, sizes, widths) -> tuple[np.ndarray, np.ndarray]:
    """The course's masks for steps with batch ``sizes``, flattened, and where each step's begin.

    The course re-seeds every pass, so one set of masks per batch size serves
    every step. A set holds one block per layer with keep < 1, in layer order,
    each the transposed ``(n[l], m)`` of the sampler's ``(m, n[l])`` mask (the
    kernels' layout).
    """
    offsets = np.zeros(len(sizes), np.int64)
    blocks, where = [], {}
    for t, mb in enumerate(sizes):
        if mb not in where:
            masks = sampler(int(mb), widths)
            where[mb] = sum(b.size for b in blocks)
            blocks.extend(np.ascontiguousarray(d.T).ravel()
                          for d, p in zip(masks, sampler.keep_probs) if p < 1)
        offsets[t] = where[mb]
    return np.concatenate(blocks), offsets


def _gemm(dtype) -> int:
    from ._blas import gemm_address
    return gemm_address(dtype)


def _lanes_from(bit_generator):
    from ._random import lanes_from
    return lanes_from(bit_generator)


def _chunk_end(step: int, n_steps: int, record_every: int) -> int:
    """The step at which the next evaluation (or the end) falls."""
    return min(n_steps, (step // record_every + 1) * record_every)


def run_fast(weights, biases, X, y, config, *, acts, output, keep, sampler, n_batches,
             n_steps, record_every, shuffle_rng, augmenter, augment_rng, history,
             evaluate, fail) -> tuple[int, str | None]:
    """Run the steps of a set-up training (see :func:`reglab.training.loop.train`).

    ``weights`` and ``biases`` are updated in place; ``history.costs`` is filled;
    ``evaluate(step)`` is called at every evaluation point and ``fail(step, what)``
    on a non-finite value, as in the reference loop.

    Returns
    -------
    step : int, the number of steps run
    reason : str or None, why training stopped early (from ``evaluate``)
    """
    k = _kernels()
    dtype = weights[0].dtype
    m = len(X)
    widths = config.layers
    batches = _Batches(m, config.batch_size, n_batches, shuffle_rng) if n_batches > 1 else None
    params, shapes = k.pack(weights, biases)
    act_codes = np.array([_ACT_CODES[a] for a in acts], np.int64)
    keep_arr = np.array(keep, dtype)
    consts = np.array([config.learning_rate, config.l2, config.l1, LEAKY_SLOPE, 1.0], dtype)
    softmax = output == "softmax"
    # Writable C arrays: read-only ones would be another compiled signature.
    X = np.require(X, dtype, ["C", "W"])
    XT = np.require(X.T, dtype, ["C", "W"])
    y = np.require(y, np.int64, ["C", "W"])
    fresh = isinstance(sampler, FreshMasks)
    if sampler is not None and not fresh and not isinstance(sampler, CourseMasks):
        raise TypeError(f"the fast engine cannot draw masks like {type(sampler).__name__}")
    keep64 = np.array(keep, np.float64)
    no_lanes = np.zeros(1, np.uint64)  # without fresh masks the kernel never reads the stream
    no_masks = np.zeros(1, np.bool_)
    progress = np.zeros(2, np.int64)
    gemm = _gemm(dtype)
    per_step = min(m, config.batch_size or m)
    no_xt = np.zeros((X.shape[1], 1), dtype)  # the gathered path reads X only
    step, reason = 0, None
    try:
        while step < n_steps and reason is None:
            end = _chunk_end(step, n_steps, record_every)
            if augmenter is not None:  # the chunk's augmented batches are held at once
                end = min(end, step + max(1, _AUGMENTED_ELEMENTS // (per_step * X.shape[1])))
            count = end - step
            if batches is not None:
                rows = [batches.rows(s) for s in range(step, end)]
                sizes = np.array([len(r) for r in rows], np.int64)
                idx = np.concatenate(rows)
            else:
                sizes, idx = np.full(count, m, np.int64), np.zeros(1, np.int64)
            Xs, XTs, ys, gather = X, XT, y, batches is not None
            if augmenter is not None:
                # Every step's batch transformed in step order, as the reference does one
                # step at a time (the augmenter's generator is the only stream it uses), then
                # stacked: step t trains on rows starts[t]:starts[t] + sizes[t] of the stack.
                pieces = [augmenter.transform(X[r], y[r], augment_rng) if gather
                          else augmenter.transform(X, y, augment_rng)
                          for r in (rows if gather else [None] * count)]
                Xs = np.require(np.concatenate([p[0] for p in pieces]), dtype, ["C", "W"])
                ys = np.require(np.concatenate([p[1] for p in pieces]), np.int64, ["C", "W"])
                XTs, gather = no_xt, True
                sizes = np.array([len(p[0]) for p in pieces], np.int64)
                idx = np.arange(len(Xs), dtype=np.int64)
            if sampler is not None and not fresh:
                masks, offsets = _course_masks(sampler, sizes, widths)
            else:
                masks, offsets = no_masks, np.zeros(len(sizes), np.int64)
            fail_masks = np.zeros(int(sizes.max()) * sum(widths), np.bool_)
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            progress[:] = 0
            # The mask generator's stream, drawn by vector lanes (see _random); the
            # generator is moved on by what the call drew.
            lanes = _lanes_from(sampler.rng.bit_generator) if fresh else no_lanes
            history.stopped_at = step  # until the call returns, Ctrl-C leaves step + progress[0]
            done = call_kernel(k.run_steps, params, shapes, Xs, XTs, ys, idx, starts, sizes, gather, act_codes, keep_arr,
                               keep64, lanes, fresh, masks, offsets, fail_masks, consts, softmax,
                               history.costs, step, progress, gemm)
            if fresh:
                sampler.rng.bit_generator.advance(int(progress[1]))
            k.unpack(params, weights, biases)  # evaluate, fail and the network read these
            if done < count:
                step += done
                fail(step, _where(weights, biases, Xs, idx, starts[done], sizes[done], gather,
                                  fail_masks, sampler is not None, config, acts, keep))
            step = end
            if step % record_every == 0 or step == n_steps:
                from .loop import _nonfinite_where
                where = _nonfinite_where(weights, biases)
                if where is not None:
                    fail(step, where)
                reason = evaluate(step)
    except KeyboardInterrupt:
        # Ctrl-C surfaces when the compiled call returns or in Python code; at any
        # point the parameters hold history.stopped_at + progress[0] steps.
        k.unpack(params, weights, biases)
        return int(history.stopped_at + progress[0]), "interrupted"
    return step, reason


def _where(weights, biases, X, idx, start, size, gather, masks, dropout, config, acts, keep):
    """Name what went non-finite at a failed step, with the reference's forward pass."""
    from ..nn.activations import get_activation
    from ..nn.network import forward
    from .loop import _nonfinite_where
    Xb = X[idx[start:start + size]] if gather else X
    step_masks, pos = [], 0
    for n, p in zip(config.layers, keep):
        if p < 1 and dropout:
            step_masks.append(masks[pos:pos + size * n].reshape(n, size).T)
            pos += size * n
        else:
            step_masks.append(None)
    cache = forward(weights, biases, Xb, [get_activation(a) for a in acts], step_masks, keep)[1]
    return _nonfinite_where(weights, biases, cache) or "the cost"
