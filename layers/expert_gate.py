"""MMoE's gate (Ma et al. KDD 2018): a softmax over the experts computed from the sample, mixing them.

    mixture = ExpertGate(num_experts)(gate_input [B, n], experts [B, E, H])   # [B, H]

weights = softmax(gate_input · W + b) [B, E]; mixture = Σ_e weights[:, e] · experts[:, e].
"""
import keras
from keras import ops


def mix_experts(weights, experts):
    """[B, H]: the experts [B, E, H] summed with the weights [B, E]."""
    return ops.sum(weights[..., None] * experts, axis=1)


@keras.saving.register_keras_serializable(package="purchase")
class ExpertGate(keras.layers.Layer):
    def __init__(self, num_experts, **kwargs):
        super().__init__(**kwargs)
        self.num_experts = num_experts
        self.scores = keras.layers.Dense(num_experts, name="scores")

    def build(self, gate_input_shape, experts_shape=None):
        self.scores.build(gate_input_shape)

    def weights_of(self, gate_input):
        """[B, E]: each expert's share of the mixture, summing to 1 per sample."""
        return ops.softmax(self.scores(gate_input), axis=-1)

    def call(self, gate_input, experts):
        return mix_experts(self.weights_of(gate_input), experts)

    def compute_output_shape(self, gate_input_shape, experts_shape):
        return (experts_shape[0], experts_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts}
