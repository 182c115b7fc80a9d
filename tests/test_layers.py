"""The reusable layers: each against a plain reference computation on small seeded inputs."""
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.activations import Dice, activation_layer
from layers.augru import AUGRU, AUGRUCell
from layers.din_attention import DINAttention
from layers.feature_embedding import FeatureEmbedding
from layers.fm import FM
from layers.gru_scan import gru_scan
from layers.masked_gru import MaskedGRU
from layers.mlp import MLP
from layers.next_behaviour_loss import NextBehaviourLoss
from layers.sequence_pooling import masked_mean
from tests.model_fixtures import feature_inputs, make_arrays, make_meta

B, T, D, H = 6, 9, 5, 4
LENGTHS = np.array([0, 1, 3, 9, 5, 7])  # one empty history, one full


@pytest.fixture
def rng():
    keras.utils.set_random_seed(3)
    return np.random.default_rng(3)


def front_mask(lengths=LENGTHS, steps=T):
    return np.arange(steps)[None, :] >= (steps - lengths)[:, None]


def value_and_grads(fn, watched, variables):
    with tf.GradientTape() as tape:
        tape.watch(watched)
        out = fn()
        loss = tf.reduce_sum(out * tf.linspace(-1.0, 1.0, out.shape[-1]))
    return out, tape.gradient(loss, list(watched) + list(variables))


def assert_all_close(got, want, atol=1e-5):
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=atol, rtol=1e-5)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_masked_gru_equals_keras_gru_with_mask(rng, return_sequences):
    x = tf.constant(rng.normal(size=(B, T, D)), tf.float32)
    mask = front_mask()
    ours = MaskedGRU(H, return_sequences=return_sequences)
    ours(x, mask)
    ours.bias.assign(rng.normal(size=(2, 3 * H)))  # non-zero biases, so every gate term is checked
    reference = keras.layers.GRU(H, return_sequences=return_sequences)
    reference(x, mask=mask)
    reference.set_weights(ours.get_weights())
    got = value_and_grads(lambda: ours(x, mask), [x], ours.trainable_variables)
    want = value_and_grads(lambda: reference(x, mask=mask), [x], reference.trainable_variables)
    assert_all_close([got[0]] + got[1], [want[0]] + want[1])


def test_masked_gru_keeps_zero_state_through_front_padding(rng):
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    states = MaskedGRU(H, return_sequences=True)(x, front_mask()).numpy()
    assert np.all(states[~front_mask()] == 0.0)
    assert np.all(np.abs(states[front_mask()]).sum(-1) > 0)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_augru_equals_keras_rnn_of_its_cell(rng, return_sequences):
    x = tf.constant(rng.normal(size=(B, T, D)), tf.float32)
    scores = tf.constant(rng.uniform(size=(B, T)), tf.float32)
    mask = front_mask()
    ours = AUGRU(H, return_sequences=return_sequences)
    ours(x, scores, mask)
    ours.cell.bias.assign(rng.normal(size=(2, 3 * H)))
    reference = keras.layers.RNN(AUGRUCell(H), return_sequences=return_sequences)
    with_scores = lambda: tf.concat([x, scores[..., None]], axis=-1)  # noqa: E731
    reference(with_scores(), mask=mask)
    reference.set_weights(ours.get_weights())
    got = value_and_grads(lambda: ours(x, scores, mask), [x, scores], ours.trainable_variables)
    want = value_and_grads(lambda: reference(with_scores(), mask=mask), [x, scores], reference.trainable_variables)
    assert_all_close([got[0]] + got[1], [want[0]] + want[1])


