"""Export: a network written as a SavedModel and loaded back with plain TensorFlow gives the
probabilities of Keras's predict."""
import numpy as np
import pytest
import tensorflow as tf

from models.registry import build_model
from tests.model_fixtures import feature_inputs, make_arrays, make_meta, small_settings
from training.serving.export import write_saved_model


@pytest.mark.parametrize("settings", [
    {"model": "ESSM", "ctr_model": "DIEN", "cvr_model": "GRU_DNN"},
    {"model": "DIN"},
])
def test_saved_model_reloaded_with_tensorflow_reproduces_predict(tmp_path, settings):
    meta = make_meta()
    net = build_model(small_settings(**settings), meta)
    inputs = feature_inputs(make_arrays(64, seed=4), meta)
    expected = net.predict(inputs, verbose=0)
    target = write_saved_model(net, tmp_path / "saved_model")
    served = tf.saved_model.load(str(target))
    got = served.serve({name: tf.constant(value) for name, value in inputs.items()})
    assert set(got) == set(expected)
    for name in expected:
        np.testing.assert_allclose(got[name].numpy(), expected[name], atol=1e-5, err_msg=name)
    assert np.ptp(expected["main"]) > 0, "a constant output would hide a wrong graph"
    # sequences of another length go through the same endpoint (front padding is masked)
    longer = {name: np.pad(value, ((0, 0), (5, 0))) if value.ndim == 2 and name.startswith("hist") else value
              for name, value in inputs.items()}
    again = served.serve({name: tf.constant(value) for name, value in longer.items()})
    np.testing.assert_allclose(again["main"].numpy(), expected["main"], atol=1e-5)
