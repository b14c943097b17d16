"""The fast engine's compiled steps (numba), imported only by :mod:`reglab.training.fast`.

One call runs a chunk of consecutive gradient-descent steps, each exactly the
reference step of :func:`reglab.training.loop.train`: forward with inverted
dropout, cost (loss from logits plus penalties), backward, update. Activations
are held as ``(units, examples)`` (the course's layout) so that the inner loops
run over examples, which vectorize even when a layer has 1 to 20 units; layers
whose weight matrix is large go through BLAS (``np.dot``) instead.

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

from ._random import draw_mask

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


@njit(cache=True, error_model="numpy")
def _forward_product(W, A, Z):
    """``Z = W @ A`` (reference: ``A @ W.T``, the bias added after), ``Z`` is ``(n_out, m)``."""
    np.dot(W, A, Z)


@njit(cache=True, error_model="numpy")
def _weight_product(dZ, A, G):
    """``G = dZ @ A.T`` (reference: ``dZ.T @ A_prev``), summed over examples."""
    np.dot(dZ, A.T, G)


@njit(cache=True, error_model="numpy")
def _input_product(W, dZ, dA):
    """``dA = W.T @ dZ`` (reference: ``dZ @ W``), ``dA`` is ``(n_in, m)``."""
    np.dot(W.T, dZ, dA)


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


@njit(cache=True, error_model="numpy")
def _apply_mask(H, D, off, A, p, one):
    """``A = (H * D) / p`` row by row, the mask's ``(n, m)`` block at ``D[off:]``
    (``A`` may be ``H``): contiguous rows, so the division vectorizes."""
    n, m = H.shape
    zero = one - one
    in_place = A.ctypes.data == H.ctypes.data
    for j in range(n):
        h = H[j]
        a = A[j]
        d = D[off + j * m:off + (j + 1) * m]
        if in_place:  # one array: for two that overlap, LLVM's runtime check picks its scalar loop
            for i in range(m):
                h[i] = (h[i] * (one if d[i] else zero)) / p
        else:
            for i in range(m):
                a[i] = (h[i] * (one if d[i] else zero)) / p


@njit(cache=True, error_model="numpy")
def _add_bias(Z, b):
    """In place: ``Z + b`` (the output layer's logits)."""
    for j in range(Z.shape[0]):
        bj = b[j]
        for i in range(Z.shape[1]):
            Z[j, i] = Z[j, i] + bj


@njit(cache=True, error_model="numpy")
def _activate(H, b, code, slope):
    """In place: ``H = g(H + b)``, the bias and the activation in one pass per row."""
    n, m = H.shape
    for j in range(n):
        bj = b[j]
        if code == 0:
            for i in range(m):
                z = H[j, i] + bj
                H[j, i] = z if not z < 0.0 else 0.0  # np.maximum(Z, 0.0), NaN kept
        elif code == 1:
            for i in range(m):
                z = H[j, i] + bj
                H[j, i] = z if z > 0 else slope * z
        elif code == 2:
            for i in range(m):
                H[j, i] = math.tanh(H[j, i] + bj)
        else:
            for i in range(m):
                H[j, i] = _expit(H[j, i] + bj)


@njit(cache=True, error_model="numpy")
def _activation_backward(dA, H, code, one, slope):
    """In place: ``dA`` becomes ``dZ = dA * g'(Z)`` as the reference writes it.

    ``H = g(Z)``; for relu and leaky relu ``H > 0`` exactly where ``Z > 0``.
    """
    n, m = dA.shape
    zero = 0.0 * one
    if code == 0:
        for j in range(n):
            for i in range(m):
                dA[j, i] = dA[j, i] * (one if H[j, i] > 0 else zero)
    elif code == 1:
        for j in range(n):
            for i in range(m):
                dA[j, i] = dA[j, i] * (one if H[j, i] > 0 else slope)
    elif code == 2:
        for j in range(n):
            for i in range(m):
                h = H[j, i]
                dA[j, i] = dA[j, i] * (one - h * h)
    else:
        for j in range(n):
            for i in range(m):
                h = H[j, i]
                dA[j, i] = dA[j, i] * h * (one - h)


@njit(cache=True, error_model="numpy")
def _output(Z, y, dZ, softmax, one):
    """Mean loss from logits ``Z`` ``(n_out, m)``; ``dZ`` gets ``proba - onehot(y)``."""
    n_out, m = Z.shape
    total = 0.0
    if not softmax:
        for i in range(m):
            z = float(Z[0, i])
            # One exp serves the loss and the sigmoid: e = exp(-|z|).
            e = math.exp(-abs(z))
            if z == 0.0:
                loss = math.log(2.0)
            else:
                loss = math.log1p(e) + max(z, 0.0)  # numpy's logaddexp(0, z)
            total += loss - y[i] * z
            proba = 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)
            dZ[0, i] = proba - y[i]
        return total / m
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
              masks, mask_off, fail_masks, consts, softmax, costs, first, progress):
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
        if gather:
            A0 = A0b
            yb = yg
            for i in range(mb):
                r = idx[starts[t] + i]
                yb[i] = y[r]
                for k in range(X.shape[1]):
                    A0[k, i] = X[r, k]
        else:
            A0 = XT
            yb = y
        ins = [A0]
        Hs = []
        # The step's masks, flat, one (n[l], m) block per layer with keep < 1: drawn
        # into Dfresh, or the course's own in ``masks``.
        Dm = Dfresh if fresh else masks
        off = mask_off[t] if not fresh else 0
        for l in range(L):
            W = Ws[l]
            H = Hb[l]
            _forward_product(W, ins[l], H)
            if l == L - 1:
                _add_bias(H, bs[l])
                logits = H
                break
            _activate(H, bs[l], acts[l], slope)
            Hs.append(H)
            p = keep[l]
            n = H.shape[0]
            if p < 1:
                doff[l] = off
                A = Ab[l]
                if fresh:  # rng.random((mb, n)) < keep, straight into the (n, mb) block
                    draw_mask(lanes, used, keep64[l], Dm, off, mb, n)
                _apply_mask(H, Dm, off, A, p, one)
                off += mb * n
                ins.append(A)
            else:
                ins.append(H)
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
                _input_product(W, dZ, dA)  # with W before its update
            G = Gs[l]
            _weight_product(dZ, A_prev, G)
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
            if p < 1:
                _apply_mask(dA, Dm, doff[l - 1], dA, p, one)
            _activation_backward(dA, Hs[l - 1], acts[l - 1], one, slope)
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
