"""reglab: a regularization lab for fully-connected neural networks, on NumPy.

The public API::

    from reglab import TrainConfig, train, load_dataset
    data = load_dataset("moons", seed=0)
    result = train(data.X_train, data.y_train, TrainConfig(layers=(20, 3), l2=0.7))
    result.network.accuracy(data.X_test, data.y_test)
"""

from ._validation import InputError, ReglabError, TrainingError
from .training.augment import Augmenter, make_augmenter
from .data import Dataset, load_dataset, load_file, load_football, train_dev_test_split
from .experiments.diagnose import Diagnosis
from .training.early_stopping import EarlyStopping, replay, replay_history
from .gradcheck.core import GradCheckReport, check_gradients
from .nn.initializers import get_initializer
from .io import load_network, save_network
from .nn.network import Network
from .nn.regularizers import L1, L2, get_regularizer
from .training.loop import History, TrainConfig, TrainResult, train

__all__ = [
    "Augmenter", "Dataset", "Diagnosis", "EarlyStopping", "GradCheckReport", "History",
    "InputError", "L1", "L2", "Network", "ReglabError", "TrainConfig", "TrainResult",
    "TrainingError", "check_gradients", "get_initializer", "get_regularizer",
    "load_dataset", "load_file", "load_football", "load_network", "make_augmenter", "replay",
    "replay_history", "save_network", "train", "train_dev_test_split",
    "RegularizedMLPClassifier",
]


def __getattr__(name):
    # The estimator needs scikit-learn's base classes; import them only when asked.
    if name == "RegularizedMLPClassifier":
        from .estimator import RegularizedMLPClassifier
        return RegularizedMLPClassifier
    raise AttributeError(f"module 'reglab' has no attribute {name!r}")
