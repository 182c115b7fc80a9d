"""A GRU over front-padded sequences, with the weights of `keras.layers.GRU` and its masked outputs.

Same weight layout (kernel [D, 3H], recurrent_kernel [H, 3H], bias [2, 3H]; gates z, r, h;
`reset_after=True`) and the same outputs as `keras.layers.GRU(units, return_sequences=...)` called
with the padding mask. It runs the fused recurrence of `layers.gru_scan` instead: `keras.layers.GRU`
differentiates its loop step by step (slower on a CPU), and its cuDNN path rejects masks that are
not right-padded, so it cannot take our front-padded sequences on a GPU.
"""
import keras

from layers.gru_scan import add_gru_weights, gru_scan


@keras.saving.register_keras_serializable(package="purchase")
class MaskedGRU(keras.layers.Layer):
    """call(sequences [B, T, D], mask [B, T]) -> [B, units] (state after the last real step),
    or [B, T, units] with return_sequences (padded steps repeat the previous state; zeros in front)."""

    def __init__(self, units, return_sequences=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.return_sequences = return_sequences

    def build(self, sequences_shape, mask_shape=None):
        add_gru_weights(self, sequences_shape[-1], self.units)

    def call(self, sequences, mask):
        return gru_scan(sequences, self.kernel, self.bias, self.recurrent_kernel, mask, scale_gradient=False,
                        return_sequences=self.return_sequences)

    def compute_output_shape(self, sequences_shape, mask_shape=None):
        if self.return_sequences:
            return (*sequences_shape[:2], self.units)
        return (sequences_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences}
