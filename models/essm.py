"""ESSM (ESMM in Ma et al. 2018): pCTCVR = pCTR × pCVR over one shared embedding, in the entire space."""
from keras import ops

from errors import PipelineError


def essm_towers(features, ctr_name, cvr_name, ctr_sees_action_type, make_tower):
    """{"ctr": CTR tower, "cvr": CVR tower}; make_tower(name, sequence channels, role name) builds a
    registry tower. The CVR tower reads every channel, the CTR tower those of ctr_channels."""
    ctr_sequences = ctr_channels(features, ctr_sees_action_type)
    if not ctr_sequences:
        raise PipelineError("setting ctr_sees_action_type=False: the CTR tower would see no sequence channel")
    all_channels = [f["name"] for f in features if f["kind"] == "sequence"]
    return {"ctr": make_tower(ctr_name, ctr_sequences, "ctr_tower"),
            "cvr": make_tower(cvr_name, all_channels, "cvr_tower")}


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
