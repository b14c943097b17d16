"""The fast engine's compiled steps (numba), imported only by :mod:`reglab.training.fast`.

One call runs a chunk of consecutive gradient-descent steps, each exactly the
reference step of :func:`reglab.training.loop.train`: forward with inverted
dropout, cost (loss from logits plus penalties), backward, update. Activations
are held as ``(units, examples)`` (the course's layout) so that the inner loops
run over examples, which vectorize even when a layer has 1 to 20 units; the
products go through BLAS (:mod:`._blas`).

Every element-wise formula is written as the reference writes it, operation for
operation (``(H * D) / p``, ``(lambd * W) / m``, ``W - lr * dW``), so the only
rounding differences left are the summation orders of the products and the
reductions (``reassoc`` lets LLVM vectorize them, as BLAS does).

Codes: hidden activations ``0`` relu, ``1`` leaky_relu, ``2`` tanh, ``3``
sigmoid; output ``0`` sigmoid, ``1`` softmax.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._blas import forward_product, input_product, weight_product
from ._exact import divide
from ._random import draw_mask
from ._vmath import exp as vexp
from ._vmath import log1p as vlog1p

# Reductions may be reordered (vectorized); no flag that would change NaN/inf handling.
_FLAGS = {"reassoc", "contract"}


def pack(weights, biases) -> tuple[np.ndarray, np.ndarray]:
    """All parameters in one flat array (``W1, b1, W2, ...``) and each layer's ``(n[l], n[l-1])``.

    One flat array keeps one compiled signature whatever the depth (a tuple's type
    has its length; numba's typed lists cost a second to set up in every process).
    """
    flat = np.concatenate([a.ravel() for W, b in zip(weights, biases) for a in (W, b)])
    return flat, np.array([W.shape for W in weights], np.int64)


def unpack(flat, weights, biases) -> None:
    """Copy the parameters in ``flat`` back into ``weights`` and ``biases`` (in place)."""
    pos = 0
    for W, b in zip(weights, biases):
        for a in (W, b):
            a.ravel()[...] = flat[pos:pos + a.size]  # ravel of a C array is a view
            pos += a.size


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _row_sum(Z, j):
    s = 0.0
    for i in range(Z.shape[1]):
        s += Z[j, i]
    return s


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sum_squares(W):
    s = 0.0
    for j in range(W.shape[0]):
        for k in range(W.shape[1]):
            s += float(W[j, k]) * float(W[j, k])
    return s


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sum_abs(W):
    s = 0.0
    for j in range(W.shape[0]):
        for k in range(W.shape[1]):
            s += abs(float(W[j, k]))
    return s


@njit(cache=True, error_model="numpy")
def _expit(x):
    return 1.0 / (1.0 + math.exp(-x))  # scipy.special.expit's formula


@njit(cache=True, error_model="numpy", inline="always")
def _mask_row(h, a, d, p, q, one):
    """``a = (h * d) / p`` for one row (``a`` may be ``h``); the division is
    :func:`._exact.divide`, a multiply rounded as the division."""
    zero = one - one
    for i in range(len(a)):
        a[i] = divide(h[i] * (one if d[i] else zero), p, q)


@njit(cache=True, error_model="numpy")
def _add_bias(Z, b):
    """In place: ``Z + b`` (the output layer's logits)."""
    for j in range(Z.shape[0]):
        bj = b[j]
        for i in range(Z.shape[1]):
            Z[j, i] = Z[j, i] + bj


@njit(cache=True, error_model="numpy")
def _activate(H, b, code, slope, masked, D, off, A, p, one, two, W, X):
    """In place: ``H = g(H + b)``; with ``masked``, also ``A = (H * D) / p`` (inverted
    dropout, the mask's ``(n, m)`` block at ``D[off:]``); with ``two``, ``H = W @ X``
    first, for a layer with two inputs (2-D points: football, field, moons). One row
    at a time: the row's product, activation and mask while it is in the first-level
    cache (for two inputs this beat a BLAS call and a second pass over ``H``: 0.70
    against 1.18 us for football's first layer, relu included)."""
    n, m = H.shape
    q = one / p
    for j in range(n):
        bj = b[j]
        h = H[j]
        if two:
            w0, w1 = W[j, 0], W[j, 1]
            x0, x1 = X[0], X[1]
            for i in range(m):
                h[i] = w0 * x0[i] + w1 * x1[i]
        if code == 0:
            for i in range(m):
                z = h[i] + bj
                h[i] = z if not z < 0.0 else 0.0  # np.maximum(Z, 0.0), NaN kept
        elif code == 1:
            for i in range(m):
                z = h[i] + bj
                h[i] = z if z > 0 else slope * z
        elif code == 2:
            for i in range(m):
                h[i] = math.tanh(h[i] + bj)
        else:
            for i in range(m):
                h[i] = _expit(h[i] + bj)
        if masked:
            _mask_row(h, A[j], D[off + j * m:off + (j + 1) * m], p, q, one)


@njit(cache=True, error_model="numpy")
def _activation_backward(dA, H, code, one, slope, masked, D, off, p):
    """In place: ``dA`` becomes ``dZ = dA * g'(Z)`` as the reference writes it, after
    ``dA = (dA * D) / p`` with ``masked`` (one row at a time, as :func:`_activate`).

    ``H = g(Z)``; for relu and leaky relu ``H > 0`` exactly where ``Z > 0``. The
    in-place mask reads and writes one array (a loop from one array into another
    that may be the same fails LLVM's overlap check and runs scalar).
    """
    n, m = dA.shape
    zero = 0.0 * one
    q = one / p
    for j in range(n):
        a = dA[j]
        h = H[j]
        if masked:
            _mask_row(a, a, D[off + j * m:off + (j + 1) * m], p, q, one)
        if code == 0:
            for i in range(m):
                a[i] = a[i] * (one if h[i] > 0 else zero)
        elif code == 1:
            for i in range(m):
                a[i] = a[i] * (one if h[i] > 0 else slope)
        elif code == 2:
            for i in range(m):
                a[i] = a[i] * (one - h[i] * h[i])
        else:
            for i in range(m):
                a[i] = a[i] * h[i] * (one - h[i])


_LN2 = math.log(2.0)  # numpy's logaddexp(0, 0) = 0 + LOGE2


@njit(cache=True, fastmath={"reassoc"}, error_model="numpy")
def _add(a, b):
    """``a + b`` that LLVM may reorder: a loop summing with it vectorizes (the other
    operations of the loop keep their exact IEEE order)."""
    return a + b


@njit(cache=True, error_model="numpy")
def _sigmoid_output(Z, y, dZ):
    """The sigmoid output of :func:`_output`: one loop over examples, vector code.

    It calls :mod:`._vmath`'s ``exp``/``log1p``, not the C library's (calls that
    no loop vectorizes); with them this loop is a third of its former time. They
    are within 1 ulp of the C library's: besides the summation orders, the one
    source of rounding differences from the reference.
    """
    m = Z.shape[1]
    total = 0.0
    for i in range(m):
        z = float(Z[0, i])
        # One exp serves the loss and the sigmoid: e = exp(-|z|).
        e = vexp(-abs(z))
        loss = vlog1p(e) + max(z, 0.0)  # numpy's logaddexp(0, z)
        loss = _LN2 if z == 0.0 else loss
        total = _add(total, loss - y[i] * z)
        proba = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
        dZ[0, i] = proba - y[i]
    return total / m


@njit(cache=True, error_model="numpy")
def _output(Z, y, dZ, softmax, one):
    """Mean loss from logits ``Z`` ``(n_out, m)``; ``dZ`` gets ``proba - onehot(y)``.

    The softmax keeps the C library's ``exp``/``log``: vectorizing it (one pass per
    class) cut its time from 4-9 to 2 us on 10 classes x 64 examples, under 1% of
    such a step (digits), and added 0.2-0.3 s of compilation.
    """
    if not softmax:
        return _sigmoid_output(Z, y, dZ)
    n_out, m = Z.shape
    total = 0.0
    for i in range(m):
        top = Z[0, i]
        for j in range(1, n_out):
            if Z[j, i] > top:
                top = Z[j, i]
        s = 0.0 * one
        for j in range(n_out):
            e = math.exp(Z[j, i] - top)
            dZ[j, i] = e
            s += e
        for j in range(n_out):
            dZ[j, i] = dZ[j, i] / s
        dZ[y[i], i] -= one
        total -= float(Z[y[i], i] - top) - math.log(s)
    return total / m


@njit(cache=True, error_model="numpy", nogil=True)
def run_steps(params, shapes, X, XT, y, idx, starts, sizes, gather, acts, keep, keep64, lanes, fresh,
              masks, mask_off, fail_masks, consts, softmax, costs, first, progress, gemm):
    """Run ``len(starts)`` steps in place on ``Ws``/``bs``; costs go to ``costs[first + t]``.

    Parameters
    ----------
    params, shapes : the parameters as :func:`pack` lays them out, updated in place
    X, XT : the training examples ``(m, n0)`` and their transpose ``(n0, m)``
    y : int64 labels ``(m,)``
    idx, starts, sizes : step ``t`` trains on rows ``idx[starts[t]:starts[t] + sizes[t]]``
        when ``gather``; otherwise on all of ``XT``
    acts : int64 code per hidden layer; keep : keep probability per hidden layer
    lanes, fresh : with ``fresh``, every step draws its dropout masks from the
        run's mask generator exactly as ``FreshMasks`` does,
        ``rng.random((m, n[l])) < keep[l]`` per layer with keep < 1, in layer
        order: ``lanes`` is its state (:func:`reglab.training._random.lanes_from`,
        advanced in place), ``keep64`` the keep probabilities in float64 (the
        reference compares with the Python float); ``progress[1]`` receives the
        count of numbers drawn
    masks, mask_off : otherwise (the course's masks), the bool masks flattened;
        step ``t``'s begin at ``mask_off[t]``, one ``(n[l], m)`` block per layer
        with keep < 1
    fail_masks : receives the masks of a step whose cost is not finite (same layout)
    progress : ``progress[0]`` is set to the number of steps whose update is made,
        after each step (what a Ctrl-C that arrives during the call leaves behind)
    consts : ``[learning_rate, l2, l1, leaky slope, 1]`` in the compute dtype
    gemm : the address of BLAS's gemm for the compute dtype (:func:`._blas.gemm_address`)

    Returns
    -------
    int : the number of steps run; fewer than asked when step ``returned`` had a
    non-finite cost (its cost is stored, its update not made).
    """
    L = len(shapes)
    dtype = consts.dtype
    # 2-D copies of the weights, written back at the end (a reshape's error path alone
    # costs seconds of compilation); the biases are views.
    Ws = []
    bs = []
    pos = 0
    hidden = 0
    for l in range(L):
        n_out, n_in = shapes[l, 0], shapes[l, 1]
        W = np.empty((n_out, n_in), dtype)
        for j in range(n_out):
            for k in range(n_in):
                W[j, k] = params[pos + j * n_in + k]
        Ws.append(W)
        pos += n_out * n_in
        bs.append(params[pos:pos + n_out])
        pos += n_out
        if l < L - 1:
            hidden += n_out
    lr, l2, l1, slope, one = consts[0], consts[1], consts[2], consts[3], consts[4]
    mf = np.empty(1, dtype)
    l1_m = np.empty(1, dtype)
    Gs = [np.empty((W.shape[0], W.shape[1]), dtype) for W in Ws]
    # Buffers of one batch size, made again only when the size changes (last batch).
    cur = -1
    Hb = [np.empty((0, 0), dtype)]
    Ab = [np.empty((0, 0), dtype)]
    dAb = [np.empty((0, 0), dtype)]
    Dfresh = np.empty(0, np.bool_)
    doff = np.zeros(L, np.int64)  # where each layer's mask begins in the step's masks
    A0b = np.empty((0, 0), dtype)
    yg = np.empty(0, np.int64)
    used = np.zeros(1, np.int64)  # numbers drawn from the mask stream
    ins = [XT]  # each layer's input: the batch, then the (masked) activations
    for t in range(len(starts)):
        mb = sizes[t]
        mf[0] = mb
        m_ = mf[0]  # m in the compute dtype, as NumPy divides by it
        if mb != cur:
            cur = mb
            Hb = [np.empty((W.shape[0], mb), dtype) for W in Ws]
            Ab = [np.empty((W.shape[0], mb), dtype) for W in Ws]
            dAb = [np.empty((W.shape[1], mb), dtype) for W in Ws]
            Dfresh = np.empty(mb * hidden, np.bool_)
            A0b = np.empty((X.shape[1], mb), dtype)
            yg = np.empty(mb, np.int64)
            # Made once per batch size, not every step (a list per step is an allocation
            # and a reference count per element).
            ins.clear()
            ins.append(A0b if gather else XT)
            for l in range(L - 1):
                ins.append(Ab[l] if keep[l] < 1 else Hb[l])
        if gather:  # the step's rows into the batch buffer, ins[0]
            yb = yg
            for i in range(mb):
                r = idx[starts[t] + i]
                yb[i] = y[r]
                for k in range(X.shape[1]):
                    A0b[k, i] = X[r, k]
        else:
            yb = y
        # The step's masks, flat, one (n[l], m) block per layer with keep < 1: drawn
        # into Dfresh, or the course's own in ``masks``.
        Dm = Dfresh if fresh else masks
        off = mask_off[t] if not fresh else 0
        for l in range(L):
            W = Ws[l]
            H = Hb[l]
            two = l < L - 1 and W.shape[1] == 2  # the product in _activate's pass
            if not two:
                forward_product(gemm, W, ins[l], H)
            if l == L - 1:
                _add_bias(H, bs[l])
                logits = H
                break
            p = keep[l]
            n = H.shape[0]
            masked = p < 1
            if masked:
                doff[l] = off
                if fresh:  # rng.random((mb, n)) < keep, straight into the (n, mb) block
                    draw_mask(lanes, used, keep64[l], Dm, off, mb, n)
            _activate(H, bs[l], acts[l], slope, masked, Dm, off, Ab[l], p, one, two, W, ins[l])
            if masked:
                off += mb * n
        drawn = off - (mask_off[t] if not fresh else 0)
        dZ = Ab[L - 1]
        c = _output(logits, yb, dZ, softmax, one)
        penalty = 0.0
        if l2 > 0:
            sq = 0.0
            for l in range(L):
                sq += _sum_squares(Ws[l])
            penalty += float(l2) / (2 * mb) * sq
        if l1 > 0:
            ab = 0.0
            for l in range(L):
                ab += _sum_abs(Ws[l])
            penalty += float(l1) / mb * ab
        c = c + penalty
        costs[first + t] = c
        if not math.isfinite(c):
            start = mask_off[t] if not fresh else 0
            for i in range(drawn):
                fail_masks[i] = Dm[start + i]
            progress[1] = used[0]
            _write_back(Ws, params, shapes)
            return t
        l1_m[0] = float(l1) / mb  # the reference's lambd / m, a Python float
        for l in range(L - 1, -1, -1):
            W = Ws[l]
            b = bs[l]
            A_prev = ins[l]
            if l > 0:
                dA = dAb[l]
                input_product(gemm, W, dZ, dA)  # with W before its update
            G = Gs[l]
            weight_product(gemm, dZ, A_prev, G)
            for j in range(W.shape[0]):
                for k in range(W.shape[1]):
                    w = W[j, k]
                    g = G[j, k] / m_
                    if l2 > 0:
                        g = g + (l2 * w) / m_
                    if l1 > 0:
                        sign = one if w > 0 else (-one if w < 0 else w - w)  # np.sign
                        g = g + l1_m[0] * sign
                    W[j, k] = w - lr * g
                b[j] = b[j] - lr * (_row_sum(dZ, j) / m_)
            if l == 0:
                break
            p = keep[l - 1]
            _activation_backward(dA, Hb[l - 1], acts[l - 1], one, slope, p < 1, Dm, doff[l - 1], p)
            dZ = dA
        progress[0] = t + 1
        progress[1] = used[0]
    _write_back(Ws, params, shapes)
    return len(starts)


@njit(cache=True, error_model="numpy")
def _write_back(Ws, params, shapes):
    """The 2-D weights back into the flat parameters."""
    pos = 0
    for l in range(len(Ws)):
        W = Ws[l]
        for j in range(W.shape[0]):
            for k in range(W.shape[1]):
                params[pos + j * W.shape[1] + k] = W[j, k]
        pos += W.shape[0] * W.shape[1] + W.shape[0]
