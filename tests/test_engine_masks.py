"""The fast engine's dropout masks (``training/_random.py``): exactly the reference's.

The reference draws ``rng.random((m, n)) < keep`` from the run's mask generator;
the kernel's ``draw_mask`` must write the same booleans, transposed into its
``(n, m)`` layout, and move the stream on by ``m * n`` numbers, whatever ``m``
and ``n`` (whole lane groups or not) and whatever ``keep``.
"""

from __future__ import annotations

import numpy as np
import pytest

from reglab.training.fast import _kernels

SIZES = [(1, 1), (5, 3), (31, 2), (32, 1), (33, 7), (64, 3), (95, 4), (211, 20), (211, 3), (100, 64)]
KEEPS = [0.5, 0.86, 0.999, 0.75, 1 - 2.0 ** -53, 1e-300]  # 0.75 * 2**53 is an integer


@pytest.fixture(scope="module")
def rnd():
    _kernels()  # numba's cache directory is set before numba is imported
    from reglab.training import _random
    return _random


def draw(rnd, rng, m, n, keep, pad=3):
    """``draw_mask`` into the middle of a buffer of sentinels; the generator moved on
    by the count drawn, as the fast engine does."""
    stream, used = rnd.lanes_from(rng.bit_generator), np.zeros(1, np.int64)
    out = np.ones(m * n + 2 * pad, np.bool_)
    rnd.draw_mask(stream, used, keep, out, pad, m, n)
    assert out[:pad].all() and out[pad + m * n:].all()  # nothing written outside the block
    assert used[0] == m * n
    rng.bit_generator.advance(int(used[0]))
    state = rng.bit_generator.state["state"]["state"]
    assert (int(stream[0]) << 64) + int(stream[1]) == state  # the stream is where the generator is
    return out[pad:pad + m * n].reshape(n, m)


@pytest.mark.parametrize("m, n", SIZES)
@pytest.mark.parametrize("keep", KEEPS)
def test_draw_mask_is_the_references_mask_transposed(rnd, m, n, keep):
    for seed in (0, 123456789):
        ours, theirs = np.random.default_rng(seed).spawn(2)[1], np.random.default_rng(seed).spawn(2)[1]
        got = draw(rnd, ours, m, n, keep)
        want = (theirs.random((m, n)) < keep).T
        assert np.array_equal(got, want)
        assert ours.bit_generator.state == theirs.bit_generator.state
        assert ours.random() == theirs.random()


def test_draw_mask_draws_on_where_the_last_call_stopped(rnd):
    """Successive layers and steps take successive pieces of one stream."""
    ours, theirs = np.random.default_rng(5), np.random.default_rng(5)
    stream, used = rnd.lanes_from(ours.bit_generator), np.zeros(1, np.int64)
    for m, n, keep in [(211, 20, 0.86), (211, 3, 0.5), (7, 1, 0.9), (40, 33, 0.3), (1, 1, 0.5), (65, 2, 0.8)]:
        out = np.empty(m * n, np.bool_)
        rnd.draw_mask(stream, used, keep, out, 0, m, n)
        assert np.array_equal(out.reshape(n, m), (theirs.random((m, n)) < keep).T)
    assert used[0] == 211 * 23 + 7 + 40 * 33 + 1 + 130
    ours.bit_generator.advance(int(used[0]))
    assert ours.bit_generator.state == theirs.bit_generator.state


def test_a_number_equal_to_keep_is_dropped_and_one_just_below_kept(rnd):
    """The integer comparison at its boundary: ``U < keep`` is false when ``keep`` is the
    drawn number itself (``keep * 2**53`` an integer) and true for the next double
    above; also for a number whose 64-bit output has its 11 discarded bits all zero
    (the kernel compares the output with ``ceil(keep * 2**53) * 2**11``)."""
    m, n = 211, 20
    raw = np.random.default_rng(11).bit_generator.random_raw(m * n)
    U = np.random.default_rng(11).random((m, n))
    assert np.array_equal(U.ravel(), (raw >> np.uint64(11)) * 2.0 ** -53)
    zeros = np.flatnonzero(raw & np.uint64(2047) == 0)
    assert len(zeros) > 0
    for where in (0, 17, m * n - 1, zeros[0]):
        u = U.flat[where]
        for keep, kept in [(u, False), (np.nextafter(u, 1.0), True)]:
            got = draw(rnd, np.random.default_rng(11), m, n, float(keep))
            assert got.T.flat[where] == kept
            assert np.array_equal(got, (U < keep).T)


def test_lanes_from_takes_only_pcg64(rnd):
    with pytest.raises(TypeError, match="PCG64 generators, got MT19937"):
        rnd.lanes_from(np.random.MT19937(0))
