"""DNN (the original's BaseModel): the masked mean of the history beside the target and side features."""
import keras

from layers.sequence_pooling import masked_mean
from models.tower import Tower


@keras.saving.register_keras_serializable(package="purchase")
class DNNTower(Tower):
    def call(self, embedded, training=None):
        query, keys, mask, side = self.view(embedded)
        return self.head(embedded, [side, query, masked_mean(keys, mask)], training)
