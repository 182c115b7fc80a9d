"""The small tower of one task over a shared representation (an expert mixture, a shared bottom):
an MLP, then a logit [B]; with `wide`, plus a linear term of the dense and pair features, as every
registry tower has (models/tower.py)."""
import keras
from keras import ops

from layers.mlp import MLP


@keras.saving.register_keras_serializable(package="purchase")
class TaskTower(keras.layers.Layer):
    def __init__(self, units, activation="prelu", dropout=0.0, wide=True, **kwargs):
        super().__init__(**kwargs)
        self.units = list(units)
        self.activation = activation
        self.dropout = dropout
        self.wide = wide
        self.mlp = MLP(self.units, activation, dropout, name="mlp")
        self.logit = keras.layers.Dense(1, name="logit")
        # starts at zero, as the towers' own
        self.linear = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros", name="wide") if wide else None

    def call(self, inputs, dense=None, training=None):
        """inputs [B, H], dense [B, D] or None -> logit [B]."""
        logit = self.logit(self.mlp(inputs, training=training))
        if self.linear is not None and dense is not None:
            logit = logit + self.linear(dense)
        return ops.squeeze(logit, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "dropout": self.dropout, "wide": self.wide}
