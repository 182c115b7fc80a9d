"""ESSM (ESMM in Ma et al. 2018): pCTCVR = pCTR × pCVR over one shared embedding, in the entire space."""
from keras import ops


def essm_outputs(ctr_logit, cvr_logit):
    """{"main": pCTCVR, "ctr": pCTR, "cvr": pCVR}, each [B], from the two towers' logits."""
    ctr = ops.sigmoid(ctr_logit)
    cvr = ops.sigmoid(cvr_logit)
    return {"main": ctr * cvr, "ctr": ctr, "cvr": cvr}


def ctr_channels(meta_features, sees_action_type):
    """The sequence channels ESSM's CTR tower sees: all of them, or (as in the original) all but the
    action-type channel, i.e. those without a target feature, paired with the constant target action."""
    sequences = [f for f in meta_features if f["kind"] == "sequence"]
    return [f["name"] for f in sequences if sees_action_type or f.get("target") is not None]
