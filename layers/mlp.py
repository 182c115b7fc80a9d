"""The hidden layers of every tower: Dense -> BatchNormalization -> PReLU or Dice -> Dropout."""
import keras

from layers.activations import activation_layer


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
             keras.layers.BatchNormalization(name=f"norm_{i}"),
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
