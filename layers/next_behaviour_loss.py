"""DIEN's auxiliary loss: the interest state after each behaviour must tell the next behaviour from
a negative one (Zhou et al. 2019, eq. 2), so the interest-extractor GRU learns from every step.

Negatives are in-batch: the behaviour at the same step of another sample of the batch, taken by
rolling the batch by a random offset in [1, B − 1] (never the sample itself). They follow the
behaviours' own frequency, as Word2Vec's negatives do, and carry a consistent item, category and
action type, which a uniform draw over the item vocabulary would not. A pair counts only where the
state, the next behaviour and the negative are all real steps (not padding).
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="purchase")
class NextBehaviourLoss(keras.layers.Layer):
    """call(states [B, T, H], behaviours [B, T, d], mask [B, T]) -> scalar mean binary cross-entropy.

    A small MLP scores [state_t, behaviour_{t+1}] against 1 and [state_t, negative_{t+1}] against 0.
    Its hidden layers use ReLU: with the sigmoid of DIEN's code the same pairs were learned several
    times more slowly. Its first layer is split into a state part and a behaviour part, so the state
    part is computed once for both and each behaviour once.
    """

    def __init__(self, units=(100, 50), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = list(units)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.hidden = [keras.layers.Dense(u, activation="relu", name=f"dense_{i}")
                       for i, u in enumerate(self.units[1:], start=1)]
        self.score = keras.layers.Dense(1, name="score")

    def build(self, states_shape, behaviours_shape=None, mask_shape=None):
        self.state_kernel = self.add_weight(name="state_kernel", shape=(states_shape[-1], self.units[0]),
                                            initializer="glorot_uniform")
        self.behaviour_kernel = self.add_weight(name="behaviour_kernel",
                                                shape=(behaviours_shape[-1], self.units[0]),
                                                initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units[0],), initializer="zeros")
        previous = self.units[0]
        for layer in self.hidden + [self.score]:
            layer.build((None, None, previous))
            previous = layer.units

    def _logits(self, first_layer):
        hidden = ops.relu(first_layer)
        for layer in self.hidden:
            hidden = layer(hidden)
        return ops.squeeze(self.score(hidden), axis=-1)

    def call(self, states, behaviours, mask):
        batch = ops.shape(states)[0]
        offset = keras.random.randint((), 1, ops.maximum(batch, 2), seed=self.seed_generator)
        from_state = ops.matmul(states[:, :-1], self.state_kernel) + self.bias
        from_behaviour = ops.matmul(behaviours, self.behaviour_kernel)
        positive = self._logits(from_state + from_behaviour[:, 1:])
        negative = self._logits(from_state + ops.roll(from_behaviour, offset, axis=0)[:, 1:])
        mask = ops.cast(mask, positive.dtype)
        valid = mask[:, :-1] * mask[:, 1:] * ops.roll(mask, offset, axis=0)[:, 1:]
        losses = ops.softplus(-positive) + ops.softplus(negative)
        return ops.sum(losses * valid) / ops.maximum(ops.sum(valid), 1.0)

    def compute_output_shape(self, states_shape, behaviours_shape=None, mask_shape=None):
        return ()

    def get_config(self):
        return {**super().get_config(), "units": self.units, "seed": self.seed}
