"""Mean of a front-padded sequence over its real steps."""
from keras import ops


def masked_mean(sequence, mask):
    """sequence [B, T, d] or [B, T], mask [B, T] -> mean over the steps where mask is true (0 when none)."""
    weights = ops.cast(mask, sequence.dtype)
    count = ops.maximum(ops.sum(weights, axis=1), 1.0)
    if len(sequence.shape) == 3:
        return ops.sum(sequence * weights[..., None], axis=1) / count[:, None]
    return ops.sum(sequence * weights, axis=1) / count
