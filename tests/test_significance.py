"""The paired user bootstrap: exact weighted AUCs, known answers and coverage on simulated data."""
import numpy as np
import pandas as pd
import pytest

from errors import PipelineError
from training.record.metrics import auc
from training.studies import significance


def test_weighted_auc_equals_the_auc_of_the_samples_repeated_by_their_weights():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    scores = np.round(rng.normal(size=400), 1)  # many ties
    weights = rng.integers(0, 4, (3, 400)).astype(float)
    expected = [auc(np.repeat(labels, w.astype(int)), np.repeat(scores, w.astype(int))) for w in weights]
    np.testing.assert_allclose(significance.weighted_auc(labels, scores, weights), expected, rtol=1e-12)
    assert significance.weighted_auc(labels, scores, np.ones(400))[0] == pytest.approx(auc(labels, scores))


def test_user_weights_draw_as_many_users_as_there_are_and_weigh_a_user_samples_alike():
    users = np.array(["b", "a", "b", "c", "a", "a"])
    for block in significance.user_weight_blocks(users, 120, seed=1):
        assert block.shape[1] == 6
        np.testing.assert_array_equal(block[:, 1], block[:, 4])
        np.testing.assert_array_equal(block[:, 0], block[:, 2])
        # each user counted once: b, a, c draws sum to the number of users
        np.testing.assert_array_equal(block[:, 0] + block[:, 1] + block[:, 3], 3)


def test_identical_predictions_differ_by_exactly_zero_with_a_degenerate_interval():
    rng = np.random.default_rng(1)
    labels, users, scores = rng.integers(0, 2, 300), rng.integers(0, 40, 300), rng.random(300)
    replicates = significance.bootstrap_aucs(labels, users, np.stack([scores, scores]), 200, seed=0)
    difference = significance.paired_difference(0.0, replicates[0], replicates[1])
    assert (difference.estimate, difference.low, difference.high, difference.p_value) == (0.0, 0.0, 0.0, 1.0)


def delong_difference_se(labels, scores_a, scores_b):
    """DeLong's standard error of AUC(a) - AUC(b) on the same independent samples."""
    components = []
    for scores in (scores_a, scores_b):
        positive, negative = scores[labels == 1], scores[labels == 0]
        kernel = (positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :])
        components.append((kernel.mean(axis=1), kernel.mean(axis=0)))
    v10 = np.cov(np.stack([c[0] for c in components]))
    v01 = np.cov(np.stack([c[1] for c in components]))
    contrast = np.array([1.0, -1.0])
    variance = contrast @ (v10 / (labels == 1).sum() + v01 / (labels == 0).sum()) @ contrast
    return float(np.sqrt(variance))


def test_with_one_sample_a_user_the_bootstrap_spread_matches_delong():
    rng = np.random.default_rng(2)
    labels = (rng.random(3000) < 0.2).astype(int)
    shared = rng.normal(size=3000)
    scores = np.stack([labels * 1.0 + shared + rng.normal(size=3000), labels * 0.8 + shared + rng.normal(size=3000)])
    replicates = significance.bootstrap_aucs(labels, np.arange(3000), scores, 1000, seed=0)
    bootstrap_se = np.std(replicates[0] - replicates[1])
    assert bootstrap_se == pytest.approx(delong_difference_se(labels, *scores), rel=0.1)


def simulate(rng, n_users, per_user=10):
    """Users of per_user samples; a user's buying propensity and each model's user offset make the
    samples of one user correlated. Model a separates buyers better than model b."""
    users = np.repeat(np.arange(n_users), per_user)
    labels = (rng.random(len(users)) < rng.beta(1.0, 3.0, n_users)[users]).astype(np.int8)
    scores = np.stack([shift * labels + rng.normal(0, 1.5, n_users)[users] + rng.normal(0, 1, len(users))
                       for shift in (1.0, 0.6)])
    return users, labels, scores


def coverage(truth, by_user, simulations=100):
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(simulations):
        users, labels, scores = simulate(rng, 150)
        replicates = significance.bootstrap_aucs(labels, users if by_user else np.arange(len(users)), scores, 100)
        difference = significance.paired_difference(auc(labels, scores[0]) - auc(labels, scores[1]), *replicates)
        covered += difference.low <= truth <= difference.high
    return covered / simulations


def test_the_user_bootstrap_interval_covers_the_true_difference_and_a_sample_bootstrap_would_not():
    users, labels, scores = simulate(np.random.default_rng(4), 100_000)
    truth = auc(labels, scores[0]) - auc(labels, scores[1])  # the population difference, to about 0.001
    by_user, by_sample = coverage(truth, True), coverage(truth, False)
    assert by_user >= 0.88
    assert by_sample <= by_user - 0.1, "resampling samples ignores the users' correlation"


def write_run(folder, users, labels, interacted, scores):
    folder.mkdir()
    frame = pd.DataFrame({"user_id": users, "item_id": np.arange(len(users)), "split": "test",
                          "label_buy": labels, "label_interact": interacted, "p_main": scores})
    pd.concat([frame.assign(split="dev"), frame.sample(frac=1.0, random_state=0)]).to_parquet(
        folder / "predictions.parquet")
    return folder


def test_compare_reads_the_runs_and_pairs_them_on_their_test_samples(tmp_path):
    rng = np.random.default_rng(5)
    users, labels = rng.integers(0, 300, 2000), (rng.random(2000) < 0.3).astype(np.int8)
    good = [write_run(tmp_path / f"good{i}", users, labels, labels, labels + rng.normal(0, 1, 2000)) for i in range(2)]
    poor = [write_run(tmp_path / "poor", users, labels, labels, labels + rng.normal(0, 3, 2000))]
    difference = significance.compare(good, poor, n_boot=300)
    frame = pd.read_parquet(good[0] / "predictions.parquet")
    test = frame[frame["split"] == "test"]
    expected = np.mean([auc(test["label_buy"], pd.read_parquet(g / "predictions.parquet").query("split == 'test'")
                            .set_index("item_id").loc[test["item_id"], "p_main"]) for g in good])
    assert difference.estimate == pytest.approx(expected - auc(labels, pd.read_parquet(
        poor[0] / "predictions.parquet").query("split == 'test'").sort_values("item_id")["p_main"]))
    assert 0 < difference.low < difference.estimate < difference.high and difference.p_value < 0.01
    other = write_run(tmp_path / "other", users, 1 - labels, labels, rng.random(2000))
    with pytest.raises(PipelineError, match="test samples differ"):
        significance.compare(good, [other])
