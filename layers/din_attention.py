"""DIN's local activation unit: an MLP scores each behaviour against the target, padding masked.

The MLP reads [q, k, q − k, q ⊙ k]. Its first layer is linear, so its kernel [W_q; W_k; W_d; W_p]
is applied as q (W_q + W_d) once per sample plus [k, q ⊙ k] [W_k − W_d; W_p] per step: the same
function and weights as the concatenated form, with half the per-step multiplications.
"""
import keras
from keras import ops

_MASKED_LOGIT = -1e9  # softmax weight of a padded step underflows to exactly 0


@keras.saving.register_keras_serializable(package="purchase")
class DINAttention(keras.layers.Layer):
    """call(query [B, d], keys [B, T, d], mask [B, T]) -> pooled [B, d], or the weights [B, T] with
    return_weights. Weights are the MLP's outputs with padding zeroed (as in the DIN paper), or a
    softmax over the real steps with softmax=True."""

    def __init__(self, units=(80, 40), activation="sigmoid", softmax=False, return_weights=False, **kwargs):
        super().__init__(**kwargs)
        self.units = list(units)
        self.activation = activation
        self.softmax = softmax
        self.return_weights = return_weights
        self.hidden = [keras.layers.Dense(u, activation=activation, name=f"dense_{i}")
                       for i, u in enumerate(self.units[1:], start=1)]
        self.score = keras.layers.Dense(1, name="score")

    def build(self, query_shape, keys_shape=None, mask_shape=None):
        width = query_shape[-1]
        if keys_shape is not None and keys_shape[-1] != width:
            raise ValueError(f"DINAttention: query width {width} differs from keys width {keys_shape[-1]}")
        self.kernel = self.add_weight(name="kernel", shape=(4 * width, self.units[0]), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units[0],), initializer="zeros")
        previous = self.units[0]
        for layer in self.hidden + [self.score]:
            layer.build((None, None, previous))
            previous = layer.units

    def weights_of(self, query, keys, mask):
        """Attention weights [B, T]."""
        w_q, w_k, w_d, w_p = ops.split(self.kernel, 4, axis=0)
        per_sample = ops.matmul(query, w_q + w_d) + self.bias
        per_step = ops.matmul(ops.concatenate([keys, keys * query[:, None, :]], axis=-1),
                              ops.concatenate([w_k - w_d, w_p], axis=0))
        hidden = keras.activations.get(self.activation)(per_step + per_sample[:, None, :])
        for layer in self.hidden:
            hidden = layer(hidden)
        logits = ops.squeeze(self.score(hidden), axis=-1)
        mask = ops.cast(mask, logits.dtype)
        if self.softmax:
            logits = ops.where(mask > 0, logits, _MASKED_LOGIT)
            return ops.softmax(logits, axis=-1) * mask
        return logits * mask

    def call(self, query, keys, mask):
        weights = self.weights_of(query, keys, mask)
        if self.return_weights:
            return weights
        return ops.sum(weights[..., None] * keys, axis=1)

    def compute_output_shape(self, query_shape, keys_shape=None, mask_shape=None):
        if self.return_weights:
            return tuple(keys_shape[:2])
        return tuple(query_shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "softmax": self.softmax, "return_weights": self.return_weights}
