"""GRU + FM: an FM over the target, side and history fields plus an MLP over the GRU's last state."""
import keras

from layers.masked_gru import MaskedGRU
from models.field_fm import FieldFM
from models.tower import Tower


@keras.saving.register_keras_serializable(package="purchase")
class GRUFMTower(Tower):
    needs_first_order = True

    def __init__(self, sequences, gru_units=64, **kwargs):
        super().__init__(sequences, **kwargs)
        self.gru_units = gru_units
        self.gru = MaskedGRU(gru_units, name="gru")
        self.field_fm = FieldFM(self.sequences, name="field_fm")

    def call(self, embedded, training=None):
        query, keys, mask, side = self.view(embedded)
        return self.field_fm(embedded, mask) + self.head(embedded, [side, query, self.gru(keys, mask)], training)

    def get_config(self):
        return {**super().get_config(), "gru_units": self.gru_units}
