"""LazyAdam: Keras's Adam for dense gradients; for sparse ones, Adam on the rows a step touched,
summed per row, with the global norm of the summed gradient."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from training.loop.lazy_adam import LazyAdam

ROWS, WIDTH = 6, 3


def steps(optimizer, gradients, start):
    """The table after applying each gradient in turn (a tf.Tensor or tf.IndexedSlices)."""
    table = keras.Variable(start)
    for gradient in gradients:
        optimizer.apply([gradient], [table])
    return table.numpy()


def slices(values, rows):
    return tf.IndexedSlices(tf.constant(values, tf.float32), tf.constant(rows, tf.int32),
                            tf.constant([ROWS, WIDTH], tf.int32))


def dense(values, rows):
    out = np.zeros((ROWS, WIDTH), np.float32)
    np.add.at(out, rows, values)
    return tf.constant(out)


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_dense_gradients_get_kerass_adam(rng):
    start = rng.normal(size=(ROWS, WIDTH)).astype("float32")
    gradients = [tf.constant(rng.normal(size=(ROWS, WIDTH)) * scale, tf.float32) for scale in (50, 1, 0.1)]
    np.testing.assert_allclose(steps(LazyAdam(0.01, global_clipnorm=3.0), gradients, start),
                               steps(keras.optimizers.Adam(0.01, global_clipnorm=3.0), gradients, start),
                               rtol=1e-6, atol=1e-7)


def test_sparse_gradients_touching_every_row_equal_adam_on_their_sums(rng):
    # rows repeat within a step (popular items): they are summed before the norm and the update
    start = rng.normal(size=(ROWS, WIDTH)).astype("float32")
    rows = [np.r_[np.arange(ROWS), rng.integers(0, ROWS, 4)] for _ in range(3)]
    values = [rng.normal(size=(len(r), WIDTH)) * scale for r, scale in zip(rows, (50, 1, 0.1))]
    lazy = steps(LazyAdam(0.01, global_clipnorm=3.0), [slices(v, r) for v, r in zip(values, rows)], start)
    adam = steps(keras.optimizers.Adam(0.01, global_clipnorm=3.0), [dense(v, r) for v, r in zip(values, rows)],
                 start)
    np.testing.assert_allclose(lazy, adam, rtol=1e-5, atol=1e-6)


def test_rows_a_step_does_not_touch_keep_their_weights_and_moments(rng):
    start = rng.normal(size=(ROWS, WIDTH)).astype("float32")
    optimizer = LazyAdam(0.01)
    table = keras.Variable(start)
    optimizer.apply([slices(rng.normal(size=(3, WIDTH)), [0, 1, 1])], [table])
    after_first = table.numpy()
    moments = [v.numpy().copy() for v in optimizer.variables if v.shape == (ROWS, WIDTH)]
    optimizer.apply([slices(rng.normal(size=(2, WIDTH)), [4, 5])], [table])
    np.testing.assert_array_equal(table.numpy()[:4], after_first[:4])  # Adam would move rows 0 and 1 on momentum
    np.testing.assert_array_equal(after_first[2:], start[2:])
    assert not np.allclose(table.numpy()[4:], start[4:])
    for moment, before in zip([v.numpy() for v in optimizer.variables if v.shape == (ROWS, WIDTH)], moments):
        np.testing.assert_array_equal(moment[:4], before[:4])
        assert np.all(before[4:] == 0) and np.all(moment[4:] != 0)
    # what Keras's Adam does with the same second step: every row with a moment moves
    adam_table = keras.Variable(start)
    adam = keras.optimizers.Adam(0.01)
    adam.apply([dense(rng.normal(size=(3, WIDTH)), [0, 1, 1])], [adam_table])
    first = adam_table.numpy()
    adam.apply([dense(rng.normal(size=(2, WIDTH)), [4, 5])], [adam_table])
    assert not np.allclose(adam_table.numpy()[:2], first[:2])


def test_a_non_finite_sparse_gradient_is_not_hidden_by_clipping(rng):
    table = keras.Variable(np.zeros((ROWS, WIDTH), np.float32))
    LazyAdam(0.01, global_clipnorm=1.0).apply([slices([[np.inf, 0, 0]], [2])], [table])
    assert np.isnan(table.numpy()[2]).all()


def test_unsupported_clipping_is_refused():
    with pytest.raises(ValueError, match="global_clipnorm"):
        LazyAdam(0.01, clipnorm=1.0)
