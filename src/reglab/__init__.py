"""reglab: a regularization lab for fully-connected neural networks, on NumPy.

The public API::

    from reglab import TrainConfig, train, load_dataset
    data = load_dataset("moons", seed=0, dev=True)
    result = train(data.X_train, data.y_train, TrainConfig(layers=(20, 3), l2=0.7))
    result.network.accuracy(data.X_test, data.y_test)

Each public name is imported from its layer on first use (PEP 562), so that
``import reglab`` and ``reglab --help`` do not pay for modules they do not use
(``benchmarks/import_time.py``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Public name -> the module (relative to this package) that defines it.
_EXPORTS = {
    "InputError": "._validation", "ReglabError": "._validation", "TrainingError": "._validation",
    "Augmenter": ".training.augment", "make_augmenter": ".training.augment",
    "Dataset": ".data", "load_dataset": ".data", "load_file": ".data", "load_football": ".data",
    "train_dev_test_split": ".data", "with_dev_split": ".data",
    "Diagnosis": ".experiments.diagnose",
    "EarlyStopping": ".training.early_stopping", "replay": ".training.early_stopping",
    "replay_history": ".training.early_stopping",
    "DeadNetworkWarning": ".training.health",
    "GradCheckReport": ".gradcheck.core", "check_gradients": ".gradcheck.core",
    "get_initializer": ".nn.initializers",
    "load_network": ".io", "save_network": ".io",
    "Network": ".nn.network",
    "L1": ".nn.regularizers", "L2": ".nn.regularizers", "get_regularizer": ".nn.regularizers",
    "History": ".training.loop", "TrainConfig": ".training.loop", "TrainResult": ".training.loop",
    "train": ".training.loop",
    # scikit-learn's base classes are imported only when the estimator is asked for
    "RegularizedMLPClassifier": ".estimator",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'reglab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value  # the next lookup does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see
    from ._validation import InputError, ReglabError, TrainingError
    from .estimator import RegularizedMLPClassifier
    from .data import Dataset, load_dataset, load_file, load_football, train_dev_test_split, with_dev_split
    from .experiments.diagnose import Diagnosis
    from .gradcheck.core import GradCheckReport, check_gradients
    from .io import load_network, save_network
    from .nn.initializers import get_initializer
    from .nn.network import Network
    from .nn.regularizers import L1, L2, get_regularizer
    from .training.augment import Augmenter, make_augmenter
    from .training.early_stopping import EarlyStopping, replay, replay_history
    from .training.health import DeadNetworkWarning
    from .training.loop import History, TrainConfig, TrainResult, train
