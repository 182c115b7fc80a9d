"""DIEN's auxiliary loss: the interest state after each behaviour must tell the next behaviour from
a negative one (Zhou et al. 2019, eq. 2), so the interest-extractor GRU learns from every step.

Negatives are in-batch: the behaviour at the same step of another sample of the batch, taken by
rolling the batch by a random offset in [1, B − 1] (never the sample itself). They follow the
behaviours' own frequency, as Word2Vec's negatives do, and carry a consistent item, category and
action type, which a uniform draw over the item vocabulary would not. A pair counts only where both
its state and its behaviour come from real steps (not padding), and a negative only where it differs
from the positive.
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
        # Step t pairs the previous state with behaviour t; rolls, not slices, align them (a slice's
        # gradient is a zero-padded copy of the whole tensor), and the wrapped-around step 0 is masked.
        batch, steps = ops.shape(states)[0], ops.shape(states)[1]
        offset = keras.random.randint((), 1, ops.maximum(batch, 2), seed=self.seed_generator)
        from_state = ops.matmul(ops.roll(states, 1, axis=1), self.state_kernel) + self.bias
        from_behaviour = ops.matmul(behaviours, self.behaviour_kernel)
        positive = self._logits(from_state + from_behaviour)
        # the negative of a state: the behaviour at the same step of the sample `offset` rows on
        negative = self._logits(ops.roll(from_state, offset, axis=0) + from_behaviour)
        mask = ops.cast(mask, positive.dtype)
        after_first = ops.cast(ops.arange(steps) > 0, positive.dtype)
        had_state = ops.roll(mask, 1, axis=1) * after_first
        valid_positive = mask * had_state
        # a "negative" that is the very behaviour the state should predict (two users with the same
        # next item, category and action type at that step) would teach the scorer to contradict itself
        same_as_positive = ops.all(ops.equal(behaviours, ops.roll(behaviours, offset, axis=0)), axis=-1)
        valid_negative = mask * ops.roll(had_state, offset, axis=0) * (1.0 - ops.cast(same_as_positive, mask.dtype))
        total = ops.sum(ops.softplus(-positive) * valid_positive) + ops.sum(ops.softplus(negative) * valid_negative)
        # the paper's sum of both terms, averaged over pairs
        return 2.0 * total / ops.maximum(ops.sum(valid_positive) + ops.sum(valid_negative), 1.0)

    def compute_output_shape(self, states_shape, behaviours_shape=None, mask_shape=None):
        return ()

    def get_config(self):
        return {**super().get_config(), "units": self.units, "seed": self.seed}
