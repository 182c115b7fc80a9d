"""Adam that updates only the rows a batch touched when a gradient is sparse.

An embedding table with more ids than `sparse_update_above` hands back its gradient as
tf.IndexedSlices (layers/feature_embedding.py). Keras's Adam turns such a gradient dense: the moment
updates subtract the whole moment tensor, so a step costs time in proportion to the table, which
for a 4-million-item catalogue is most of the step. Here a sparse gradient is summed per row, the
global norm for clipping is taken over those sums (summing first makes it the norm of the dense
gradient), and the moments and weights of those rows only are updated: "lazy" Adam, as in
TensorFlow Addons' LazyAdam. A row not in the batch keeps its moments instead of decaying them and
does not move. Dense gradients get Keras's Adam unchanged, step for step.
"""
import keras
import tensorflow as tf
from keras import ops


def summed_per_row(slices):
    """The IndexedSlices with each row once, its values summed (a batch repeats popular items)."""
    rows, position = tf.unique(slices.indices)
    values = tf.math.unsorted_segment_sum(slices.values, position, tf.shape(rows)[0])
    return tf.IndexedSlices(values, rows, slices.dense_shape)


def _values(gradient):
    return gradient.values if isinstance(gradient, tf.IndexedSlices) else gradient


def _scaled(gradient, scale):
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values * scale, gradient.indices, gradient.dense_shape)
    return gradient * scale


@keras.saving.register_keras_serializable(package="purchase")
class LazyAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam with lazy updates for sparse gradients; global_clipnorm is the only
    clipping it takes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.clipnorm or self.clipvalue or self.amsgrad:
            raise ValueError("LazyAdam: only global_clipnorm clipping and amsgrad=False are supported")

    def _clip_gradients(self, grads):
        if not any(isinstance(g, tf.IndexedSlices) for g in grads):
            return super()._clip_gradients(grads)
        grads = [summed_per_row(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        if not self.global_clipnorm:
            return grads
        norm = ops.sqrt(ops.sum(ops.stack([ops.sum(ops.square(_values(g))) for g in grads if g is not None])))
        # as keras's clip_by_global_norm: a non-finite norm makes the scale NaN instead of hiding it
        scale = self.global_clipnorm * ops.minimum(1.0 / norm, 1.0 / self.global_clipnorm) + (norm - norm)
        return [None if g is None else _scaled(g, scale) for g in grads]

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        gradient = tf.cast(gradient, variable.dtype)
        if self._distribution_strategy.num_replicas_in_sync > 1:
            # the replicas' slices were gathered, each summed per row: rows repeat across them
            gradient = summed_per_row(gradient)
        rows, values = gradient.indices, gradient.values
        lr = ops.cast(learning_rate, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        alpha = lr * ops.sqrt(1 - ops.power(ops.cast(self.beta_2, variable.dtype), step)) / (
            1 - ops.power(ops.cast(self.beta_1, variable.dtype), step))
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        m_rows = tf.gather(m.value, rows) * self.beta_1 + values * (1 - self.beta_1)
        v_rows = tf.gather(v.value, rows) * self.beta_2 + ops.square(values) * (1 - self.beta_2)
        self.assign(m, tf.IndexedSlices(m_rows, rows, gradient.dense_shape))
        self.assign(v, tf.IndexedSlices(v_rows, rows, gradient.dense_shape))
        self.assign_sub(variable, tf.IndexedSlices(alpha * m_rows / (ops.sqrt(v_rows) + self.epsilon), rows,
                                                   gradient.dense_shape))
