"""Outputs of a multi-task model whose two tasks each predict over every sample: interaction (CTR)
and purchase (the main output, as pCTCVR is ESSM's). Shared-bottom, MMoE, PLE and AITM define them so.

The CVR output, which the methods do not define, is the conditional their two estimates imply,
pCVR = min(1, p(buy) / p(interaction)), so CVR AUC is reported for them as for ESSM.
"""
from keras import ops

TASKS = ("ctr", "buy")  # the two tasks of these models, in their order (AITM transfers ctr -> buy)
_EPSILON = 1e-7


def entire_space_outputs(ctr_logit, buy_logit):
    """{"main": p(buy), "ctr": p(interaction), "cvr": their implied conditional}, each [B]."""
    ctr = ops.sigmoid(ctr_logit)
    buy = ops.sigmoid(buy_logit)
    return {"main": buy, "ctr": ctr, "cvr": ops.minimum(buy / ops.maximum(ctr, _EPSILON), 1.0)}


def sequence_channels(features):
    return [f["name"] for f in features if f["kind"] == "sequence"]
