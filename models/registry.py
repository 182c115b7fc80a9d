"""Model name -> model, built from the settings and the processed data's feature description.

    model = build_model(cfg, meta, item2vec)       # keras.Model of cfg.model_spec (models/model_spec.py)
    probabilities = model(inputs)                   # inputs: {feature name: tensor}, as in meta.json

Every model returns a dict of probabilities, each [B] float32: {"main": p_buy} for a single model,
{"main": p_buy, "ctr": pCTR, "cvr": pCVR} for a multi-task model (ESSM: main is pCTCVR; ESCM²-DR
adds "imputed_error"), so training treats all of them alike. Losses a model adds itself (DIEN's
auxiliary loss, in training) are in `model.losses`; those that need the labels are the task's
(`task_losses`, training/loop/task.py).
"""
import keras
import numpy as np
from keras import ops

from errors import PipelineError
from layers.activations import ACTIVATIONS
from layers.feature_embedding import FeatureEmbedding
from models.aitm import aitm
from models.deepfm import DeepFMTower
from models.dien import DIENTower
from models.din import DINTower
from models.dnn import DNNTower
from models.escm2 import escm2
from models.essm import essm_outputs, essm_towers
from models.gru_dnn import GRUDNNTower
from models.gru_fm import GRUFMTower
from models.mmoe import mmoe
from models.ple import ple
from models.shared_bottom import shared_bottom
from preprocessing.processed_data import check_feature_description

# the networks of models/model_spec.py's names (tests/test_models.py checks both name the same models)
TOWERS = {"DIEN": DIENTower, "DIN": DINTower, "DNN": DNNTower, "DeepFM": DeepFMTower,
          "GRU_DNN": GRUDNNTower, "GRU_FM": GRUFMTower}


def _essm(cfg, features, make_tower, bodies):
    towers = essm_towers(features, *bodies, cfg.ctr_sees_action_type, make_tower)
    return list(towers.values()), lambda embedded: essm_outputs(towers["ctr"](embedded), towers["cvr"](embedded))


# name -> builder(cfg, features, make_tower, tower names) -> (towers, wire(embedded) -> outputs)
MULTI_TASK = {"ESSM": _essm, "SHARED_BOTTOM": shared_bottom, "MMOE": mmoe, "PLE": ple, "AITM": aitm,
              "ESCM2": escm2}


def task_regularisers(cfg):
    """The PurchaseTask settings of the losses a model's method adds: AITM's calibrator, ESCM²'s
    counterfactual regulariser; none for the others."""
    name = cfg.model_spec.name
    return {"calibration_weight": cfg.aitm_calibration_weight if name == "AITM" else 0.0,
            "counterfactual": cfg.escm2_variant if name == "ESCM2" else "",
            "counterfactual_weight": cfg.escm2_weight, "propensity_floor": cfg.propensity_floor}


def check_settings(cfg):
    """Raises a PipelineError for an activation the towers do not know (configurator checks every
    range; the activation's names live with the layers, which configurator does not import)."""
    if cfg.mlp_activation not in ACTIVATIONS:
        raise PipelineError(f"setting mlp_activation={cfg.mlp_activation!r}: expected one of {', '.join(ACTIVATIONS)}")


def model_inputs(meta):
    """{name: keras.Input} for every feature; sequences accept any length (front padding is masked)."""
    inputs = {}
    for feature in meta["features"]:
        name, kind = feature["name"], feature["kind"]
        if kind == "sparse":
            inputs[name] = keras.Input(shape=(), dtype="int32", name=name)
        elif kind == "sequence":
            inputs[name] = keras.Input(shape=(None,), dtype="int32", name=name)
        else:
            inputs[name] = keras.Input(shape=(feature["dim"],), dtype="float32", name=name)
    return inputs


def checked_item2vec(item2vec, meta, embed_dim):
    if item2vec is None:
        return None
    item2vec = np.asarray(item2vec, dtype=np.float32)
    expected = (meta["vocab_sizes"].get("item"), embed_dim)
    if item2vec.shape != expected:
        raise PipelineError(f"item2vec: shape {item2vec.shape}, expected {expected} (item vocabulary, embed_dim); "
                            "rebuild the processed data with this embed_dim")
    if not np.isfinite(item2vec).all():
        raise PipelineError("item2vec: contains NaN or infinite values; rebuild the processed data")
    return item2vec


def make_tower(name, cfg, sequences, tower_name, emit="logit"):
    """One tower of the registry over the given sequence channels, sized by the settings; emit="hidden"
    for its representation instead of its logit (models/tower.py)."""
    common = {"mlp_units": cfg.mlp_units, "mlp_activation": cfg.mlp_activation, "mlp_dropout": cfg.mlp_dropout,
              "wide": cfg.wide, "emit": emit, "name": tower_name}
    if name == "DIEN":
        return DIENTower(sequences, gru_units=cfg.dien_gru_units, augru_units=cfg.dien_augru_units,
                         attention_units=cfg.attention_units, aux_units=cfg.dien_aux_units,
                         aux_weight=cfg.dien_aux_weight, **common)
    if name == "DIN":
        return DINTower(sequences, attention_units=cfg.attention_units,
                        attention_softmax=cfg.attention_softmax, **common)
    if name in ("GRU_DNN", "GRU_FM"):
        return TOWERS[name](sequences, gru_units=cfg.gru_units, **common)
    return TOWERS[name](sequences, **common)


def build_model(cfg, meta, item2vec=None):
    """The model of cfg.model_spec (a multi-task model: of its towers) for this feature description,
    with the item embedding initialised from item2vec when given."""
    spec = cfg.model_spec
    if spec.baseline:
        raise PipelineError(f"setting model={cfg.model}: a baseline, not a neural network; "
                            "training.loop.baselines fits it")
    check_settings(cfg)
    check_feature_description(meta)
    all_channels = [f["name"] for f in meta["features"] if f["kind"] == "sequence"]
    name = spec.name
    if spec.multi_task:
        towers, wire = MULTI_TASK[name](
            cfg, meta["features"],
            lambda body, sequences, role, emit="logit": make_tower(body, cfg, sequences, role, emit), spec.towers)
    else:
        tower = make_tower(name, cfg, all_channels, "tower")
        towers, wire = [tower], lambda embedded: {"main": ops.sigmoid(tower(embedded))}
    first_order = {s for t in towers if t.needs_first_order for s in t.sequences}
    embedding = FeatureEmbedding(
        meta["features"], meta["vocab_sizes"], cfg.embed_dim, meta["target_action"],
        first_order=[s for s in all_channels if s in first_order],
        item2vec=checked_item2vec(item2vec, meta, cfg.embed_dim), sparse_above=cfg.sparse_update_above,
        l2=cfg.embed_l2, name="embedding")
    inputs = model_inputs(meta)
    outputs = wire(embedding(inputs))
    return keras.Model(inputs, outputs, name="_".join((name,) * spec.multi_task + spec.towers))
