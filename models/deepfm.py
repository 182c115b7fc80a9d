"""DeepFM (Guo et al. 2017): an FM and a DNN over the same embeddings, logits added."""
import keras

from layers.sequence_pooling import masked_mean
from models.field_fm import FieldFM
from models.tower import Tower


@keras.saving.register_keras_serializable(package="purchase")
class DeepFMTower(Tower):
    needs_first_order = True

    def __init__(self, sequences, **kwargs):
        super().__init__(sequences, **kwargs)
        self.field_fm = FieldFM(self.sequences, name="field_fm")

    def call(self, embedded, training=None):
        query, keys, mask, side = self.view(embedded)
        return self.field_fm(embedded, mask) + self.head(embedded, [side, query, masked_mean(keys, mask)], training)
