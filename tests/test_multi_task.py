"""The multi-task family beside ESSM: its pieces against hand computations on hand-made inputs
(expert gate and mixing, PLE's gating, AITM's transfer unit, AITM's calibrator, ESCM²'s IPS and DR
regularisers), and every model built, briefly trained and scored through the task."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import configurator
from errors import PipelineError
from layers.attention_transfer import AttentionTransfer
from layers.expert_gate import ExpertGate
from layers.ple_extraction import ExtractionGates, ExtractionLayer
from models import model_spec, registry
from models.entire_space import entire_space_outputs
from tests.model_fixtures import feature_inputs, make_arrays, make_meta, small_settings
from training.loop.task import PurchaseTask, build_task

NEW_MODELS = ("SHARED_BOTTOM", "MMOE", "PLE", "AITM", "ESCM2")
BUY = np.array([1, 0, 0, 1, 0, 0], dtype="float32")
INTERACT = np.array([1, 1, 0, 1, 0, 1], dtype="float32")
P_CTR = np.array([0.9, 0.6, 0.2, 0.7, 0.01, 0.4], dtype="float32")
P_CVR = np.array([0.8, 0.3, 0.5, 0.6, 0.9, 0.2], dtype="float32")
IMPUTED = np.array([0.3, 0.1, 0.7, 0.2, 1.5, 0.4], dtype="float32")


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def bce(labels, probabilities):
    return -(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))


def set_dense(dense, kernel, bias=None):
    dense.set_weights([np.asarray(kernel, "float32")] + ([np.asarray(bias, "float32")] if dense.use_bias else []))


# ---------------------------------------------------------------- gates and mixing

GATE_INPUT = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]], dtype="float32")
GATE_KERNEL = np.array([[0.5, -1.0, 0.2], [1.0, 0.3, -0.4], [-0.7, 0.8, 0.1]], dtype="float32")
GATE_BIAS = np.array([0.1, 0.0, -0.2], dtype="float32")
EXPERTS = np.arange(2 * 3 * 2, dtype="float32").reshape(2, 3, 2) - 5.0  # [B=2, E=3, H=2]


def test_expert_gate_mixes_the_experts_by_a_softmax_of_the_sample():
    gate = ExpertGate(3)
    gate(GATE_INPUT, EXPERTS)
    set_dense(gate.scores, GATE_KERNEL, GATE_BIAS)
    weights = softmax(GATE_INPUT @ GATE_KERNEL + GATE_BIAS)
    expected = np.einsum("be,beh->bh", weights, EXPERTS)
    np.testing.assert_allclose(np.asarray(gate.weights_of(GATE_INPUT)), weights, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(gate(GATE_INPUT, EXPERTS)), expected, rtol=1e-5, atol=1e-6)


def test_extraction_gates_give_each_task_its_own_and_the_shared_experts():
    rng = np.random.default_rng(0)
    task_experts = [rng.normal(size=(2, 1, 2)).astype("float32") for _ in range(2)]
    shared = rng.normal(size=(2, 1, 2)).astype("float32")
    inputs = [rng.normal(size=(2, 3)).astype("float32") for _ in range(3)]
    gates = ExtractionGates(2, 1, 1, shared_output=True)
    gates(inputs, task_experts, shared)
    kernels = [rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 3))]
    for gate, kernel in zip([*gates.task_gates, gates.shared_gate], kernels):
        set_dense(gate.scores, kernel, np.zeros(kernel.shape[1]))
    outputs = [np.asarray(o) for o in gates(inputs, task_experts, shared)]
    for k in range(2):
        own = np.concatenate([task_experts[k], shared], axis=1)
        np.testing.assert_allclose(outputs[k], np.einsum("be,beh->bh", softmax(inputs[k] @ kernels[k]), own),
                                   rtol=1e-5, atol=1e-6)
    every = np.concatenate([*task_experts, shared], axis=1)
    np.testing.assert_allclose(outputs[2], np.einsum("be,beh->bh", softmax(inputs[2] @ kernels[2]), every),
                               rtol=1e-5, atol=1e-6)


def test_a_later_extraction_level_keeps_a_task_apart_from_the_other_task():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(4, 5)).astype("float32") for _ in range(3)]
    level = ExtractionLayer(2, 2, 1, [6], shared_output=False)
    before = [np.asarray(o) for o in level(inputs)]
    changed = [inputs[0], inputs[1] + 3.0, inputs[2]]
    after = [np.asarray(o) for o in level(changed)]
    assert len(before) == 2 and before[0].shape == (4, 6)
    np.testing.assert_allclose(after[0], before[0], rtol=1e-6)  # task 0 reads its own and the shared experts only
    assert np.abs(after[1] - before[1]).max() > 1e-3


# ---------------------------------------------------------------- AITM

def test_attention_transfer_unit_equals_a_hand_computation():
    rng = np.random.default_rng(2)
    previous, current = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    unit = AttentionTransfer()
    unit(previous, current)
    g, g_bias, h1, h2, h3 = (rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=(4, 4)),
                             rng.normal(size=(4, 4)), rng.normal(size=(4, 4)))
    set_dense(unit.transfer, g, g_bias)
    for dense, kernel in ((unit.h1, h1), (unit.h2, h2), (unit.h3, h3)):
        set_dense(dense, kernel)
    transferred = np.maximum(previous @ g + g_bias, 0.0)
    candidates = np.stack([transferred, current], axis=1)  # [B, 2, H]
    weights = softmax(np.sum((candidates @ h1) * (candidates @ h2), axis=-1) / 2.0)  # sqrt(H) = 2
    expected = np.einsum("bu,buh->bh", weights, candidates @ h3)
    np.testing.assert_allclose(np.asarray(unit(previous, current)), expected, rtol=1e-4, atol=1e-5)


def test_aitm_calibrator_penalises_purchase_above_interaction():
    main = np.array([0.5, 0.1, 0.3, 0.2, 0.0, 0.6], dtype="float32")
    task = PurchaseTask(None, multi_task=True, calibration_weight=0.6)
    terms = task.task_losses({"label_buy": BUY, "label_interact": INTERACT},
                             {"main": main, "ctr": P_CTR, "cvr": P_CVR})
    assert float(terms["calibration_loss"]) == pytest.approx(np.mean(np.maximum(main - P_CTR, 0)), rel=1e-5)
    total = float(task.compute_loss(y={"label_buy": BUY, "label_interact": INTERACT},
                                    y_pred={"main": main, "ctr": P_CTR, "cvr": P_CVR}))
    without = float(PurchaseTask(None, multi_task=True).compute_loss(
        y={"label_buy": BUY, "label_interact": INTERACT}, y_pred={"main": main, "ctr": P_CTR, "cvr": P_CVR}))
    assert total - without == pytest.approx(0.6 * float(terms["calibration_loss"]), rel=1e-4)


def test_entire_space_outputs_imply_the_conditional_cvr():
    ctr_logit, buy_logit = np.array([0.0, -3.0, 2.0], "float32"), np.array([-2.0, 1.0, -5.0], "float32")
    outputs = {k: np.asarray(v) for k, v in entire_space_outputs(ctr_logit, buy_logit).items()}
    sigmoid = 1 / (1 + np.exp(-np.array([ctr_logit, buy_logit])))
    np.testing.assert_allclose(outputs["ctr"], sigmoid[0], rtol=1e-6)
    np.testing.assert_allclose(outputs["main"], sigmoid[1], rtol=1e-6)
    np.testing.assert_allclose(outputs["cvr"], np.minimum(sigmoid[1] / sigmoid[0], 1.0), rtol=1e-5)


# ---------------------------------------------------------------- ESCM²

def escm2_terms(variant, floor=0.05):
    task = PurchaseTask(None, multi_task=True, counterfactual=variant, counterfactual_weight=0.5,
                        propensity_floor=floor)
    y_pred = {"main": P_CTR * P_CVR, "ctr": P_CTR, "cvr": P_CVR, "imputed_error": IMPUTED}
    return task, {"label_buy": BUY, "label_interact": INTERACT}, y_pred


def test_escm2_ips_regulariser_weights_the_interacted_errors_by_inverse_propensity():
    task, y, y_pred = escm2_terms("ips")
    propensity = np.maximum(P_CTR, 0.05)  # the fifth sample's 0.01 held at the floor
    expected = np.mean(INTERACT * bce(BUY, P_CVR) / propensity)
    assert float(task.task_losses(y, y_pred)["counterfactual_loss"]) == pytest.approx(expected, rel=1e-5)
    plain = PurchaseTask(None, multi_task=True)
    difference = float(task.compute_loss(y=y, y_pred=y_pred)) - float(plain.compute_loss(y=y, y_pred=y_pred))
    assert difference == pytest.approx(0.5 * expected, rel=1e-4)


def test_escm2_dr_regulariser_and_imputation_loss_equal_a_hand_computation():
    task, y, y_pred = escm2_terms("dr", floor=0.1)
    propensity = np.maximum(P_CTR, 0.1)
    error = bce(BUY, P_CVR)
    terms = task.task_losses(y, y_pred)
    assert float(terms["counterfactual_loss"]) == pytest.approx(
        np.mean(IMPUTED + INTERACT * (error - IMPUTED) / propensity), rel=1e-5)
    assert float(terms["imputation_loss"]) == pytest.approx(
        np.mean(INTERACT * (error - IMPUTED) ** 2 / propensity), rel=1e-5)


def test_escm2_propensity_and_imputation_carry_no_gradient_into_the_regulariser():
    task, y, y_pred = escm2_terms("dr")
    tensors = {k: tf.Variable(v) for k, v in y_pred.items()}
    with tf.GradientTape(persistent=True) as tape:
        terms = task.task_losses(y, tensors)
    for name in ("ctr", "imputed_error"):
        gradient = tape.gradient(terms["counterfactual_loss"], tensors[name])
        assert gradient is None or not np.any(np.asarray(gradient))
    assert np.any(np.asarray(tape.gradient(terms["counterfactual_loss"], tensors["cvr"])))
    assert np.any(np.asarray(tape.gradient(terms["imputation_loss"], tensors["imputed_error"])))
    assert tape.gradient(terms["imputation_loss"], tensors["cvr"]) is None


# ---------------------------------------------------------------- the models

@pytest.fixture(scope="module")
def meta():
    return make_meta(10)


@pytest.fixture(scope="module")
def arrays():
    return make_arrays(2048, 10, seed=3)


# cheap bodies keep the test fast; GRU_DNN and DIN are each used once
SETTINGS = {"SHARED_BOTTOM": {"expert_model": "GRU_DNN"}, "MMOE": {"expert_model": "DNN", "num_experts": 3},
            "PLE": {"expert_model": "DNN", "ple_levels": 2}, "AITM": {"expert_model": "DIN"},
            "ESCM2": {"ctr_model": "DNN", "cvr_model": "DNN"}}


@pytest.mark.parametrize("name,variant", [(m, "dr") for m in NEW_MODELS] + [("ESCM2", "ips")])
def test_each_model_trains_to_finite_varied_probabilities_with_three_outputs(name, variant, meta, arrays):
    keras.utils.set_random_seed(5)
    cfg = small_settings(model=name, escm2_variant=variant, mlp_units=[16], task_tower_units=[8],
                         **SETTINGS[name])
    assert cfg.model_spec.multi_task
    task = build_task(cfg, meta, None, 8)
    batches = tf.data.Dataset.from_tensor_slices(
        (feature_inputs(arrays, meta), {"label_buy": arrays["label_buy"], "label_interact": arrays["label_interact"]})
    ).batch(256)
    history = task.fit(batches, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][-1] < history.history["loss"][0]
    outputs = {k: np.asarray(v) for k, v in task.net(feature_inputs(arrays, meta), training=False).items()}
    assert {"main", "ctr", "cvr"} <= set(outputs)
    for key in ("main", "ctr", "cvr"):
        assert np.isfinite(outputs[key]).all() and (outputs[key] >= 0).all() and (outputs[key] <= 1).all()
        assert outputs[key].std() > 1e-4, key
    assert ("imputed_error" in outputs) == (name == "ESCM2" and variant == "dr")


def test_the_registry_names_and_checks_the_new_models():
    assert set(NEW_MODELS) <= set(model_spec.MODEL_NAMES) and set(NEW_MODELS) <= set(registry.MULTI_TASK)
    assert small_settings(model="MMOE", expert_model="DIN").model_spec.title == "MMOE(experts=DIN)"
    escm2 = small_settings(model="ESCM2", escm2_variant="ips").model_spec
    assert escm2.title == "ESCM2-IPS(ctr=DIEN, cvr=GRU_DNN)" and escm2.kind == "multi-task"
    assert small_settings(model="PLE").model_spec.towers == ("DNN", "DNN")
    with pytest.raises(PipelineError, match="expert_model='DeepFM'.*valid: DIEN, DIN, DNN, GRU_DNN$"):
        small_settings(model="MMOE", expert_model="DeepFM")
    with pytest.raises(PipelineError, match="expert_model='GRU_FM'.*valid: DIEN, DIN, DNN, GRU_DNN$"):
        small_settings(model="AITM", expert_model="GRU_FM")
    assert small_settings(model="ESCM2", cvr_model="GRU_FM").model_spec.towers == ("DIEN", "GRU_FM")


@pytest.mark.parametrize("setting,value,message", [
    ("escm2_variant", "snips", "expected one of ips, dr"), ("num_experts", 0, "positive whole number"),
    ("ple_levels", 65, "up to 64"), ("task_tower_units", [], "non-empty list"),
    ("propensity_floor", 0.0, "above 0"), ("aitm_calibration_weight", -1.0, "from 0")])
def test_bad_multi_task_settings_get_one_line_errors(setting, value, message):
    with pytest.raises(configurator.ConfigError, match=f"setting {setting}=.*{message}"):
        configurator.load([], **{setting: value})
