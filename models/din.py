"""DIN (Zhou et al. 2018): the history pooled by attention to the target, beside the target and side features."""
import keras

from layers.din_attention import DINAttention
from models.tower import Tower


@keras.saving.register_keras_serializable(package="purchase")
class DINTower(Tower):
    def __init__(self, sequences, attention_units=(80, 40), attention_softmax=False, **kwargs):
        super().__init__(sequences, **kwargs)
        self.attention_units = list(attention_units)
        self.attention_softmax = attention_softmax
        self.attention = DINAttention(self.attention_units, softmax=attention_softmax, name="attention")

    def call(self, embedded, training=None):
        query, keys, mask, side = self.view(embedded)
        return self.head(embedded, [side, query, self.attention(query, keys, mask)], training)

    def attention_weights(self, embedded):
        """[B, T]: the weight of each behaviour in the pooled history (a forecast's reasons)."""
        query, keys, mask, _ = self.view(embedded)
        return self.attention.weights_of(query, keys, mask)

    def get_config(self):
        return {**super().get_config(), "attention_units": self.attention_units,
                "attention_softmax": self.attention_softmax}
