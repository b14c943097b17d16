"""Tests of reglab.data: splits, generators, real sets, file loaders, registry."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import sklearn.datasets

from reglab._validation import InputError
from reglab.data import (DATASETS, Dataset, default_ratios, load_breast_cancer, load_csv,
                         load_dataset, load_digits, load_file, load_football, load_mat, load_npz,
                         make_circles, make_circles_course, make_gaussian, make_moons, make_spiral,
                         make_xor, subsample_train, train_dev_test_split)

GENERATORS = [make_moons, make_spiral, make_xor, make_gaussian, make_circles]


def _splits(ds: Dataset):
    out = [(ds.X_train, ds.y_train), (ds.X_test, ds.y_test)]
    if ds.has_dev:
        out.append((ds.X_dev, ds.y_dev))
    return out


# ---------------------------------------------------------------- default_ratios

@pytest.mark.parametrize("n, dev, expected", [
    (1000, True, (0.6, 0.2, 0.2)),
    (10_000, True, (0.6, 0.2, 0.2)),
    (1000, False, (0.8, 0.0, 0.2)),                # the dev examples train; test unchanged
    (1_000_000, True, (0.98, 0.01, 0.01)),
    (1_000_000, False, (0.99, 0.0, 0.01)),
    (100_000, True, (0.96, 0.02, 0.02)),       # 1% would be 1,000 < 2,000
    (100_000_000, True, (0.995, 0.0025, 0.0025)),
    (2_000_000, True, (0.99, 0.005, 0.005)),   # 0.25% would be 5,000 < 10,000
])
def test_default_ratios_follow_the_lecture(n, dev, expected):
    got = default_ratios(n, dev=dev)
    assert got == pytest.approx(expected, abs=1e-12)
    assert sum(got) == pytest.approx(1.0)


def test_default_ratios_are_continuous_at_the_thresholds():
    for n in (10_000, 1_000_000):
        below, above = default_ratios(n), default_ratios(n + 1)
        assert np.allclose(below, above, atol=1e-3)
        # the dev/test counts do not jump either
        assert abs(below[2] * n - above[2] * (n + 1)) <= 1


def test_default_ratios_rejects_bad_input():
    with pytest.raises(InputError, match="n_samples must be an integer >= 1, got 0"):
        default_ratios(0)
    with pytest.raises(TypeError, match="dev must be True or False"):
        default_ratios(100, dev="yes")


# ---------------------------------------------------------------- train_dev_test_split

def _toy(n=103, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.concatenate([np.arange(k), rng.integers(0, k, size=n - k)])
    return X, y


def test_split_shapes_dtypes_and_partition():
    X, y = _toy()
    ds = train_dev_test_split(X, y, seed=3)
    assert ds.has_dev
    assert (ds.X_train.shape, ds.X_dev.shape, ds.X_test.shape) == ((61, 4), (21, 4), (21, 4))
    for Xs, ys in _splits(ds):
        assert Xs.dtype == np.float64 and ys.dtype == np.int64 and ys.shape == (Xs.shape[0],)
    # every row lands in exactly one split, with its own label
    rows = np.concatenate([ds.X_train, ds.X_dev, ds.X_test])
    labels = np.concatenate([ds.y_train, ds.y_dev, ds.y_test])
    order, back = np.lexsort(X.T[::-1]), np.lexsort(rows.T[::-1])
    np.testing.assert_array_equal(rows[back], X[order])
    np.testing.assert_array_equal(labels[back], y[order])


def test_split_never_modifies_inputs():
    X, y = _toy()
    X0, y0 = X.copy(), y.copy()
    ds = train_dev_test_split(X, y)
    ds.X_train[:] = 0.0
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_split_is_reproducible_and_seed_dependent():
    X, y = _toy()
    a, b = train_dev_test_split(X, y, seed=5), train_dev_test_split(X, y, seed=5)
    c = train_dev_test_split(X, y, seed=6)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ratios", [None, (0.7, 0.0, 0.3), (0.5, 0.25, 0.25), (0.8, 0.1, 0.1)])
def test_split_is_stratified_within_one_example(seed, ratios):
    """Each pass is exact to one example: the explicit ratios' single pass, and the rule's two
    (test out of the whole, then dev out of what is left)."""
    X, y = _toy(n=157, k=4, seed=seed)
    ds = train_dev_test_split(X, y, ratios=ratios, seed=seed)
    whole = np.bincount(y, minlength=4) / y.size
    rest = np.concatenate([ds.y_train, ds.y_dev]) if ratios is None else y
    pool = np.bincount(rest, minlength=4) / rest.size
    for split, (_, ys) in zip(("train", "test", "dev"), _splits(ds)):
        share = whole if split == "test" or ratios is not None else pool
        counts = np.bincount(ys, minlength=4)
        assert np.all(np.abs(counts - share * ys.size) < 1), (split, counts, share * ys.size)


def test_split_without_stratify_and_without_dev():
    X, y = _toy()
    ds = train_dev_test_split(X, y, dev=False, stratify=False)
    assert not ds.has_dev and ds.X_dev is None and ds.y_dev is None
    assert (ds.X_train.shape[0], ds.X_test.shape[0]) == (82, 21)


@pytest.mark.parametrize("ratios", [(0.5, 0.5), (0.6, 0.2, 0.3), (0.8, 0.3, -0.1),
                                    (0.0, 0.5, 0.5), (0.8, 0.2, 0.0), "abc"])
def test_split_rejects_bad_ratios(ratios):
    X, y = _toy()
    with pytest.raises(InputError, match="ratios must be three non-negative fractions"):
        train_dev_test_split(X, y, ratios=ratios)


def test_split_names_a_class_too_small_to_stratify():
    X = np.arange(20.0).reshape(10, 2)
    y = np.array([0] * 8 + [1] * 2)
    with pytest.raises(InputError, match=r"class 1 has only 2 member\(s\), at least 3 needed"):
        train_dev_test_split(X, y)
    ds = train_dev_test_split(X, y, dev=False)  # two splits need two members
    assert ds.y_train.sum() in (1, 2) and ds.y_test.sum() in (0, 1)
    assert train_dev_test_split(X, y, stratify=False).X_train.shape == (6, 2)


def test_split_checks_arrays():
    with pytest.raises(InputError, match="y must have one label per sample"):
        train_dev_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(InputError, match="X must be a 2-D array"):
        train_dev_test_split(np.zeros(10), np.zeros(10))


# ---------------------------------------------------------------- generators

@pytest.mark.parametrize("make", GENERATORS)
def test_generator_shapes_dtypes_and_default_split(make):
    ds = make()
    assert (ds.X_train.shape, ds.X_test.shape) == ((320, 2), (80, 2))
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert not ds.has_dev and ds.n_features == 2 and ds.n_classes == 2
    assert set(np.unique(ds.y_train)) == {0, 1}
    with_dev = make(n_samples=200, dev=True)
    assert (with_dev.X_train.shape[0], with_dev.X_dev.shape[0], with_dev.X_test.shape[0]) == (120, 40, 40)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_reproducible_and_seed_dependent(make):
    a, b, c = make(seed=1), make(seed=1), make(seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_validates_arguments(make):
    with pytest.raises(InputError, match="n_samples must be an integer >= 10, got 9"):
        make(n_samples=9)
    with pytest.raises(InputError, match="noise must be a finite number >= 0"):
        make(noise=-0.1)
    with pytest.raises(InputError, match="seed must be an integer >= 0, got -1"):
        make(seed=-1)
    with pytest.raises(TypeError, match="n_samples must be an integer"):
        make(n_samples=100.0)


def test_xor_labels_follow_the_sign_rule_and_avoid_the_axes():
    ds = make_xor(noise=0.0, seed=4)
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(ys, (Xs[:, 0] * Xs[:, 1] > 0).astype(np.int64))
        assert np.all(np.abs(Xs) >= 0.05) and np.all(np.abs(Xs) <= 1)
    assert ds.symmetries == ("rotate180",)


def test_spiral_follows_the_playground_recipe():
    ds = make_spiral(n_samples=100, noise=0.0)
    X = np.concatenate([ds.X_train, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    i = np.arange(50)
    r, t = i / 50 * 5, 1.75 * i / 50 * 2 * np.pi
    for label, delta in ((1, 0.0), (0, np.pi)):
        expected = np.column_stack([r * np.sin(t + delta), r * np.cos(t + delta)])
        got = X[y == label]
        got = got[np.lexsort(got.T[::-1])]
        np.testing.assert_allclose(got, expected[np.lexsort(expected.T[::-1])], atol=1e-12)
    assert ds.symmetries == ()


def test_gaussian_blobs_and_circle_radii():
    g = make_gaussian(noise=0.0, n_samples=1000)
    assert np.allclose(g.X_train[g.y_train == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(g.X_train[g.y_train == 0].std(axis=0), 0.5, atol=0.05)
    c = make_circles(noise=0.0)
    radius = np.linalg.norm(c.X_train, axis=1)
    np.testing.assert_allclose(radius[c.y_train == 0], 1.0)
    np.testing.assert_allclose(radius[c.y_train == 1], 0.5)
    assert set(c.symmetries) == {"reflect_x", "reflect_y", "rotate"}


def test_make_moons_matches_sklearn():
    ds = make_moons(n_samples=100, noise=0.0, seed=3)
    X, y = sklearn.datasets.make_moons(n_samples=100, noise=0.0, random_state=3)
    # whole rows (features and label) compared, not each column sorted on its own
    np.testing.assert_array_equal(_sorted_rows(np.concatenate([ds.X_train, ds.X_test]),
                                               np.concatenate([ds.y_train, ds.y_test])), _sorted_rows(X, y))


def _sorted_rows(X, y):
    """The rows of ``[X | y]`` in lexicographic order: equal as sets of rows, or not."""
    rows = np.column_stack([X, y])
    return rows[np.lexsort(rows.T[::-1])]


def test_sorted_rows_tells_scrambled_rows_apart():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    scrambled = np.array([[0.0, 0.0], [1.0, 1.0]])  # same columns, different rows
    np.testing.assert_array_equal(np.sort(X, axis=0), np.sort(scrambled, axis=0))  # the old check passed
    assert not np.array_equal(_sorted_rows(X, [0, 1]), _sorted_rows(scrambled, [0, 1]))
    assert np.array_equal(_sorted_rows(X, [0, 1]), _sorted_rows(X[::-1], [1, 0]))


def test_make_circles_course_is_the_course_data_and_leaves_global_state_alone():
    before = np.random.get_state()
    ds = make_circles_course()
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    X, y = sklearn.datasets.make_circles(300, noise=0.05, random_state=np.random.RandomState(1))
    Xt, yt = sklearn.datasets.make_circles(100, noise=0.05, random_state=np.random.RandomState(2))
    np.testing.assert_array_equal(ds.X_train[0], X[0])
    assert ds.y_train[0] == y[0]
    np.testing.assert_array_equal(ds.X_train, X)
    np.testing.assert_array_equal(ds.y_test, yt)
    np.testing.assert_array_equal(ds.X_test, Xt)
    assert (ds.X_train.shape, ds.X_test.shape, ds.has_dev) == ((300, 2), (100, 2), False)
    assert ds.name == "circles" and set(ds.symmetries) == {"reflect_x", "reflect_y", "rotate"}


# ---------------------------------------------------------------- real data sets

def test_digits_scaled_to_unit_interval_with_image_shape():
    ds = load_digits()
    assert ds.image_shape == (8, 8) and ds.n_features == 64 and ds.n_classes == 10
    for Xs, _ in _splits(ds):
        assert Xs.min() >= 0.0 and Xs.max() <= 1.0
    assert ds.X_train.max() == 1.0
    sizes = (ds.X_train.shape[0], ds.X_dev.shape[0], ds.X_test.shape[0])
    assert sizes == (1078, 360, 359)  # 20% test, then a quarter of the other 1,438 as dev


def test_breast_cancer_standardized_on_train_only():
    ds = load_breast_cancer(seed=1)
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0, atol=1e-12)
    # the test split used the training statistics, so it is not exactly standardized
    assert np.abs(ds.X_test.mean(axis=0)).max() > 1e-3
    assert set(np.unique(ds.y_train)) == {0, 1} and ds.n_features == 30
    assert not load_breast_cancer(dev=False).has_dev


# ---------------------------------------------------------------- files

def test_football_from_shared_file(football_path):
    ds = load_football(football_path)
    assert ds.X_train.shape == (211, 2) and ds.y_train.shape == (211,)
    assert ds.X_test.shape == (200, 2) and ds.y_test.shape == (200,)
    assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y_train)) == {0, 1}
    raw = scipy.io.loadmat(football_path)
    np.testing.assert_array_equal(ds.X_train, raw["X"])
    np.testing.assert_array_equal(ds.y_test, raw["yval"].ravel())
    assert ds.name == "football" and ds.symmetries == () and not ds.has_dev
    assert load_mat(football_path).name == football_path.stem
    assert load_file(football_path).X_test.shape == (200, 2)


def _mat(tmp_path, name="bad.mat", **arrays):
    path = tmp_path / name
    scipy.io.savemat(path, arrays)
    return path


def test_football_errors(tmp_path):
    with pytest.raises(InputError, match="football file not found: .*nowhere.mat"):
        load_football(tmp_path / "nowhere.mat")
    X, y = np.zeros((4, 2)), np.array([[0], [1], [0], [1]])
    path = _mat(tmp_path, X=X, y=y, yval=y)
    with pytest.raises(InputError, match=r"must be a MATLAB file with arrays X \(m x n\).*missing: Xval"):
        load_football(path)
    path = _mat(tmp_path, X=X, y=np.zeros((4, 2)), Xval=X, yval=y)
    with pytest.raises(InputError, match=r"y must have shape \(4, 1\), got \(4, 2\)"):
        load_football(path)
    path = _mat(tmp_path, X=X, y=y, Xval=np.zeros((4, 3)), yval=y)
    with pytest.raises(InputError, match="Xval must have 2 features"):
        load_football(path)
    path = _mat(tmp_path, X=X, y=y + 1, Xval=X, yval=y)
    with pytest.raises(InputError, match="labels 0/1; y holds 2"):
        load_football(path)
    assert load_mat(path).n_classes == 3  # a general .mat file may have more classes
    text = tmp_path / "text.mat"
    text.write_text("not a matlab file")
    with pytest.raises(InputError, match="must be a MATLAB file .* could not be read"):
        load_football(text)


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_label_last_column_and_by_name(tmp_path):
    path = _csv(tmp_path, "a,b,kind\n" + "\n".join(f"{i},{i % 7}.5,{'dog' if i % 3 else 'cat'}"
                                                  for i in range(40)))
    ds = load_csv(path)
    assert ds.name == "data" and ds.n_features == 2 and not ds.has_dev
    assert (ds.X_train.shape[0], ds.X_test.shape[0]) == (32, 8)
    # strings encoded in sorted order: cat -> 0, dog -> 1; rows with i % 3 == 0 are cats
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(ys, (Xs[:, 0] % 3 != 0).astype(int))
    path = _csv(tmp_path, "a,target,b\n" + "\n".join(f"{i},{i % 2},{-i}" for i in range(40)))
    ds = load_csv(path, label="target", test_size=0.25, dev=True, seed=1)
    assert (ds.X_train.shape[0], ds.X_dev.shape[0], ds.X_test.shape[0]) == (20, 10, 10)
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(Xs[:, 1], -Xs[:, 0])
        np.testing.assert_array_equal(ys, Xs[:, 0] % 2)
    assert load_file(path, label="target").n_features == 2


def test_csv_negative_labels_are_encoded_in_numeric_order(tmp_path):
    path = _csv(tmp_path, "x,y\n" + "\n".join(f"{i},{1 if i % 2 else -1}" for i in range(20)))
    ds = load_csv(path)
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(ys, Xs[:, 0] % 2)


def test_csv_errors(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,2,0\n3,oops,1\n")
    with pytest.raises(InputError, match=r"column 'b' must be numeric, got 'oops' in row 2"):
        load_csv(path)
    path = _csv(tmp_path, "1,2,0\n3,4,1\n")
    with pytest.raises(InputError, match="must start with a header row"):
        load_csv(path)
    path = _csv(tmp_path, "a,b,y\n1,2,0\n3,4\n")
    with pytest.raises(InputError, match="row 2 .* has 2 fields, the header has 3"):
        load_csv(path)
    path = _csv(tmp_path, "a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(InputError, match=r"label must name one column .*\(a, b, y\), got 'z'"):
        load_csv(path, label="z")
    with pytest.raises(InputError, match="CSV file not found"):
        load_csv(tmp_path / "missing.csv")


def test_npz_split_and_stored_splits(tmp_path):
    X, y = _toy(n=50, k=2)
    np.savez(tmp_path / "plain.npz", X=X, y=y)
    ds = load_npz(tmp_path / "plain.npz", seed=2)
    assert (ds.X_train.shape, ds.X_test.shape, ds.name) == ((40, 4), (10, 4), "plain")
    np.testing.assert_array_equal(ds.X_train, load_npz(tmp_path / "plain.npz", seed=2).X_train)
    np.savez(tmp_path / "stored.npz", X=X, y=y, X_test=X[:5], y_test=y[:5], X_dev=X[:3], y_dev=y[:3])
    ds = load_file(tmp_path / "stored.npz")
    np.testing.assert_array_equal(ds.X_train, X)
    np.testing.assert_array_equal(ds.X_test, X[:5])
    np.testing.assert_array_equal(ds.y_dev, y[:3])
    np.savez(tmp_path / "half.npz", X=X, y=y, X_test=X[:5])
    with pytest.raises(InputError, match="missing: y_test"):
        load_npz(tmp_path / "half.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([1, "a"], dtype=object), y=y)
    with pytest.raises(InputError, match="must be a .npz archive"):
        load_npz(tmp_path / "obj.npz")


def test_csv_unreadable_files_name_the_file(tmp_path):
    path = tmp_path / "huge_field.csv"
    path.write_text("a,y\n1,0\n" + "2," + "9" * 200_000 + "\n")
    with pytest.raises(InputError, match=r"huge_field.csv: line 3 cannot be read as CSV \(field larger than"):
        load_csv(path)
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"binary.csv is not a UTF-8 text CSV file$"):
        load_csv(path)
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,caf\xe9\n1,0\n2,1\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1.csv is not a UTF-8 text CSV file$"):
        load_file(path)


def test_csv_labels_are_kept_only_when_exactly_0_to_k_minus_1(tmp_path):
    # {1, 2}: no phantom class 0, 1 -> 0 and 2 -> 1
    path = _csv(tmp_path, "x,y\n" + "\n".join(f"{i},{1 + i % 2}" for i in range(20)))
    ds = load_csv(path)
    assert ds.n_classes == 2
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(ys, Xs[:, 0] % 2)
    # {0, 2, 10}: a gap, encoded in numeric (not string) order: 0 -> 0, 2 -> 1, 10 -> 2
    path = _csv(tmp_path, "x,y\n" + "\n".join(f"{i},{(0, 2, 10)[i % 3]}" for i in range(30)))
    ds = load_csv(path)
    assert ds.n_classes == 3
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(ys, Xs[:, 0] % 3)
    # exactly {0, 1, 2} (written 2.0 here and there): kept as they are
    path = _csv(tmp_path, "x,y\n" + "\n".join(f"{i},{(2 - i % 3) if i % 2 else float(2 - i % 3)}"
                                                for i in range(30)))
    for Xs, ys in _splits(load_csv(path)):
        np.testing.assert_array_equal(ys, 2 - Xs[:, 0] % 3)


def test_npz_labels_follow_the_csv_rule_over_all_stored_splits(tmp_path):
    X, y = _toy(n=50, k=2)
    np.savez(tmp_path / "one_two.npz", X=X, y=y + 1)
    ds = load_npz(tmp_path / "one_two.npz", seed=2)
    assert ds.n_classes == 2
    rows = {tuple(r): c for r, c in zip(X, y)}
    for Xs, ys in _splits(ds):
        np.testing.assert_array_equal(ys, [rows[tuple(r)] for r in Xs])
    # stored splits are encoded together: {3, 5} in train, only 5 in test -> 0/1 and 1
    np.savez(tmp_path / "stored.npz", X=X, y=3 + 2 * y, X_test=X[:4], y_test=np.full(4, 5))
    ds = load_npz(tmp_path / "stored.npz")
    np.testing.assert_array_equal(ds.y_train, y)
    np.testing.assert_array_equal(ds.y_test, [1, 1, 1, 1])
    # exactly 0..K-1 over the splits: untouched, even if one split lacks a class
    np.savez(tmp_path / "exact.npz", X=X, y=y, X_test=X[:4], y_test=np.ones(4, int))
    np.testing.assert_array_equal(load_npz(tmp_path / "exact.npz").y_test, [1, 1, 1, 1])
    # string labels, sorted: cat -> 0, dog -> 1
    np.savez(tmp_path / "words.npz", X=X, y=np.where(y == 1, "dog", "cat"))
    for Xs, ys in _splits(load_npz(tmp_path / "words.npz")):
        np.testing.assert_array_equal(ys, [rows[tuple(r)] for r in Xs])
    # labels that cannot be labels are still refused by name
    np.savez(tmp_path / "nan.npz", X=X, y=np.where(y == 1, np.nan, 0.0))
    with pytest.raises(InputError, match="y must hold integer class labels"):
        load_npz(tmp_path / "nan.npz")


def test_npz_empty_truncated_or_damaged_names_the_file(tmp_path):
    from click.testing import CliRunner

    from reglab.cli.main import main

    X, y = _toy(n=50, k=2)
    np.savez_compressed(tmp_path / "good.npz", X=X, y=y)
    raw = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    damaged = bytearray(raw)
    damaged[200:260] = bytes(60)  # inside the compressed X: the archive opens, X does not
    (tmp_path / "damaged.npz").write_bytes(bytes(damaged))
    for name, why in (("empty", "it is empty"), ("truncated", "could not be read as one"),
                      ("damaged", "BadZipFile|Error")):
        path = tmp_path / f"{name}.npz"
        with pytest.raises(InputError, match=rf"{name}.npz must be a .npz archive with arrays X .*({why})"):
            load_npz(path)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "empty.npz")])
    assert result.exit_code == 2 and "Aborted" not in result.output and "Traceback" not in result.output
    assert "empty.npz must be a .npz archive" in result.output


def test_subsample_train_is_exact_stratified_and_reproducible():
    X, y = _toy(n=1540, k=3, seed=4)
    data = train_dev_test_split(X, y, ratios=(0.7, 0.1, 0.2), seed=1)
    n = len(data.X_train)
    assert n == 1078
    train_counts = np.bincount(data.y_train, minlength=3)
    for n_train in (2, 3, 100, 500, 539, 1000, 1077):
        sub = subsample_train(data, n_train, seed=7)
        assert len(sub.X_train) == len(sub.y_train) == n_train
        counts = np.bincount(sub.y_train, minlength=3)
        assert np.all(np.abs(counts - train_counts * n_train / n) < 1), (n_train, counts)
        # every kept row is a training row with its own label
        rows = {tuple(r): c for r, c in zip(data.X_train, data.y_train)}
        assert [rows[tuple(r)] for r in sub.X_train] == list(sub.y_train)
        assert len({tuple(r) for r in sub.X_train}) == n_train
        # dev and test untouched
        for split in ("X_dev", "y_dev", "X_test", "y_test"):
            np.testing.assert_array_equal(getattr(sub, split), getattr(data, split))
        assert (sub.name, sub.symmetries, sub.image_shape) == (data.name, data.symmetries, data.image_shape)
    a, b = subsample_train(data, 500, seed=7), subsample_train(data, 500, seed=7)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.X_train, subsample_train(data, 500, seed=8).X_train)
    for too_many in (1078, 5000):
        with pytest.raises(InputError, match=rf"train_size must be smaller than the training set \(1078\), "
                                             rf"got {too_many}"):
            subsample_train(data, too_many)
    with pytest.raises(InputError, match="train_size must be an integer >= 2, got 1"):
        subsample_train(data, 1)
    with pytest.raises(TypeError, match="train_size must be an integer, got 0.5"):
        subsample_train(data, 0.5)


def test_load_file_rejects_unknown_extension_and_kwargs(tmp_path, football_path):
    with pytest.raises(InputError, match=r"unknown file extension '.txt'.*known: .csv, .mat, .npz"):
        load_file(tmp_path / "data.txt")
    with pytest.raises(InputError, match="does not accept argument 'seed'"):
        load_file(football_path, seed=1)


# ---------------------------------------------------------------- registry and Dataset

def test_registry_names_and_kwargs():
    assert set(DATASETS) == {"field", "moons", "spiral", "xor", "gaussian", "circles",
                             "circles_course", "digits", "breast_cancer"}
    ds = load_dataset("moons", n_samples=100, noise=0.1, seed=2, dev=True)
    np.testing.assert_array_equal(ds.X_test, make_moons(100, 0.1, 2, True).X_test)
    assert load_dataset("digits", seed=1).n_classes == 10
    with pytest.raises(InputError, match=r"unknown dataset 'foo'; known: breast_cancer, circles, "
                                         r"circles_course, digits, field, gaussian, moons, spiral, xor"):
        load_dataset("foo")
    with pytest.raises(InputError, match="dataset 'digits' does not accept argument 'noise'"):
        load_dataset("digits", noise=0.1)
    with pytest.raises(InputError, match="does not accept argument 'noise'; it accepts: seed, dev"):
        load_dataset("circles_course", noise=0.1)


def test_dataset_properties_summary_and_validation():
    ds = Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 2)), [2, 0],
                 X_dev=np.ones((1, 2)), y_dev=[1])
    assert (ds.n_features, ds.n_classes, ds.has_dev) == (2, 3, True)
    assert ds.summary() == "toy: 2 features, 3 classes; train 4 [2 2 0], dev 1 [0 1 0], test 2 [1 0 1]"
    assert ds.y_train.dtype == np.int64 and ds.X_test.dtype == np.float64
    with pytest.raises(AttributeError):
        ds.name = "other"
    with pytest.raises(InputError, match="X_test must have 2 features"):
        Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 3)), [1, 0])
    with pytest.raises(InputError, match="X_dev and y_dev must be given together"):
        Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 2)), [1, 0], X_dev=np.ones((1, 2)))
    with pytest.raises(InputError, match="symmetries must be drawn from .* got 'mirror'"):
        Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 2)), [1, 0], symmetries=("mirror",))
    with pytest.raises(InputError, match="image_shape must be"):
        Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 2)), [1, 0], image_shape=(3, 3))


@pytest.mark.parametrize("image_shape", ["88", (8.9, 8), (-8, -8), (8, 8, 1), (64,), 64, (True, 64), (8, 7)])
def test_dataset_refuses_a_bad_image_shape(image_shape):
    with pytest.raises(InputError, match=r"image_shape must be a tuple \(height, width\) of two positive "
                                          r"integers with height \* width == n_features \(64\), got "):
        Dataset("img", np.zeros((4, 64)), [0, 1, 1, 0], np.ones((2, 64)), [1, 0], image_shape=image_shape)


def test_dataset_image_shape_and_symmetries_accepted_forms():
    ds = Dataset("img", np.zeros((4, 64)), [0, 1, 1, 0], np.ones((2, 64)), [1, 0],
                 image_shape=[np.int64(4), 16], symmetries=["hflip"])
    assert ds.image_shape == (4, 16) and type(ds.image_shape[0]) is int and ds.symmetries == ("hflip",)
    with pytest.raises(InputError, match=r"symmetries must be a tuple of names .* got the string 'rotate' "
                                          r"\(write \('rotate',\)\)"):
        Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 2)), [1, 0], symmetries="rotate")
    with pytest.raises(InputError, match="symmetries must be a tuple of names .* got 3"):
        Dataset("toy", np.zeros((4, 2)), [0, 1, 1, 0], np.ones((2, 2)), [1, 0], symmetries=3)


def test_field_is_small_noisy_and_reproducible():
    from reglab.data import make_field

    a, b = make_field(seed=3), make_field(seed=3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.X_train.shape == (200, 2) and a.X_test.shape == (200, 2)
    clean = (a.X_train[:, 1] > 0.25 * np.sin(3.5 * a.X_train[:, 0] + 0.5) - 0.05).astype(int)
    # about 10% flipped labels, plus a few moved across the frontier by the jitter
    assert 0.05 < np.mean(clean != a.y_train) < 0.2
    assert make_field(dev=True).has_dev
    with pytest.raises(InputError, match=r"noise must be in \[0, 0.5\], got 0.7"):
        make_field(noise=0.7)
