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
from models.essm import ctr_channels, essm_outputs
from models.gru_dnn import GRUDNNTower
from models.gru_fm import GRUFMTower

TOWERS = {"DIEN": DIENTower, "DIN": DINTower, "DNN": DNNTower, "DeepFM": DeepFMTower,
          "GRU_DNN": GRUDNNTower, "GRU_FM": GRUFMTower}
MODEL_NAMES = (*TOWERS, "ESSM")
ALIASES = {"ESMM": "ESSM"}  # the paper's spelling
FEATURE_KINDS = ("sparse", "sequence", "dense")


def canonical_name(name, setting="model", allow_essm=True):
    """The registry name for `name` (aliases resolved); a PipelineError naming the valid ones otherwise."""
    name = ALIASES.get(name, name)
    valid = MODEL_NAMES if allow_essm else tuple(TOWERS)
    if name not in valid:
        listed = ", ".join(valid) + (" (alias ESMM)" if allow_essm else "")
        raise PipelineError(f"setting {setting}={name!r}: unknown model; valid: {listed}")
    return name


def check_meta(meta):
    """Raises a PipelineError naming the first field of meta.json's feature description that the models
    cannot be built from."""
    for key in ("features", "vocab_sizes", "target_action"):
        if key not in meta:
            raise PipelineError(f"meta.json: no {key!r}; rebuild the processed data (sh scr/pre_processing.sh)")
    features = meta["features"]
    names = [f.get("name") for f in features]
    sparse = {f.get("name"): f.get("vocab") for f in features if f.get("kind") == "sparse"}
    for i, feature in enumerate(features):
        where = f"meta.json features[{i}] ({feature.get('name')!r})"
        kind = feature.get("kind")
        if kind not in FEATURE_KINDS:
            raise PipelineError(f"{where}: kind {kind!r}, expected one of {', '.join(FEATURE_KINDS)}")
        if names.count(feature.get("name")) > 1:
            raise PipelineError(f"{where}: the name appears more than once")
        if kind == "dense":
            if not isinstance(feature.get("dim"), int) or feature["dim"] < 1:
                raise PipelineError(f"{where}: dim {feature.get('dim')!r}, expected a positive int")
            continue
        size = meta["vocab_sizes"].get(feature.get("vocab"))
        if not isinstance(size, int) or size < 2:
            raise PipelineError(f"{where}: vocab {feature.get('vocab')!r} has no size >= 2 in vocab_sizes")
        target = feature.get("target") if kind == "sequence" else None
        if target is not None and sparse.get(target) != feature["vocab"]:
            raise PipelineError(f"{where}: target {target!r} is not a sparse feature of vocab {feature['vocab']!r}; "
                                "a sequence and its target share one embedding table")
    if not any(f["kind"] == "sequence" for f in features):
        raise PipelineError("meta.json features: no sequence feature; every model reads the behaviour history")


def check_settings(cfg):
    """Raises a PipelineError naming the first model setting the towers cannot be built with."""
    if cfg.mlp_activation not in ACTIVATIONS:
        raise PipelineError(f"setting mlp_activation={cfg.mlp_activation!r}: expected one of {', '.join(ACTIVATIONS)}")
    if not 0.0 <= cfg.mlp_dropout < 1.0:
        raise PipelineError(f"setting mlp_dropout={cfg.mlp_dropout!r}: expected a rate in [0, 1)")
    for key in ("mlp_units", "attention_units", "dien_aux_units"):
        units = getattr(cfg, key)
        if not units or any(u < 1 for u in units):
            raise PipelineError(f"setting {key}={units!r}: expected a non-empty list of positive sizes")
    for key in ("embed_dim", "dien_gru_units", "dien_augru_units", "gru_units"):
        if getattr(cfg, key) < 1:
            raise PipelineError(f"setting {key}={getattr(cfg, key)!r}: expected a positive size")


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
              "name": tower_name}
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
    name = canonical_name(cfg.model)
    check_settings(cfg)
    check_meta(meta)
    all_channels = [f["name"] for f in meta["features"] if f["kind"] == "sequence"]
    if name == "ESSM":
        ctr_sequences = ctr_channels(meta["features"], cfg.ctr_sees_action_type)
        if not ctr_sequences:
            raise PipelineError("setting ctr_sees_action_type=False: the CTR tower would see no sequence channel")
        ctr_name = canonical_name(cfg.ctr_model, "ctr_model", allow_essm=False)
        cvr_name = canonical_name(cfg.cvr_model, "cvr_model", allow_essm=False)
        towers = {"ctr": make_tower(ctr_name, cfg, ctr_sequences, "ctr_tower"),
                  "cvr": make_tower(cvr_name, cfg, all_channels, "cvr_tower")}
        title = f"ESSM_{ctr_name}_{cvr_name}"
    else:
        towers = {"main": make_tower(name, cfg, all_channels, "tower")}
        title = name
    first_order = {s for t in towers.values() if t.needs_first_order for s in t.sequences}
    embedding = FeatureEmbedding(
        meta["features"], meta["vocab_sizes"], cfg.embed_dim, meta["target_action"],
        first_order=[s for s in all_channels if s in first_order],
        item2vec=checked_item2vec(item2vec, meta, cfg.embed_dim), name="embedding")
    inputs = model_inputs(meta)
    embedded = embedding(inputs)
    logits = {role: tower(embedded) for role, tower in towers.items()}
    if name == "ESSM":
        outputs = essm_outputs(logits["ctr"], logits["cvr"])
    else:
        outputs = {"main": ops.sigmoid(logits["main"])}
    return keras.Model(inputs, outputs, name=title)
