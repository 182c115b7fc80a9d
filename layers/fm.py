"""Factorization machine: first-order terms plus all pairwise inner products of field embeddings."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="purchase")
class FM(keras.layers.Layer):
    """call(fields [B, F, d], first_order [B, F'] or None) -> logit [B].

    Second order: sum over pairs i < j of <v_i, v_j>, computed as ½ Σ_k ((Σ_i v_ik)² − Σ_i v_ik²).
    First order: the sum of the given per-field weights (e.g. w[id] of each sparse feature).
    """

    def call(self, fields, first_order=None):
        summed = ops.sum(fields, axis=1)
        pairwise = 0.5 * ops.sum(ops.square(summed) - ops.sum(ops.square(fields), axis=1), axis=-1)
        if first_order is None:
            return pairwise
        return pairwise + ops.sum(first_order, axis=-1)

    def compute_output_shape(self, fields_shape, first_order_shape=None):
        return (fields_shape[0],)
