"""The hidden layers of every tower: Dense -> BatchNormalization -> PReLU or Dice -> Dropout.

BatchNormalization's moving statistics, which inference uses, follow the batches with momentum
BN_MOMENTUM = 0.9 (PyTorch's default, an average over about 10 steps) instead of Keras's 0.99
(about 100 steps). The scale of a layer's inputs moves fast in the first few hundred steps at the
learning rates used here, and a run on the demo data has about 83 steps per pass: with 0.99 the
moving statistics were still mostly their initial values (mean 0, variance 1) when dev was scored,
so inference computed another function than training did (DIN: dev log loss 0.21 against 0.07 in
training mode; the same weights with re-estimated statistics scored dev AUC 0.62-0.70, not 0.48).
"""
import keras

from layers.activations import BN_MOMENTUM, activation_layer


@keras.saving.register_keras_serializable(package="purchase")
class MLP(keras.layers.Layer):
    """call(inputs [B, n]) -> [B, units[-1]] (the inputs unchanged when units is empty)."""

    def __init__(self, units, activation="prelu", dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = list(units)
        self.activation = activation
        self.dropout = dropout
        self.blocks = [
            [keras.layers.Dense(u, use_bias=False, name=f"dense_{i}"),  # BatchNormalization's offset is the bias
             keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"norm_{i}"),
             activation_layer(activation, name=f"{activation}_{i}"),
             keras.layers.Dropout(dropout, name=f"dropout_{i}")]
            for i, u in enumerate(self.units)]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            for layer in block:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)

    def call(self, inputs, training=None):
        x = inputs
        for dense, norm, activation, dropout in self.blocks:
            x = dropout(activation(norm(dense(x), training=training), training=training), training=training)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units[-1]) if self.units else tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "dropout": self.dropout}
