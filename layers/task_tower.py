"""The small tower of one task over a shared representation (an expert mixture, a shared bottom):
an MLP, then a logit [B]."""
import keras
from keras import ops

from layers.mlp import MLP


@keras.saving.register_keras_serializable(package="purchase")
class TaskTower(keras.layers.Layer):
    def __init__(self, units, activation="prelu", dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = list(units)
        self.activation = activation
        self.dropout = dropout
        self.mlp = MLP(self.units, activation, dropout, name="mlp")
        self.logit = keras.layers.Dense(1, name="logit")

    def build(self, input_shape):
        self.mlp.build(input_shape)
        self.logit.build(self.mlp.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        return ops.squeeze(self.logit(self.mlp(inputs, training=training)), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "dropout": self.dropout}