def test_augru_with_unit_scores_is_the_gru_and_zero_scores_freeze_it(rng):
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    mask = front_mask()
    augru = AUGRU(H)
    augru(x, np.ones((B, T), np.float32), mask)
    gru = MaskedGRU(H)
    gru(x, mask)
    gru.set_weights(augru.get_weights())
    np.testing.assert_allclose(augru(x, np.ones((B, T), np.float32), mask), gru(x, mask), atol=1e-6)
    assert np.all(augru(x, np.zeros((B, T), np.float32), mask).numpy() == 0.0)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_gru_scan_under_xla_matches_graph(rng, return_sequences):
    inputs = tf.constant(rng.normal(size=(B, T, D)), tf.float32)
    kernel = tf.constant(rng.normal(size=(D, 3 * H)) * 0.5, tf.float32)
    bias = tf.constant(rng.normal(size=(2, 3 * H)), tf.float32)
    recurrent_kernel = tf.constant(rng.normal(size=(H, 3 * H)) * 0.5, tf.float32)
    scale = tf.constant(rng.uniform(size=(B, T)) * front_mask(), tf.float32)

    def run():
        watched = [inputs, kernel, bias, recurrent_kernel, scale]
        return value_and_grads(lambda: gru_scan(*watched, return_sequences=return_sequences), watched, [])

    graph, xla = tf.function(run)(), tf.function(run, jit_compile=True)()
    assert_all_close([graph[0]] + graph[1], [xla[0]] + xla[1])


def naive_attention_logits(layer, query, keys):
    """The DIN unit as written in the paper: an MLP over [q, k, q - k, q * k]."""
    q = np.broadcast_to(query[:, None, :], keys.shape)
    hidden = keras.activations.sigmoid(np.concatenate([q, keys, q - keys, q * keys], -1) @ layer.kernel + layer.bias)
    for dense in layer.hidden:
        hidden = dense(hidden)
    return layer.score(hidden)[..., 0].numpy()


@pytest.mark.parametrize("softmax", [False, True])
def test_din_attention_equals_the_concatenated_form_and_masks_padding(rng, softmax):
    query = rng.normal(size=(B, D)).astype(np.float32)
    keys = rng.normal(size=(B, T, D)).astype(np.float32)
    mask = front_mask()
    pooled = DINAttention([7, 3], softmax=softmax)
    out = pooled(query, keys, mask).numpy()
    weights = DINAttention([7, 3], softmax=softmax, return_weights=True)
    weights(query, keys, mask)
    weights.set_weights(pooled.get_weights())
    got = weights(query, keys, mask).numpy()
    logits = naive_attention_logits(pooled, query, keys)
    if softmax:
        exp = np.exp(logits - logits.max(1, keepdims=True)) * mask
        want = exp / np.maximum(exp.sum(1, keepdims=True), 1e-30)
        np.testing.assert_allclose(got.sum(1), (LENGTHS > 0).astype(np.float32), atol=1e-6)
    else:
        want = logits * mask
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.all(got[~mask] == 0.0) and np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np.einsum("bt,btd->bd", want, keys), atol=1e-5)


def test_fm_equals_the_sum_over_pairs(rng):
    fields = rng.normal(size=(B, 4, D)).astype(np.float32)
    first = rng.normal(size=(B, 3)).astype(np.float32)
    pairs = sum((fields[:, i] * fields[:, j]).sum(-1) for i, j in itertools.combinations(range(4), 2))
    np.testing.assert_allclose(FM()(fields), pairs, atol=1e-5)
    np.testing.assert_allclose(FM()(fields, first), pairs + first.sum(-1), atol=1e-5)


def test_dice_follows_its_formula_with_batch_then_moving_statistics(rng):
    x = rng.normal(2.0, 3.0, size=(64, D)).astype(np.float32)
    dice = Dice()
    dice(x)
    dice.alpha.assign(np.linspace(-0.5, 0.5, D))
    standardised = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-9)
    p = 1 / (1 + np.exp(-standardised))
    want = p * x + (1 - p) * dice.alpha.numpy() * x
    np.testing.assert_allclose(dice(x, training=True), want, atol=1e-4)
    # inference standardises with the moving statistics instead
    moving = (x - dice.norm.moving_mean.numpy()) / np.sqrt(dice.norm.moving_variance.numpy() + 1e-9)
    p_inference = 1 / (1 + np.exp(-moving))
    np.testing.assert_allclose(dice(x, training=False), p_inference * x + (1 - p_inference) * dice.alpha * x,
                               atol=1e-4)


