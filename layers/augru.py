"""DIEN's AUGRU: a GRU whose update gate is scaled by the attention score of each step.

`AUGRUCell` is a Keras RNN cell (usable by `keras.layers.RNN`, which applies the mask); its input
at each step is the behaviour vector with the attention score appended as the last feature.
`AUGRU` runs the same cell's weights through the fused recurrence of `layers.gru_scan`, with the
padding mask folded into the scores; the two give the same states.
"""
import keras
from keras import ops

from layers.gru_scan import add_gru_weights, gru_scan


@keras.saving.register_keras_serializable(package="purchase")
class AUGRUCell(keras.layers.Layer):
    """One AUGRU step: inputs [B, D + 1] (behaviour, attention score), state [B, units]."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        add_gru_weights(self, input_shape[-1] - 1, self.units)

    def call(self, inputs, states, training=None):
        state = states[0] if isinstance(states, (list, tuple)) else states
        behaviour, score = inputs[:, :-1], inputs[:, -1:]
        x_z, x_r, x_h = ops.split(ops.matmul(behaviour, self.kernel) + self.bias[0], 3, axis=-1)
        h_z, h_r, h_h = ops.split(ops.matmul(state, self.recurrent_kernel) + self.bias[1], 3, axis=-1)
        z = ops.sigmoid(x_z + h_z)
        r = ops.sigmoid(x_r + h_r)
        candidate = ops.tanh(x_h + r * h_h)
        new_state = state + score * (1.0 - z) * (candidate - state)
        return new_state, [new_state]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="purchase")
class AUGRU(keras.layers.Layer):
    """Interest evolution: call(behaviours [B, T, D], scores [B, T], mask [B, T]) -> [B, units]
    (the state after the last real step), or [B, T, units] with return_sequences."""

    def __init__(self, units, return_sequences=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.return_sequences = return_sequences
        self.cell = AUGRUCell(units, name="cell")

    def build(self, behaviours_shape, scores_shape=None, mask_shape=None):
        self.cell.build((behaviours_shape[0], behaviours_shape[-1] + 1))

    def call(self, behaviours, scores, mask):
        scale = ops.cast(scores, behaviours.dtype) * ops.cast(mask, behaviours.dtype)
        return gru_scan(behaviours, self.cell.kernel, self.cell.bias, self.cell.recurrent_kernel, scale,
                        return_sequences=self.return_sequences)

    def compute_output_shape(self, behaviours_shape, scores_shape=None, mask_shape=None):
        if self.return_sequences:
            return (*behaviours_shape[:2], self.units)
        return (behaviours_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences}
