"""DIEN (Zhou et al. 2019): interest extraction, auxiliary loss, attention and interest evolution.

A GRU turns the behaviours into interest states; during training the auxiliary loss of
`layers.next_behaviour_loss` (weighted, via add_loss) makes each state predict the next behaviour.
The target, projected to the GRU's width, scores every state with DIN's attention unit normalised
by a softmax over the real steps; an AUGRU whose update gate is scaled by those scores evolves the
interest, and its last state joins the target and side features in the MLP.
"""
import keras

from layers.augru import AUGRU
from layers.din_attention import DINAttention
from layers.masked_gru import MaskedGRU
from layers.next_behaviour_loss import NextBehaviourLoss
from models.tower import Tower


@keras.saving.register_keras_serializable(package="purchase")
class DIENTower(Tower):
    def __init__(self, sequences, gru_units=32, augru_units=32, attention_units=(80, 40), aux_units=(100, 50),
                 aux_weight=1.0, **kwargs):
        super().__init__(sequences, **kwargs)
        self.gru_units = gru_units
        self.augru_units = augru_units
        self.attention_units = list(attention_units)
        self.aux_units = list(aux_units)
        self.aux_weight = aux_weight
        self.extractor = MaskedGRU(gru_units, return_sequences=True, name="interest_extractor")
        self.project_query = keras.layers.Dense(gru_units, name="project_query")
        self.attention = DINAttention(self.attention_units, softmax=True, return_weights=True, name="attention")
        self.evolution = AUGRU(augru_units, name="interest_evolution")
        self.next_behaviour_loss = (NextBehaviourLoss(self.aux_units, name="next_behaviour_loss")
                                    if aux_weight else None)

    def build(self, embedded_shape):
        # built here, not on first use: it runs only in training, and its weights must exist before
        # the first training step (and in every saved weights file)
        if self.next_behaviour_loss is not None:
            width = sum(embedded_shape["query"][s][-1] for s in self.sequences)
            self.next_behaviour_loss.build((None, None, self.gru_units), (None, None, width))

    def call(self, embedded, training=None):
        query, keys, mask, side = self.view(embedded)
        interests = self.extractor(keys, mask)
        if training and self.next_behaviour_loss is not None:
            self.add_loss(self.aux_weight * self.next_behaviour_loss(interests, keys, mask))
        scores = self.attention(self.project_query(query), interests, mask)
        return self.head(embedded, [side, query, self.evolution(interests, scores, mask)], training)

    def attention_weights(self, embedded):
        """[B, T]: the attention over the interest states that scales the AUGRU (a forecast's reasons)."""
        query, keys, mask, _ = self.view(embedded)
        return self.attention(self.project_query(query), self.extractor(keys, mask), mask)

    def get_config(self):
        return {**super().get_config(), "gru_units": self.gru_units, "augru_units": self.augru_units,
                "attention_units": self.attention_units, "aux_units": self.aux_units,
                "aux_weight": self.aux_weight}
