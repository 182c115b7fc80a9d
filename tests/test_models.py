"""The registry's models on a small generated dataset: they learn from the history, score it in
inference as they were trained, ignore padding, keep ESSM's structure, carry DIEN's auxiliary loss
and survive a weights round trip."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import log_loss, roc_auc_score

from errors import PipelineError
from models import model_spec, registry
from models.model_spec import MODEL_NAMES
from models.registry import TOWERS, build_model
from tests.model_fixtures import feature_inputs, make_arrays, make_item2vec, make_meta, repad, small_settings
from training.loop import baselines

MAX_LEN = 12
TRAIN_SIZE, TEST_SIZE, BATCH, STEPS = 3072, 2048, 256, 120
SINGLE = list(TOWERS)  # the neural single models (RULE and GBDT are not built by the registry)
# every tower once as CTR tower and once as CVR tower
PAIRS = [(ctr, SINGLE[(i + 1) % len(SINGLE)]) for i, ctr in enumerate(SINGLE)]
ESSM_DEFAULT = ("DIEN", "GRU_DNN")
# Learning from the history: one pass over fresh samples (no memorising), buys as rare as a few
# percent and histories of item2vec-scaled embeddings, where an inference path that differs from
# the training path (stale BatchNormalization statistics) shows in the log loss.
HISTORY_LEN, HISTORY_STEPS, HISTORY_TEST_SIZE, BUY_SCALE = 24, 80, 4096, 0.25


@pytest.fixture(scope="module")
def meta():
    return make_meta(MAX_LEN)


@pytest.fixture(scope="module")
def train_arrays():
    return make_arrays(TRAIN_SIZE, MAX_LEN, seed=1)


@pytest.fixture(scope="module")
def test_arrays():
    return make_arrays(TEST_SIZE, MAX_LEN, seed=2)


def build(meta, model, towers=ESSM_DEFAULT, seed=4, item2vec=None, **settings):
    keras.utils.set_random_seed(seed)
    cfg = small_settings(model=model, ctr_model=towers[0], cvr_model=towers[1], **settings)
    return build_model(cfg, meta, item2vec)


def predict(model, arrays, meta):
    """Inference-mode outputs as numpy (a direct call: cheaper than tracing `predict` for one batch)."""
    return {k: np.asarray(v) for k, v in model(feature_inputs(arrays, meta), training=False).items()}


def train(model, arrays, meta, steps=STEPS):
    """`steps` steps of Adam on plain binary cross-entropy (main, and ctr for ESSM), shuffled batches."""
    multi_task = len(model.output) == 3
    targets = {"main": arrays["label_buy"], **({"ctr": arrays["label_interact"]} if multi_task else {})}
    batches = (tf.data.Dataset.from_tensor_slices((feature_inputs(arrays, meta), targets))
               .shuffle(len(arrays["label_buy"]), seed=0).batch(BATCH, drop_remainder=True).repeat())
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss={name: keras.losses.BinaryCrossentropy() for name in targets})
    return model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)


def without_history(arrays):
    return {k: np.zeros_like(v) if k.startswith("hist_") else v for k, v in arrays.items()}


@pytest.fixture(scope="module")
def history_data():
    """(meta, train arrays of one pass, held-out arrays, item2vec table)."""
    train_arrays = make_arrays(HISTORY_STEPS * BATCH, HISTORY_LEN, seed=11, buy_scale=BUY_SCALE)
    held_out = make_arrays(HISTORY_TEST_SIZE, HISTORY_LEN, seed=12, buy_scale=BUY_SCALE)
    return make_meta(HISTORY_LEN), train_arrays, held_out, make_item2vec(8)


def held_out_scores(name, history_data, blind=False):
    """Held-out (AUC, log loss, log loss in training mode) after one pass (histories zeroed: blind).

    Training mode normalises with the batch's own statistics, as every training step does, so it
    is what the model learnt; inference uses the moving statistics instead."""
    meta, train_arrays, held_out, item2vec = history_data
    if blind:
        train_arrays, held_out = without_history(train_arrays), without_history(held_out)
    model = build(meta, name, item2vec=item2vec)
    train(model, train_arrays, meta, HISTORY_STEPS)
    labels = held_out["label_buy"]
    inference = predict(model, held_out, meta)["main"].astype(np.float64)
    as_trained = np.asarray(model(feature_inputs(held_out, meta), training=True)["main"], np.float64)
    return roc_auc_score(labels, inference), log_loss(labels, inference), log_loss(labels, as_trained)


@pytest.mark.parametrize("name", SINGLE)
def test_single_model_learns_from_the_history_and_infers_as_trained(name, history_data):
    _, train_arrays, held_out, _ = history_data
    base_loss = log_loss(held_out["label_buy"], np.full(HISTORY_TEST_SIZE, train_arrays["label_buy"].mean()))
    auc, loss, trained_loss = held_out_scores(name, history_data)
    assert loss < base_loss, f"{name}: inference log loss {loss:.4f}, predicting the base rate {base_loss:.4f}"
    assert loss < trained_loss + 0.006, f"{name}: inference log loss {loss:.4f}, {trained_loss:.4f} in training mode"
    blind_auc, _, _ = held_out_scores(name, history_data, blind=True)
    assert auc > blind_auc + 0.05, f"{name}: AUC {auc:.3f}, {blind_auc:.3f} with the histories zeroed"


@pytest.mark.parametrize("towers", PAIRS, ids=lambda pair: f"ctr={pair[0]}-cvr={pair[1]}")
def test_essm_learns_with_each_tower_in_each_role(towers, meta, train_arrays, test_arrays):
    model = build(meta, "ESSM", towers)
    train(model, train_arrays, meta)
    out = predict(model, test_arrays, meta)
    main_auc = roc_auc_score(test_arrays["label_buy"], out["main"])
    ctr_auc = roc_auc_score(test_arrays["label_interact"], out["ctr"])
    assert main_auc > 0.62 and ctr_auc > 0.62, f"{towers}: main AUC {main_auc:.3f}, CTR AUC {ctr_auc:.3f}"


def test_pairs_put_every_tower_in_both_roles():
    assert sorted(ctr for ctr, _ in PAIRS) == sorted(SINGLE) == sorted(cvr for _, cvr in PAIRS)
    assert all(ctr != cvr for ctr, cvr in PAIRS)


@pytest.mark.parametrize("name", SINGLE + ["ESSM"])
def test_outputs_ignore_front_padding(name, meta, test_arrays):
    # ESSM also with Dice and dropout in its MLPs (dropout is off at inference)
    settings = {"mlp_activation": "dice", "mlp_dropout": 0.2} if name == "ESSM" else {}
    model = build(meta, name, towers=("DeepFM", "DIEN") if name == "ESSM" else ESSM_DEFAULT, **settings)
    arrays = {k: v[:256].copy() for k, v in test_arrays.items()}
    for sequence in ("hist_item", "hist_cate", "hist_action"):
        arrays[sequence][:3] = 0  # users without history
    longest = int((arrays["hist_action"] != 0).sum(1).max())
    reference = predict(model, arrays, meta)
    assert all(np.all(np.isfinite(values)) for values in reference.values())
    for max_len in (longest, MAX_LEN + 9):
        out = predict(model, repad(arrays, max_len), meta)
        for key, values in out.items():
            np.testing.assert_allclose(values, reference[key], atol=2e-6, rtol=1e-5,
                                       err_msg=f"{name} {key} with sequences padded to {max_len}")


def test_output_structure_and_pctcvr_is_the_product(meta, test_arrays):
    single = predict(build(meta, "DIN"), test_arrays, meta)
    assert list(single) == ["main"] and single["main"].shape == (TEST_SIZE,) and single["main"].dtype == np.float32
    out = predict(build(meta, "ESMM", ("GRU_FM", "DIN")), test_arrays, meta)
    assert sorted(out) == ["ctr", "cvr", "main"]
    assert all(v.shape == (TEST_SIZE,) and v.dtype == np.float32 and np.all((v > 0) & (v < 1)) for v in out.values())
    np.testing.assert_allclose(out["main"], out["ctr"] * out["cvr"], rtol=1e-6)


def with_other_actions(arrays):
    changed = dict(arrays)
    real = arrays["hist_action"] != 0
    changed["hist_action"] = np.where(real, arrays["hist_action"] % 5 + 1, 0).astype(np.int32)
    return changed


@pytest.mark.parametrize("ctr", ["DIEN", "DeepFM", "GRU_FM"])
def test_essm_ctr_tower_is_blind_to_the_action_type_unless_told(ctr, meta, test_arrays):
    arrays = {k: v[:256] for k, v in test_arrays.items()}
    blind = build(meta, "ESSM", (ctr, "DIN"))
    before, after = predict(blind, arrays, meta), predict(blind, with_other_actions(arrays), meta)
    np.testing.assert_array_equal(before["ctr"], after["ctr"])
    assert np.abs(before["cvr"] - after["cvr"]).max() > 1e-4
    seeing = build(meta, "ESSM", (ctr, "DIN"), ctr_sees_action_type=True)
    before, after = predict(seeing, arrays, meta), predict(seeing, with_other_actions(arrays), meta)
    assert np.abs(before["ctr"] - after["ctr"]).max() > 1e-4


def auxiliary_losses(model, arrays, meta, batches=4):
    """Mean of model.losses over a few training-mode calls (each draws other negatives)."""
    values = []
    for start in range(0, batches * BATCH, BATCH):
        model({k: v[start:start + BATCH] for k, v in feature_inputs(arrays, meta).items()}, training=True)
        values.append([float(loss) for loss in model.losses])
    return np.mean(values, axis=0)


def test_dien_auxiliary_loss_is_present_and_falls(meta, train_arrays):
    model = build(meta, "DIEN", dien_aux_weight=0.5)
    before = auxiliary_losses(model, train_arrays, meta)
    assert before.shape == (1,) and before[0] == pytest.approx(0.5 * 2 * np.log(2), rel=0.05)  # chance
    model(feature_inputs({k: v[:BATCH] for k, v in train_arrays.items()}, meta), training=False)
    assert model.losses == []
    history = train(model, train_arrays, meta)
    after = auxiliary_losses(model, train_arrays, meta)
    assert after[0] < 0.8 * before[0], f"auxiliary loss {before[0]:.3f} -> {after[0]:.3f}"
    assert np.all(np.isfinite(history.history["loss"]))


def test_dien_towers_of_essm_each_add_their_loss_and_none_without_weight(meta, train_arrays):
    both = build(meta, "ESSM", ("DIEN", "DIEN"))
    assert auxiliary_losses(both, train_arrays, meta, batches=1).shape == (2,)
    silent = build(meta, "DIEN", dien_aux_weight=0.0)
    assert auxiliary_losses(silent, train_arrays, meta, batches=1).shape == (0,)
    assert not any("next_behaviour" in w.path for w in silent.weights)


@pytest.mark.parametrize("name,towers", [("ESSM", ("DIEN", "GRU_FM")), ("DeepFM", ESSM_DEFAULT)])
def test_weights_round_trip_gives_identical_predictions(name, towers, meta, test_arrays, tmp_path):
    model = build(meta, name, towers)
    rng = np.random.default_rng(0)
    for weight in model.weights:  # moved away from any initial value, moving statistics included
        if weight.dtype == "float32":
            weight.assign(weight + np.abs(rng.normal(0.0, 0.1, weight.shape)))
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    fresh = build(meta, name, towers, seed=99)
    fresh.load_weights(path)
    want, got = predict(model, test_arrays, meta), predict(fresh, test_arrays, meta)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])


def test_item2vec_initialises_the_shared_item_table(meta):
    item2vec = np.random.default_rng(1).normal(size=(meta["vocab_sizes"]["item"], 8)).astype(np.float32)
    model = build(meta, "ESSM", ("DIN", "GRU_DNN"), item2vec=item2vec)
    item_tables = [w for w in model.weights if w.path.endswith("item/embeddings")]
    assert len(item_tables) == 1
    np.testing.assert_array_equal(item_tables[0].numpy(), item2vec)
    with pytest.raises(PipelineError, match=r"item2vec: shape \(121, 4\), expected \(121, 8\)"):
        build(meta, "DIN", item2vec=item2vec[:, :4])


def test_unknown_names_get_the_list_of_valid_ones(meta):
    with pytest.raises(PipelineError, match="model='DeepCross'.*DIEN, DIN, DNN, DeepFM, GRU_DNN, GRU_FM, ESSM, "
                                            "SHARED_BOTTOM, MMOE, PLE, AITM, ESCM2, RULE, GBDT, LR \\(alias ESMM\\)$"):
        build(meta, "DeepCross")
    with pytest.raises(PipelineError, match="ctr_model='ESSM'.*valid: DIEN, DIN, DNN, DeepFM, GRU_DNN, GRU_FM$"):
        build(meta, "ESSM", ("ESSM", "DIN"))
    assert MODEL_NAMES == ("DIEN", "DIN", "DNN", "DeepFM", "GRU_DNN", "GRU_FM", "ESSM", "SHARED_BOTTOM", "MMOE", "PLE",
                           "AITM", "ESCM2", "RULE", "GBDT", "LR")
    assert set(TOWERS) == set(SINGLE)


def test_the_registry_builds_every_network_the_model_names_know():
    assert tuple(registry.TOWERS) == model_spec.TOWERS and tuple(registry.MULTI_TASK) == model_spec.MULTI_TASK
    assert tuple(baselines.BASELINE_CLASSES) == model_spec.BASELINES, "training/loop/baselines.py fits the others"


@pytest.mark.parametrize("settings,message", [
    ({"mlp_activation": "relu"}, "mlp_activation='relu': expected one of prelu, dice"),
    ({"attention_units": []}, r"attention_units=\[\]: expected a non-empty list"),
    ({"mlp_dropout": 1.0}, r"mlp_dropout=1.0: expected a number from 0 to below 1"),
    ({"gru_units": 0}, "gru_units=0: expected a positive whole number"),
])
def test_bad_model_settings_get_one_line_errors(settings, message, meta):
    with pytest.raises(PipelineError, match=message):
        build(meta, "DIN", **settings)


@pytest.mark.parametrize("change,message", [
    (lambda m: m["features"][0].update(kind="categorical"), r"features\[0\] \('item'\): kind 'categorical'"),
    (lambda m: m["vocab_sizes"].pop("brand"), r"\('brand'\): vocab 'brand' has no size"),
    (lambda m: m["features"][11].update(target="brand"), r"\('hist_item'\): target 'brand' is not a sparse feature "
                                                          "of vocab 'item'"),
    (lambda m: m.pop("target_action"), "no 'target_action'"),
    (lambda m: m.update(features=[f for f in m["features"] if f["kind"] != "sequence"]), "no sequence feature"),
])
def test_feature_description_errors_name_the_field(change, message):
    meta = make_meta(MAX_LEN)
    change(meta)
    with pytest.raises(PipelineError, match=message):
        build(meta, "DNN")


def test_models_build_from_any_history_length_and_action_codes(meta):
    model = build(meta, "ESSM", ("DIEN", "GRU_DNN"))
    assert all(model.input[name].shape == (None, None) for name in ("hist_item", "hist_cate", "hist_action"))
    assert model.get_layer("embedding").tables["action"].input_dim == meta["vocab_sizes"]["action"]
