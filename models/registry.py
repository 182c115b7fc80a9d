"""Model name -> model, built from the settings and the processed data's feature description.

    model = build_model(cfg, meta, item2vec)       # keras.Model
    probabilities = model(inputs)                   # inputs: {feature name: tensor}, as in meta.json

Every model returns a dict of probabilities, each [B] float32: {"main": p_buy} for a single model,
{"main": pCTCVR, "ctr": pCTR, "cvr": pCVR} for ESSM, so training treats all of them alike.
Losses a model adds itself (DIEN's auxiliary loss, in training) are in `model.losses`.
"""
import keras
import numpy as np
from keras import ops

from errors import PipelineError
from layers.activations import ACTIVATIONS
from layers.feature_embedding import FeatureEmbedding
from models.deepfm import DeepFMTower
from models.dien import DIENTower
from models.din import DINTower
from models.dnn import DNNTower
from models.essm import essm_outputs, essm_towers
from models.gru_dnn import GRUDNNTower
from models.gru_fm import GRUFMTower
from preprocessing.processed_data import check_feature_description

TOWERS = {"DIEN": DIENTower, "DIN": DINTower, "DNN": DNNTower, "DeepFM": DeepFMTower,
          "GRU_DNN": GRUDNNTower, "GRU_FM": GRUFMTower}
BASELINES = ("RULE", "GBDT", "LR")  # not neural networks: fitted and scored by training.baselines
MODEL_NAMES = (*TOWERS, "ESSM", *BASELINES)
ALIASES = {"ESMM": "ESSM"}  # the paper's spelling


def canonical_name(name, setting="model", allow_essm=True):
    """The registry name for `name` (aliases resolved); a PipelineError naming the valid ones otherwise."""
    name = ALIASES.get(name, name)
    valid = MODEL_NAMES if allow_essm else tuple(TOWERS)
    if name not in valid:
        listed = ", ".join(valid) + (" (alias ESMM)" if allow_essm else "")
        raise PipelineError(f"setting {setting}={name!r}: unknown model; valid: {listed}")
    return name


def is_multi_task(cfg):
    """True when cfg.model is ESSM: two towers, three outputs and three losses."""
    return canonical_name(cfg.model) == "ESSM"


def is_baseline(cfg):
    return canonical_name(cfg.model) in BASELINES


def tower_names(cfg):
    """The registry towers cfg.model is made of: (ctr, cvr) for ESSM, (model,) otherwise, () for a baseline."""
    if is_multi_task(cfg):
        return (canonical_name(cfg.ctr_model, "ctr_model", allow_essm=False),
                canonical_name(cfg.cvr_model, "cvr_model", allow_essm=False))
    return () if is_baseline(cfg) else (canonical_name(cfg.model),)


def title(cfg):
    """How runs name the model: ESSM(ctr=DIEN, cvr=GRU_DNN), or the model's name."""
    if is_multi_task(cfg):
        ctr, cvr = tower_names(cfg)
        return f"ESSM(ctr={ctr}, cvr={cvr})"
    return canonical_name(cfg.model)


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


def make_tower(name, cfg, sequences, tower_name):
    """One tower of the registry over the given sequence channels, sized by the settings."""
    common = {"mlp_units": cfg.mlp_units, "mlp_activation": cfg.mlp_activation, "mlp_dropout": cfg.mlp_dropout,
              "wide": cfg.wide, "name": tower_name}
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
    """The model `cfg.model` (ESSM: with towers cfg.ctr_model and cfg.cvr_model) for this feature
    description, with the item embedding initialised from item2vec when given."""
    if is_baseline(cfg):
        raise PipelineError(f"setting model={cfg.model}: a baseline, not a neural network; "
                            "training.baselines fits it")
    check_settings(cfg)
    check_feature_description(meta)
    all_channels = [f["name"] for f in meta["features"] if f["kind"] == "sequence"]
    if is_multi_task(cfg):
        towers = essm_towers(meta["features"], *tower_names(cfg), cfg.ctr_sees_action_type,
                             lambda name, sequences, role: make_tower(name, cfg, sequences, role))
    else:
        towers = {"main": make_tower(canonical_name(cfg.model), cfg, all_channels, "tower")}
    first_order = {s for t in towers.values() if t.needs_first_order for s in t.sequences}
    embedding = FeatureEmbedding(
        meta["features"], meta["vocab_sizes"], cfg.embed_dim, meta["target_action"],
        first_order=[s for s in all_channels if s in first_order],
        item2vec=checked_item2vec(item2vec, meta, cfg.embed_dim), sparse_above=cfg.sparse_update_above,
        l2=cfg.embed_l2, name="embedding")
    inputs = model_inputs(meta)
    embedded = embedding(inputs)
    logits = {role: tower(embedded) for role, tower in towers.items()}
    if is_multi_task(cfg):
        outputs = essm_outputs(logits["ctr"], logits["cvr"])
    else:
        outputs = {"main": ops.sigmoid(logits["main"])}
    return keras.Model(inputs, outputs, name="_".join(("ESSM",) * is_multi_task(cfg) + tower_names(cfg)))
