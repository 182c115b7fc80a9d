"""GRU + DNN: the GRU's state after the last behaviour, beside the target and side features."""
import keras

from layers.masked_gru import MaskedGRU
from models.tower import Tower


@keras.saving.register_keras_serializable(package="purchase")
class GRUDNNTower(Tower):
    def __init__(self, sequences, gru_units=64, **kwargs):
        super().__init__(sequences, **kwargs)
        self.gru_units = gru_units
        self.gru = MaskedGRU(gru_units, name="gru")

    def call(self, embedded, training=None):
        query, keys, mask, side = self.view(embedded)
        return self.head(embedded, [side, query, self.gru(keys, mask)], training)

    def get_config(self):
        return {**super().get_config(), "gru_units": self.gru_units}
