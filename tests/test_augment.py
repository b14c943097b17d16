"""Tests of reglab.training.augment: online/offline augmentation of 2-D points and images."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.ndimage

from reglab._validation import InputError
from reglab.training.augment import (TRANSFORMS, Augmenter, Transform, make_augmenter,
                            parse_augment)
from reglab.data import load_digits, make_circles, make_field, make_moons, make_xor

ALL_IMAGE = "jitter:0.02,shift:1,rotate:10,crop:1,noise:0.05,contrast:0.3"


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=0)


@pytest.fixture(scope="module")
def circles():
    return make_circles(n_samples=200, seed=0)


def for_data(spec, ds, **kwargs):
    return make_augmenter(spec, image_shape=ds.image_shape, symmetries=ds.symmetries,
                          dataset_name=ds.name, **kwargs)


def rng(seed=0):
    return np.random.default_rng(seed)


# --- parsing ---------------------------------------------------------------------------------

def test_parse_spec():
    assert parse_augment("jitter:0.05,shift:1, rotate:10 ,hflip") == [
        ("jitter", 0.05), ("shift", 1.0), ("rotate", 10.0), ("hflip", None)]
    assert set(TRANSFORMS) == {"jitter", "reflect", "rotate", "shift", "crop", "noise",
                               "contrast", "hflip", "vflip"}


@pytest.mark.parametrize("spec, message", [
    ("shift", "shift needs a value, e.g. shift:1"),
    ("jitter:", "jitter needs a value, e.g. jitter:0.05"),
    ("hflip:2", "hflip takes no value, got hflip:2"),
    ("reflect:1", "reflect takes no value, got reflect:1"),
    ("shift:one", "shift needs a number, e.g. shift:1, got 'one'"),
    ("jitter:0.1,,shift:1", "augment spec has an empty entry, got 'jitter:0.1,,shift:1'"),
    ("jitter:0.1,jitter:0.2", "jitter appears more than once in augment spec"),
    ("", "augment spec must name at least one transform"),
    ("blur:1", "augmentation must be one of 'jitter', 'reflect', 'rotate', 'shift', 'crop', "
               "'noise', 'contrast', 'hflip', 'vflip', got 'blur'"),
])
def test_parse_errors(spec, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_augment(spec)


@pytest.mark.parametrize("spec, message", [
    ("shift:1", "shift works on images: give image_shape"),
    ("crop:2", "crop works on images: give image_shape"),
    ("noise:0.1", "noise works on images: give image_shape"),
    ("contrast:0.2", "contrast works on images: give image_shape"),
    ("hflip", "hflip works on images: give image_shape"),
    ("jitter:-1", "jitter sigma must be a finite number > 0, got -1"),
    ("shift:1.5", "shift must be a whole number of pixels >= 1, got 1.5"),
    ("contrast:1.5", "contrast c must be in (0, 1], got 1.5"),
])
def test_value_and_setting_errors(spec, message):
    with pytest.raises(InputError, match=re.escape(message)):
        make_augmenter(spec)


def test_image_range_errors():
    message = "shift must be smaller than the 8x8 image, got 8"
    with pytest.raises(InputError, match=re.escape(message)):
        make_augmenter("shift:8", image_shape=(8, 8))
    with pytest.raises(InputError, match="crop must leave at least 2 pixels of the 8x8 image"):
        make_augmenter("crop:4", image_shape=(8, 8))
    with pytest.raises(InputError, match="rotate degrees must be in"):
        make_augmenter("rotate:200", image_shape=(8, 8))


def test_constructor_errors():
    with pytest.raises(InputError, match="mode must be one of 'online', 'offline', got 'auto'"):
        make_augmenter("jitter:0.1", mode="auto")
    with pytest.raises(InputError, match="factor must be an integer >= 2, got 1"):
        make_augmenter("jitter:0.1", mode="offline", factor=1)
    with pytest.raises(InputError, match="symmetries entry must be one of"):
        make_augmenter("jitter:0.1", symmetries=("mirror",))
    message = "transforms must hold one or more transforms, each once, got [jitter, jitter]"
    with pytest.raises(InputError, match=re.escape(message)):
        Augmenter([("jitter", 0.1), Transform("jitter", 0.2)])
    with pytest.raises(TypeError, match="make_augmenter parses a spec string"):
        Augmenter("jitter:0.1")
    aug = make_augmenter("jitter:0.1")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, got 0"):
        aug.transform(np.zeros((3, 2)), np.zeros(3), 0)
    with pytest.raises(InputError, match=re.escape("y must have one label per row of X (3)")):
        aug.transform(np.zeros((3, 2)), np.zeros(4), rng())
    with pytest.raises(InputError, match="expand is for mode='offline'"):
        aug.expand(np.zeros((3, 2)), np.zeros(3), rng())


def test_wrong_feature_count(digits, circles):
    with pytest.raises(InputError, match=re.escape("X must have 64 features (8x8 images), "
                                                   "got shape (5, 2)")):
        for_data("shift:1", digits).transform(circles.X_train[:5], circles.y_train[:5], rng())
    with pytest.raises(InputError, match=re.escape("X must have 2 features (2-D points for "
                                                   "rotate), got shape (5, 64)")):
        for_data("rotate:30", circles).transform(digits.X_train[:5], digits.y_train[:5], rng())


# --- generic behaviour -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["circles", "digits"])
def test_shapes_labels_fresh_and_reproducible(name, digits, circles):
    ds = digits if name == "digits" else circles
    spec = ALL_IMAGE if name == "digits" else "jitter:0.05,reflect,rotate:180"
    aug = for_data(spec, ds)
    X, y = ds.X_train[:64], ds.y_train[:64]
    X_before, y_before = X.copy(), y.copy()
    g = rng(7)
    X1, y1 = aug.transform(X, y, g)
    X2, y2 = aug.transform(X, y, g)
    assert X1.shape == X.shape and X1.dtype == np.float64
    np.testing.assert_array_equal(y1, y)
    np.testing.assert_array_equal(y2, y)
    assert X1 is not X and not np.shares_memory(X1, X)
    assert np.abs(X1 - X).max() > 0.01            # values actually change
    assert np.abs(X1 - X2).max() > 0.01           # a fresh draw per mini-batch
    np.testing.assert_array_equal(X, X_before)    # the caller's arrays are untouched
    np.testing.assert_array_equal(y, y_before)
    X3, _ = aug.transform(X, y, rng(7))
    np.testing.assert_array_equal(X3, X1)         # same seed, same output
    X4, _ = aug.transform(X, y, rng(8))
    assert not np.array_equal(X4, X1)


def test_float32_stays_float32(digits):
    X = digits.X_train[:16].astype(np.float32)
    out, _ = for_data(ALL_IMAGE, digits).transform(X, digits.y_train[:16], rng())
    assert out.dtype == np.float32 and out.shape == X.shape


def test_offline_expand(circles):
    aug = for_data("jitter:0.05,rotate:180", circles, mode="offline", factor=3)
    X, y = circles.X_train, circles.y_train
    X_before = X.copy()
    X_big, y_big = aug.expand(X, y, rng(3))
    m = X.shape[0]
    assert X_big.shape == (3 * m, 2)
    np.testing.assert_array_equal(X_big[:m], X)               # the originals come first
    np.testing.assert_array_equal(y_big, np.tile(y, 3))
    assert np.abs(X_big[m:2 * m] - X).max() > 0.1              # copies are augmented...
    assert np.abs(X_big[m:2 * m] - X_big[2 * m:]).max() > 0.1  # ...each with its own draws
    again, _ = aug.expand(X, y, rng(3))
    np.testing.assert_array_equal(again, X_big)               # fixed for a seed
    np.testing.assert_array_equal(X, X_before)
    assert "x3" in aug.describe() and "2 augmented copies" in aug.describe()


def test_offline_images(digits):
    aug = for_data("shift:1,rotate:10", digits, mode="offline", factor=2)
    X_big, y_big = aug.expand(digits.X_train, digits.y_train, rng(0))
    m = digits.X_train.shape[0]
    assert X_big.shape == (2 * m, 64) and y_big.shape == (2 * m,)
    np.testing.assert_array_equal(X_big[:m], digits.X_train)
    assert X_big.min() >= 0 and X_big.max() <= 1 + 1e-12


def test_transform_object_errors():
    with pytest.raises(InputError, match=re.escape("hflip takes no value, got hflip:2")):
        Transform("hflip", 2)
    with pytest.raises(InputError, match=re.escape("noise needs a value, e.g. noise:0.05")):
        Transform("noise")
    assert Transform("shift", 2.0).value == 2 and Transform("shift", 2.0).spec == "shift:2"


def test_config_and_describe(digits):
    aug = for_data("jitter:0.05,shift:1,rotate:10", digits, mode="offline", factor=4)
    config = aug.get_config()
    assert config == {"spec": "jitter:0.05,shift:1,rotate:10",
                      "transforms": [{"name": "jitter", "value": 0.05},
                                     {"name": "shift", "value": 1},
                                     {"name": "rotate", "value": 10.0}],
                      "mode": "offline", "factor": 4, "image_shape": [8, 8], "symmetries": [],
                      "dataset_name": "digits", "allow_flips": False}
    rebuilt = make_augmenter(config["spec"], mode=config["mode"], factor=config["factor"],
                             image_shape=tuple(config["image_shape"]))
    assert rebuilt.spec == aug.spec
    assert for_data("shift:1", digits).describe() == (
        "online augmentation shift:1: fresh draws every mini-batch")
    assert "\n" not in aug.describe()


# --- 2-D points ------------------------------------------------------------------------------

def test_jitter_std_close_to_sigma():
    X = np.zeros((20000, 2))
    out, _ = make_augmenter("jitter:0.3").transform(X, np.zeros(20000), rng(1))
    assert abs(out.std() - 0.3) < 0.01
    assert abs(out.mean()) < 0.01


def test_jitter_works_on_any_features():
    X = np.ones((100, 30))
    out, _ = make_augmenter("jitter:0.1").transform(X, np.zeros(100), rng())
    assert out.shape == (100, 30) and 0.08 < (out - 1).std() < 0.12


def test_point_rotation_preserves_radius(circles):
    X, y = circles.X_train, circles.y_train
    out, _ = for_data("rotate:180", circles).transform(X, y, rng(2))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(X, axis=1), rtol=1e-12)
    angles = np.angle(out[:, 0] + 1j * out[:, 1]) - np.angle(X[:, 0] + 1j * X[:, 1])
    angles = np.rad2deg((angles + np.pi) % (2 * np.pi) - np.pi)
    assert np.abs(angles).max() <= 180 and np.abs(angles).std() > 30


def test_small_point_rotation_bounded(circles):
    X = circles.X_train
    out, _ = for_data("rotate:10", circles).transform(X, circles.y_train, rng(2))
    cos = np.sum(out * X, axis=1) / np.sum(X * X, axis=1)
    assert np.all(cos >= np.cos(np.deg2rad(10)) - 1e-12)


@pytest.mark.parametrize("maker", [make_moons, make_field])
def test_point_rotation_refused_without_symmetry(maker):
    ds = maker(n_samples=100, seed=0)
    message = (f"rotate on 2-D points needs the 'rotate' symmetry, but data set '{ds.name}' "
               f"declares none")
    with pytest.raises(InputError, match=re.escape(message)):
        for_data("rotate:10", ds)
    with pytest.raises(InputError, match=re.escape(f"data set '{ds.name}' declares none")):
        for_data("reflect", ds)


def test_rotate_refusal_lists_declared_symmetries():
    xor = make_xor(n_samples=100, seed=0)
    with pytest.raises(InputError, match=re.escape("but data set 'xor' declares rotate180")):
        for_data("rotate:5", xor)


def _kinds(X, out):
    """The reflection each row received, as (sign x, sign y)."""
    return {(float(np.sign(o[0] / x[0])), float(np.sign(o[1] / x[1]))) for x, o in zip(X, out)}


def test_reflections_only_those_declared(circles):
    X = np.random.default_rng(0).uniform(0.5, 1.0, (400, 2)) * [1, -1]  # no zero coordinate
    y = np.zeros(400)
    xor_aug = for_data("reflect", make_xor(n_samples=100, seed=0))
    out, _ = xor_aug.transform(X, y, rng())
    assert _kinds(X, out) == {(1.0, 1.0), (-1.0, -1.0)}   # rotate180 only, or unchanged
    only_x = make_augmenter("reflect", symmetries=("reflect_x",), dataset_name="mirror")
    out, _ = only_x.transform(X, y, rng())
    assert _kinds(X, out) == {(1.0, 1.0), (-1.0, 1.0)}
    out, _ = for_data("reflect", circles).transform(X, y, rng())
    assert _kinds(X, out) == {(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)}
    np.testing.assert_array_equal(np.abs(out), np.abs(X))


# --- images ----------------------------------------------------------------------------------

def test_shift_moves_a_bright_pixel_by_at_most_one():
    X = np.zeros((500, 64))
    X[:, 3 * 8 + 4] = 1.0
    out, _ = make_augmenter("shift:1", image_shape=(8, 8)).transform(X, np.zeros(500), rng())
    imgs = out.reshape(-1, 8, 8)
    assert np.all(imgs.sum(axis=(1, 2)) == 1.0)           # moved, not blurred or lost
    rows, cols = np.nonzero(imgs)[1:]
    assert set(rows - 3) == {-1, 0, 1} and set(cols - 4) == {-1, 0, 1}


def test_shift_fills_with_zero_and_matches_ndimage(digits):
    X = digits.X_train[:32]
    aug = make_augmenter("shift:2", image_shape=(8, 8))
    out, _ = aug.transform(X, digits.y_train[:32], rng(4))
    d = rng(4).integers(-2, 3, size=(32, 2))  # the draws the transform made
    ref = np.stack([scipy.ndimage.shift(x.reshape(8, 8), s, order=0, mode="constant", cval=0.0)
                    for x, s in zip(X, d)]).reshape(32, 64)
    np.testing.assert_array_equal(out, ref)


def test_tiny_rotation_is_almost_the_identity(digits):
    X = digits.X_train[:64]
    aug = make_augmenter("rotate:1e-6", image_shape=(8, 8))
    out, _ = aug.transform(X, digits.y_train[:64], rng())
    np.testing.assert_allclose(out, X, atol=1e-6)


@pytest.mark.parametrize("degrees", [15, 180])
def test_rotate_matches_ndimage(degrees, digits):
    X = digits.X_train[:64]
    aug = make_augmenter(f"rotate:{degrees}", image_shape=(8, 8))
    out, _ = aug.transform(X, digits.y_train[:64], rng(5))
    angles = rng(5).uniform(-degrees, degrees, 64)  # the draws the transform made
    ref = np.stack([scipy.ndimage.rotate(x.reshape(8, 8), a, reshape=False, order=1,
                                         mode="grid-constant")
                    for x, a in zip(X, angles)]).reshape(64, 64)
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_rotate_keeps_the_mass(digits):
    X = digits.X_train[:300]
    aug = make_augmenter("rotate:15", image_shape=(8, 8))
    out, _ = aug.transform(X, digits.y_train[:300], rng())
    assert np.all(np.abs(out.sum(axis=1) / X.sum(axis=1) - 1) < 0.15)
    assert not np.allclose(out, X)


def test_crop_matches_zoom(digits):
    X = digits.X_train[:40]
    out, _ = make_augmenter("crop:2", image_shape=(8, 8)).transform(X, digits.y_train[:40], rng(6))
    assert out.shape == (40, 64)
    top, bottom, left, right = rng(6).integers(0, 3, size=(4, 40, 1, 1))[..., 0, 0]
    for i, x in enumerate(X.reshape(-1, 8, 8)):
        crop = x[top[i]:8 - bottom[i], left[i]:8 - right[i]]
        ref = scipy.ndimage.zoom(crop, (8 / crop.shape[0], 8 / crop.shape[1]), order=1)
        assert ref.shape == (8, 8)
        np.testing.assert_allclose(out[i].reshape(8, 8), ref, atol=1e-12)
    assert out.min() >= 0 and out.max() <= 1


def test_crop_on_rectangular_images():
    X = np.random.default_rng(0).random((10, 6 * 10))
    aug = make_augmenter("crop:1,rotate:5,shift:2", image_shape=(6, 10))
    out, _ = aug.transform(X, np.zeros(10), rng())
    assert out.shape == (10, 60) and not np.array_equal(out, X)


def test_contrast_and_noise_keep_values_in_range(digits):
    X = digits.X_train[:200]
    for spec in ("contrast:0.5", "noise:0.2", "contrast:1,noise:0.5"):
        out, _ = make_augmenter(spec, image_shape=(8, 8)).transform(X, digits.y_train[:200], rng())
        assert np.all(out >= X.min(axis=1, keepdims=True))
        assert np.all(out <= X.max(axis=1, keepdims=True))
        assert np.abs(out - X).max() > 0.05


def test_contrast_scales_around_the_mean():
    X = np.tile(np.linspace(0.4, 0.6, 64), (300, 1))  # mean 0.5, range [0.4, 0.6]
    out, _ = make_augmenter("contrast:0.2", image_shape=(8, 8)).transform(X, np.zeros(300), rng())
    inside = (out > 0.4) & (out < 0.6)                  # pixels the clip left alone
    ratio = np.where(inside, (out - 0.5) / (X - 0.5), np.nan)
    f = np.nanmean(ratio, axis=1)
    np.testing.assert_allclose(ratio[inside], np.broadcast_to(f[:, None], ratio.shape)[inside],
                               rtol=1e-9)
    assert f.min() >= 0.8 and f.max() <= 1.2 and f.min() < 0.85 and f.max() > 1.15
    assert np.all(out[f > 1][:, [0, -1]] == [0.4, 0.6])  # more contrast: clipped to the range


def test_flips_refused_on_digits(digits):
    message = ("hflip is off for data set 'digits' (declared symmetries: none): a flipped digit "
               "is another digit or none; to turn it on anyway, pass --allow-flips (reglab's command "
               "line) or allow_flips=True (Python)")
    with pytest.raises(InputError, match=re.escape(message)):
        for_data("hflip", digits)
    with pytest.raises(InputError, match="vflip is off for data set 'digits'.*another digit"):
        for_data("shift:1,vflip", digits)


def test_flips_allowed_with_a_warning(digits):
    with pytest.warns(UserWarning, match="hflip turned on by --allow-flips / allow_flips=True for data set "
                                         "'digits': a flipped digit is another digit or none"):
        aug = for_data("hflip", digits, allow_flips=True)
    X = digits.X_train[:200]
    out, _ = aug.transform(X, digits.y_train[:200], rng())
    imgs, outs = X.reshape(-1, 8, 8), out.reshape(-1, 8, 8)
    flipped = np.all(outs == imgs[:, :, ::-1], axis=(1, 2))
    kept = np.all(outs == imgs, axis=(1, 2))
    assert np.all(flipped | kept) and 60 < flipped.sum() < 140
    with pytest.warns(UserWarning, match="vflip turned on"):
        aug = for_data("vflip", digits, allow_flips=True)
    out, _ = aug.transform(X, digits.y_train[:200], rng())
    outs = out.reshape(-1, 8, 8)
    assert np.all(np.all(outs == imgs[:, ::-1, :], axis=(1, 2)) | np.all(outs == imgs, axis=(1, 2)))


def test_the_cli_names_its_flag_when_it_refuses_a_flip():
    from click.testing import CliRunner

    from reglab.cli.main import main

    result = CliRunner().invoke(main, ["train", "--dataset", "digits", "--augment", "hflip",
                                       "--iterations", "1"])
    assert result.exit_code == 2 and "Error: hflip is off for data set 'digits'" in result.output
    assert "pass --allow-flips" in result.output


def test_flips_declared_need_no_warning():
    aug = make_augmenter("hflip,vflip", image_shape=(4, 4), symmetries=("hflip", "vflip"),
                         dataset_name="textures")
    out, _ = aug.transform(np.arange(32.0).reshape(2, 16), np.zeros(2), rng())
    assert out.shape == (2, 16)
    with pytest.raises(InputError, match="a flipped image may show another class"):
        make_augmenter("hflip", image_shape=(4, 4), symmetries=("vflip",))


def test_reflect_refused_on_images():
    with pytest.raises(InputError, match="reflect works on 2-D points; for images use hflip"):
        make_augmenter("reflect", image_shape=(8, 8), symmetries=("reflect_x",))
