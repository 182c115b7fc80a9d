"""The FM part of DeepFM and GRU+FM, over a tower's fields.

Fields: every side sparse embedding, the query of each sequence channel (the target item, category
and action type) and each channel's history as its masked mean, one field per channel as DeepCTR
pools a sequence feature: a mean keeps the interaction with the target on one scale whatever the
history's length. First order: a learned weight per id (a channel's history: the mean of its items'
weights) and a linear term of the dense features.
"""
import keras
from keras import ops

from layers.fm import FM
from layers.sequence_pooling import masked_mean


@keras.saving.register_keras_serializable(package="purchase")
class FieldFM(keras.layers.Layer):
    """call(embedded (with first_order), mask [B, T]) -> FM logit [B] over the channels `sequences`."""

    def __init__(self, sequences, **kwargs):
        super().__init__(**kwargs)
        self.sequences = list(sequences)
        self.fm = FM(name="fm")
        self.dense_linear = keras.layers.Dense(1, use_bias=False, name="dense_linear")

    def call(self, embedded, mask):
        fields = (list(embedded["side"].values()) + [embedded["query"][s] for s in self.sequences]
                  + [masked_mean(embedded["sequence"][s], mask) for s in self.sequences])
        first = (list(embedded["side_first"].values()) + [embedded["query_first"][s] for s in self.sequences]
                 + [masked_mean(embedded["sequence_first"][s], mask) for s in self.sequences])
        if "dense" in embedded:
            first.append(ops.squeeze(self.dense_linear(embedded["dense"]), axis=-1))
        return self.fm(ops.stack(fields, axis=1), ops.stack(first, axis=1))

    def get_config(self):
        return {**super().get_config(), "sequences": self.sequences}
