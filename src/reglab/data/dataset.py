"""The :class:`Dataset` container: named train/dev/test splits of one data set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_float, check_labels, check_sizes, check_X, describe

#: Symmetries of 2-D point sets an augmenter may use; each must preserve labels.
#: ``reflect_x``: (x, y) -> (-x, y); ``reflect_y``: (x, y) -> (x, -y);
#: ``rotate``: rotation about the origin by any angle; ``rotate180``: (x, y) -> (-x, -y).
#: For images: ``hflip`` / ``vflip``, mirror images that keep the label (never for digits).
SYMMETRIES = ("reflect_x", "reflect_y", "rotate", "rotate180", "hflip", "vflip")


def _check_image_shape(image_shape, n_features: int) -> tuple[int, int]:
    expected = (f"a tuple (height, width) of two positive integers with height * width == "
                f"n_features ({n_features})")
    if not isinstance(image_shape, (tuple, list)):
        raise InputError(f"image_shape must be {expected}, got {describe(image_shape)}")
    try:
        shape = check_sizes(image_shape, "image_shape")
    except (TypeError, InputError) as exc:
        raise InputError(f"image_shape must be {expected}, got {describe(image_shape)} ({exc})") from None
    if len(shape) != 2 or shape[0] * shape[1] != n_features:
        raise InputError(f"image_shape must be {expected}, got {describe(image_shape)}")
    return shape


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train, optional dev, and test splits of one data set.

    Arrays are checked and converted on construction, so every ``X_*`` is a
    finite float64 array of shape ``(n_samples, n_features)`` and every
    ``y_*`` an int64 array of labels ``0..K-1`` of shape ``(n_samples,)``.

    Parameters
    ----------
    name : str
        Short name (``"moons"``, ``"football"``, a file stem).
    X_train, y_train : array of shape (n_train, n_features), (n_train,)
    X_test, y_test : array of shape (n_test, n_features), (n_test,)
    X_dev, y_dev : array of shape (n_dev, n_features), (n_dev,), or None
        Both or neither.
    description : str
        Where the data come from, in a sentence.
    symmetries : tuple of str
        Label-preserving symmetries of a 2-D point set, from :data:`SYMMETRIES`;
        empty when none is declared.
    image_shape : (int, int) or None
        ``(height, width)`` of image data, with ``height * width == n_features``.
    bayes_error : float in [0, 1) or None
        The best error any classifier can reach on this distribution (the Bayes
        error), when the data set knows it: a generator that flips a known
        fraction of its labels does. The bias/variance reading
        (:mod:`reglab.experiments.diagnose`) uses it as its baseline. None when
        unknown.
    bayes_error_source : str
        Where ``bayes_error`` comes from, in a phrase (``"10% of labels flipped
        ..."``); required with ``bayes_error``.
    classes : tuple of str or None
        The file's own label values when they were encoded to ``0..K-1``
        (``classes[k]`` became label ``k``); None when the labels were kept as they are.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_dev: np.ndarray | None = None
    y_dev: np.ndarray | None = None
    description: str = ""
    symmetries: tuple[str, ...] = ()
    image_shape: tuple[int, int] | None = None
    bayes_error: float | None = None
    bayes_error_source: str = ""
    classes: tuple | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"name must be a non-empty string, got {describe(self.name)}")
        set_ = object.__setattr__  # the dataclass is frozen; converting once here is fine
        X_train = check_X(self.X_train, "X_train")
        set_(self, "X_train", X_train)
        set_(self, "y_train", check_labels(self.y_train, "y_train", n_samples=X_train.shape[0]))
        splits = ["test"]
        if (self.X_dev is None) != (self.y_dev is None):
            raise InputError("X_dev and y_dev must be given together, got "
                             f"X_dev={describe(self.X_dev)}, y_dev={describe(self.y_dev)}")
        if self.X_dev is not None:
            splits.append("dev")
        for split in splits:
            X = check_X(getattr(self, f"X_{split}"), f"X_{split}", n_features=X_train.shape[1])
            set_(self, f"X_{split}", X)
            set_(self, f"y_{split}",
                 check_labels(getattr(self, f"y_{split}"), f"y_{split}", n_samples=X.shape[0]))
        if isinstance(self.symmetries, str):
            raise InputError(f"symmetries must be a tuple of names drawn from {', '.join(SYMMETRIES)}, "
                             f"got the string {self.symmetries!r} (write ({self.symmetries!r},))")
        try:
            symmetries = tuple(self.symmetries)
        except TypeError:
            raise InputError(f"symmetries must be a tuple of names drawn from {', '.join(SYMMETRIES)}, "
                             f"got {describe(self.symmetries)}") from None
        for s in symmetries:
            if s not in SYMMETRIES:
                raise InputError(f"symmetries must be drawn from {', '.join(SYMMETRIES)}, got {s!r}")
        set_(self, "symmetries", symmetries)
        if self.image_shape is not None:
            set_(self, "image_shape", _check_image_shape(self.image_shape, X_train.shape[1]))
        if self.bayes_error is not None:
            set_(self, "bayes_error", check_float(self.bayes_error, "bayes_error", low=0, high=1,
                                                  high_open=True))
            if not isinstance(self.bayes_error_source, str) or not self.bayes_error_source.strip():
                raise InputError("bayes_error_source must say where bayes_error comes from, got "
                                 f"{describe(self.bayes_error_source)}")
        if self.classes is not None:
            set_(self, "classes", tuple(str(c) for c in self.classes))
            if len(self.classes) < self.n_classes:
                raise InputError(f"classes must name every label 0..{self.n_classes - 1}, "
                                 f"got {len(self.classes)}: {describe(self.classes)}")

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X``)."""
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        """Largest label over all splits plus one."""
        return int(max(int(y.max()) for y in self._labels().values())) + 1

    @property
    def has_dev(self) -> bool:
        """Whether a dev split is present."""
        return self.X_dev is not None

    def _labels(self) -> dict[str, np.ndarray]:
        out = {"train": self.y_train}
        if self.has_dev:
            out["dev"] = self.y_dev
        out["test"] = self.y_test
        return out

    def summary(self) -> str:
        """One line: split sizes and class counts, e.g.
        ``moons: 2 features, 2 classes; train 280 [140 140], test 120 [60 60]``."""
        k = self.n_classes
        parts = [f"{split} {y.size} [{' '.join(str(c) for c in np.bincount(y, minlength=k))}]"
                 for split, y in self._labels().items()]
        line = f"{self.name}: {self.n_features} features, {k} classes; " + ", ".join(parts)
        if self.classes is not None:
            pairs = [f"{c} -> {i}" for i, c in enumerate(self.classes)]
            line += "; labels encoded " + ", ".join(pairs[:8]) + (", ..." if len(pairs) > 8 else "")
        return line

    def __repr__(self) -> str:
        return f"Dataset({self.summary()})"
