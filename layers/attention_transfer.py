"""AITM's adaptive information transfer unit (Xi et al. KDD 2021) between two sequential tasks.

    z_t = AttentionTransfer()(z_prev [B, H], q_t [B, H])     # [B, H]

The previous task's representation is carried over by a transfer layer, p = relu(z_prev · G + g);
then self-attention over the two candidates u ∈ {p, q_t} chooses how much of each to take:
w_u = softmax_u(<h1(u), h2(u)> / √H), z_t = Σ_u w_u h3(u), with h1, h2, h3 linear maps to H.
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="purchase")
class AttentionTransfer(keras.layers.Layer):
    def build(self, previous_shape, current_shape=None):
        width = previous_shape[-1]
        self.transfer = keras.layers.Dense(width, activation="relu", name="transfer")
        self.h1 = keras.layers.Dense(width, use_bias=False, name="query")
        self.h2 = keras.layers.Dense(width, use_bias=False, name="key")
        self.h3 = keras.layers.Dense(width, use_bias=False, name="value")
        for layer in (self.transfer, self.h1, self.h2, self.h3):
            layer.build(previous_shape)

    def weights_of(self, previous, current):
        """([B, 2] attention weights of (transferred, current), [B, 2, H] the candidates)."""
        candidates = ops.stack([self.transfer(previous), current], axis=1)
        scores = ops.sum(self.h1(candidates) * self.h2(candidates), axis=-1) / ops.sqrt(
            ops.cast(ops.shape(candidates)[-1], candidates.dtype))
        return ops.softmax(scores, axis=-1), candidates

    def call(self, previous, current):
        weights, candidates = self.weights_of(previous, current)
        return ops.sum(weights[..., None] * self.h3(candidates), axis=1)

    def compute_output_shape(self, previous_shape, current_shape):
        return tuple(current_shape)
