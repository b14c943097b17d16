"""Model files: round trip, and clear errors for corrupt or foreign files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reglab import InputError, TrainConfig, load_network, save_network, train
from reglab.data import make_moons


@pytest.fixture(scope="module")
def trained():
    data = make_moons(n_samples=100, seed=0)
    config = TrainConfig(layers=(6, 4), hidden=("tanh", "relu"), iterations=50)
    return train(data.X_train, data.y_train, config), data


def test_round_trip_keeps_predictions_and_metadata(trained, tmp_path):
    result, data = trained
    path = save_network(tmp_path / "model", result.network, config=result.config,
                        extra={"dataset": "moons"})
    assert path.name == "model.npz"
    net, meta = load_network(path)
    np.testing.assert_array_equal(net.predict_proba(data.X_test),
                                  result.network.predict_proba(data.X_test))
    assert net.hidden == ("tanh", "relu") and net.output == "sigmoid"
    assert meta["layer_sizes"] == [2, 6, 4, 1]
    assert TrainConfig.from_dict(meta["config"]) == result.config
    assert meta["extra"] == {"dataset": "moons"}


def test_missing_corrupt_and_foreign_files(trained, tmp_path):
    with pytest.raises(InputError, match="model file not found: .*nope.npz"):
        load_network(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(InputError, match=r"junk.npz is not a reglab model file"):
        load_network(junk)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, X=np.zeros(3))
    with pytest.raises(InputError, match=r"foreign.npz is not a valid reglab model file: missing 'metadata'"):
        load_network(foreign)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, metadata=np.array([{"format": "reglab-network"}], dtype=object))
    with pytest.raises(InputError, match=r"pickled.npz is not a reglab model file"):
        load_network(pickled)


def test_inconsistent_shapes_are_refused(trained, tmp_path):
    result, _ = trained
    path = save_network(tmp_path / "m.npz", result.network)
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["W2"] = arrays["W2"][:, :2]
    np.savez(path, **arrays)
    with pytest.raises(InputError, match=r"W2/b2 have shapes \(4, 2\)/\(4,\), expected \(4, 6\)/\(4,\)"):
        load_network(path)
    meta = json.loads(str(arrays["metadata"]))
    meta["format_version"] = 99
    arrays["metadata"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    with pytest.raises(InputError, match="format_version 99 is newer"):
        load_network(path)