def test_activation_layer_kinds():
    assert isinstance(activation_layer("prelu"), keras.layers.PReLU)
    assert isinstance(activation_layer("dice"), Dice)
    with pytest.raises(ValueError, match="prelu, dice"):
        activation_layer("relu6")


def test_mlp_block_order_and_dropout_only_in_training(rng):
    x = rng.normal(size=(32, D)).astype(np.float32)
    mlp = MLP([8, 3], activation="prelu", dropout=0.5)
    assert mlp(x).shape == (32, 3)
    kinds = [type(layer).__name__ for block in mlp.blocks for layer in block]
    assert kinds == ["Dense", "BatchNormalization", "PReLU", "Dropout"] * 2
    np.testing.assert_array_equal(mlp(x, training=False), mlp(x, training=False))
    assert not np.allclose(mlp(x, training=True), mlp(x, training=True))


def test_masked_mean_ignores_padding_and_empty_histories_give_zeros(rng):
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    mask = front_mask()
    got = masked_mean(x, mask).numpy()
    for row, length in enumerate(LENGTHS):
        want = x[row, T - length:].mean(0) if length else np.zeros(D)
        np.testing.assert_allclose(got[row], want, atol=1e-6)


def test_feature_embedding_shares_tables_and_pairs_queries():
    meta = make_meta(max_len=10)
    arrays = make_arrays(16, max_len=10, seed=5)
    item2vec = np.random.default_rng(0).normal(size=(meta["vocab_sizes"]["item"], 8)).astype(np.float32)
    embedding = FeatureEmbedding(meta["features"], meta["vocab_sizes"], 8, meta["target_action"],
                                 first_order=["hist_item"], item2vec=item2vec)
    out = embedding(feature_inputs(arrays, meta))
    assert set(embedding.tables) == set(meta["vocab_sizes"])
    np.testing.assert_array_equal(embedding.tables["item"].embeddings.numpy(), item2vec)
    np.testing.assert_array_equal(out["query"]["hist_item"], item2vec[arrays["item"]])
    np.testing.assert_array_equal(out["sequence"]["hist_item"], item2vec[arrays["hist_item"]])
    cate_table = embedding.tables["cate"].embeddings.numpy()
    np.testing.assert_array_equal(out["query"]["hist_cate"], cate_table[arrays["cate"]])
    action_table = embedding.tables["action"].embeddings.numpy()
    np.testing.assert_array_equal(out["query"]["hist_action"], np.tile(action_table[2], (16, 1)))
    np.testing.assert_array_equal(out["present"]["hist_action"], arrays["hist_action"] != 0)
    assert set(out["side"]) == {"brand", "shop", "vendor", "age", "sex", "user_level", "province", "city", "county"}
    np.testing.assert_array_equal(out["dense"], arrays["dense"])
    assert set(out["sequence_first"]) == {"hist_item"} and out["sequence_first"]["hist_item"].shape == (16, 10)
    assert "cate" not in embedding.first_order_tables


