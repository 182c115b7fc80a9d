"""ESCM² (Wang et al. SIGIR 2022): ESSM's structure (pCTCVR = pCTR × pCVR over CTR and CVR towers),
its CVR estimate made unbiased by a counterfactual regulariser in the task's losses
(training/loop/task.py): the CVR error on interacted samples weighted by the inverse of pCTR, the
propensity (`escm2_variant="ips"`), or doubly robust (`"dr"`), where an imputation tower also
predicts the CVR error of every sample, interacted or not: a DNN tower, since an error estimate
needs no sequence model and the DR variant should not cost a second CVR tower."""
from keras import ops

from models.entire_space import sequence_channels
from models.essm import essm_outputs, essm_towers

VARIANTS = ("ips", "dr")


def escm2(cfg, features, make_tower, bodies):
    """(towers, wire): wire(embedded) -> ESSM's outputs, and for DR "imputed_error" [B] >= 0."""
    towers = essm_towers(features, *bodies, cfg.ctr_sees_action_type, make_tower)
    if cfg.escm2_variant == "dr":
        towers["imputation"] = make_tower("DNN", sequence_channels(features), "imputation_tower")

    def wire(embedded):
        outputs = essm_outputs(towers["ctr"](embedded), towers["cvr"](embedded))
        if "imputation" in towers:
            outputs["imputed_error"] = ops.softplus(towers["imputation"](embedded))
        return outputs
    return list(towers.values()), wire
