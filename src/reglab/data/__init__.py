"""Data sets for reglab: a :class:`Dataset` container, lecture-sized
train/dev/test splits, 2-D toy generators, small real sets and file loaders.

Beside ``reglab.nn`` at the bottom: imports nothing of reglab but
``reglab._validation``."""

from .dataset import SYMMETRIES, Dataset
from .files import load_csv, load_file, load_football, load_mat, load_npz
from .generators import (make_circles, make_circles_course, make_field, make_gaussian,
                         make_moons, make_spiral, make_xor)
from .real import load_breast_cancer, load_digits
from .registry import DATASETS, load_dataset
from .split import default_ratios, resplit, subsample_train, train_dev_test_split, with_dev_split

__all__ = [
    "DATASETS", "SYMMETRIES", "Dataset", "default_ratios", "load_breast_cancer", "load_csv",
    "load_dataset", "load_digits", "load_file", "load_football", "load_mat", "load_npz",
    "make_circles", "make_circles_course", "make_field", "make_gaussian", "make_moons", "make_spiral",
    "make_xor", "resplit", "subsample_train", "train_dev_test_split", "with_dev_split",
]