def test_next_behaviour_loss_ignores_padding_and_learns_a_predictable_sequence(rng):
    steps, width = 12, 4
    lengths = rng.integers(2, steps + 1, 64)
    mask = front_mask(lengths, steps)
    loss = NextBehaviourLoss([8], seed=7)
    states = rng.normal(size=(64, steps, width)).astype(np.float32)
    behaviours = rng.normal(size=(64, steps, width)).astype(np.float32)
    first = loss(states, behaviours, mask)
    noisy = behaviours + (~mask)[..., None] * rng.normal(size=behaviours.shape).astype(np.float32)
    loss.seed_generator.state.assign(keras.random.SeedGenerator(7).state)  # the same negatives again
    assert float(loss(states, noisy, mask)) == pytest.approx(float(first), abs=1e-6)
    assert 0.5 < float(first) < 3.0
    # a state that announces the next behaviour can be learned: the loss falls well below chance
    announced = np.roll(behaviours, -1, axis=1)
    optimizer = keras.optimizers.Adam(0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(announced, behaviours, mask)
        optimizer.apply(tape.gradient(value, loss.trainable_variables), loss.trainable_variables)
        return value

    values = [float(step()) for _ in range(150)]
    assert values[-1] < 0.5 * values[0] and values[0] == pytest.approx(2 * np.log(2), rel=0.2)


def test_next_behaviour_loss_never_takes_the_positive_as_a_negative(rng):
    steps, width = 6, 4
    mask = np.ones((8, steps), dtype=bool)
    loss = NextBehaviourLoss([8], seed=3)
    states = rng.normal(size=(8, steps, width)).astype(np.float32)
    everyone_alike = np.repeat(rng.normal(size=(1, steps, width)).astype(np.float32), 8, axis=0)
    value = float(loss(states, everyone_alike, mask))
    positive = np.asarray(loss._logits(np.roll(states, 1, axis=1) @ np.asarray(loss.state_kernel)
                                       + np.asarray(loss.bias) + everyone_alike @ np.asarray(loss.behaviour_kernel)))
    only_positives = 2.0 * np.mean(np.logaddexp(0.0, -positive)[:, 1:])
    assert value == pytest.approx(only_positives, rel=1e-5), "every negative equals its positive: none counts"


@pytest.mark.parametrize("layer", [
    MaskedGRU(3, return_sequences=True), AUGRU(3), AUGRUCell(3), DINAttention([4, 2], softmax=True),
    FM(), Dice(epsilon=1e-6), MLP([4, 2], activation="dice", dropout=0.1), NextBehaviourLoss([5, 3], seed=1),
    FeatureEmbedding(make_meta()["features"], make_meta()["vocab_sizes"], 4, 2, first_order=["hist_cate"]),
], ids=lambda layer: type(layer).__name__)
def test_get_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_feature_embedding_gradients_are_dense_sums_over_every_use():
    meta = make_meta(max_len=10)
    arrays = make_arrays(16, max_len=10, seed=6)
    embedding = FeatureEmbedding(meta["features"], meta["vocab_sizes"], 4, meta["target_action"])
    inputs = feature_inputs(arrays, meta)
    embedding(inputs)
    table = embedding.tables["item"].embeddings
    weights = tf.constant(np.random.default_rng(1).normal(size=(16, 10, 4)), tf.float32)
    with tf.GradientTape() as tape:
        out = embedding(inputs)
        loss = tf.reduce_sum(out["sequence"]["hist_item"] * weights) + 3.0 * tf.reduce_sum(out["query"]["hist_item"])
    got = tape.gradient(loss, table)
    assert isinstance(got, tf.Tensor)
    want = np.zeros(table.shape, np.float32)
    np.add.at(want, arrays["hist_item"].ravel(), weights.numpy().reshape(-1, 4))
    np.add.at(want, arrays["item"], 3.0)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_tables_above_sparse_above_get_sparse_gradients_with_the_same_sums():
    meta = make_meta(max_len=10)
    arrays = make_arrays(16, max_len=10, seed=6)
    embedding = FeatureEmbedding(meta["features"], meta["vocab_sizes"], 4, meta["target_action"],
                                 sparse_above=meta["vocab_sizes"]["cate"])  # the item table only is larger
    inputs = feature_inputs(arrays, meta)
    embedding(inputs)
    tables = [embedding.tables[vocab].embeddings for vocab in ("item", "cate")]
    weights = tf.constant(np.random.default_rng(1).normal(size=(16, 10, 4)), tf.float32)
    with tf.GradientTape() as tape:
        out = embedding(inputs)
        loss = (tf.reduce_sum(out["sequence"]["hist_item"] * weights) + 3.0 * tf.reduce_sum(out["query"]["hist_item"])
                + tf.reduce_sum(out["sequence"]["hist_cate"]))
    item, cate = tape.gradient(loss, tables)
    assert isinstance(item, tf.IndexedSlices) and isinstance(cate, tf.Tensor)
    want = np.zeros(tables[0].shape, np.float32)
    np.add.at(want, arrays["hist_item"].ravel(), weights.numpy().reshape(-1, 4))
    np.add.at(want, arrays["item"], 3.0)
    np.testing.assert_allclose(tf.convert_to_tensor(item), want, atol=1e-5)
