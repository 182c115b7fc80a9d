"""What every tower shares: its view of the embedded features and its MLP head.

A tower is a layer: call(embedded features of `layers.feature_embedding`, training) -> logit [B].
It sees only the sequence channels it is given (ESSM's CTR tower is built without the action-type
channel), paired channel by channel with their queries; the mask comes from those channels too.
With `wide`, the dense and pair features also reach the logit through a linear term (Wide & Deep):
on a real log of a few dozen training buyers the MLP alone did not learn what a logistic regression
over the same features does.
"""
import keras
from keras import ops

from layers.mlp import MLP


class Tower(keras.layers.Layer):
    """Base of the registry's towers; subclasses implement call(embedded, training)."""

    needs_first_order = False  # True: the embedding must provide per-id first-order weights (FM towers)

    def __init__(self, sequences, mlp_units, mlp_activation="prelu", mlp_dropout=0.0, wide=True, **kwargs):
        super().__init__(**kwargs)
        self.sequences = list(sequences)
        self.wide = wide
        # starts at zero: the deep part alone at first, as without it
        self.linear = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros", name="wide") if wide else None
        self.mlp_units = list(mlp_units)
        self.mlp_activation = mlp_activation
        self.mlp_dropout = mlp_dropout
        self.mlp = MLP(self.mlp_units, mlp_activation, mlp_dropout, name="mlp")
        self.logit = keras.layers.Dense(1, name="logit")

    def view(self, embedded):
        """(query [B, C], keys [B, T, C], mask [B, T] bool, side [B, S]) over this tower's channels:
        C = channels × embed_dim; side holds the other sparse embeddings and the dense features."""
        query = ops.concatenate([embedded["query"][s] for s in self.sequences], axis=-1)
        keys = ops.concatenate([embedded["sequence"][s] for s in self.sequences], axis=-1)
        mask = embedded["present"][self.sequences[0]]
        for s in self.sequences[1:]:
            mask = ops.logical_or(mask, embedded["present"][s])
        side = list(embedded["side"].values()) + ([embedded["dense"]] if "dense" in embedded else [])
        return query, keys, mask, ops.concatenate(side, axis=-1) if side else None

    def head(self, embedded, parts, training=None):
        """Logit [B] of the MLP over the concatenated parts (None parts skipped), plus the wide term."""
        inputs = ops.concatenate([p for p in parts if p is not None], axis=-1)
        logit = self.logit(self.mlp(inputs, training=training))
        if self.linear is not None and "dense" in embedded:
            logit = logit + self.linear(embedded["dense"])
        return ops.squeeze(logit, axis=-1)

    def get_config(self):
        return {**super().get_config(), "sequences": self.sequences, "mlp_units": self.mlp_units,
                "mlp_activation": self.mlp_activation, "mlp_dropout": self.mlp_dropout, "wide": self.wide}
