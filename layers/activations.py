"""The MLP activations of DIN: PReLU and Dice (a PReLU whose switch point adapts to the data)."""
import keras
from keras import ops

ACTIVATIONS = ("prelu", "dice")
BN_MOMENTUM = 0.9  # of every BatchNormalization's moving statistics; layers.mlp says why not Keras's 0.99


@keras.saving.register_keras_serializable(package="purchase")
class Dice(keras.layers.Layer):
    """Dice(x) = p·x + (1 − p)·α·x with p = σ(standardised x), per unit; the standardisation is a
    BatchNormalization without scale and offset (batch statistics in training, moving ones after,
    with momentum BN_MOMENTUM)."""

    def __init__(self, epsilon=1e-9, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.norm = keras.layers.BatchNormalization(center=False, scale=False, epsilon=epsilon,
                                                    momentum=BN_MOMENTUM, name="norm")

    def build(self, input_shape):
        self.norm.build(input_shape)
        self.alpha = self.add_weight(name="alpha", shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs, training=None):
        p = ops.sigmoid(self.norm(inputs, training=training))
        return p * inputs + (1.0 - p) * self.alpha * inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def activation_layer(kind, **kwargs):
    """A new activation layer: "prelu" (slopes start at 0.25, as in He et al.) or "dice"."""
    if kind == "prelu":
        return keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), **kwargs)
    if kind == "dice":
        return Dice(**kwargs)
    raise ValueError(f"activation {kind!r}: expected one of {', '.join(ACTIVATIONS)}")
