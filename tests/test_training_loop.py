"""The optimisation main_func promises: the learning rate halves after each decay period, gradients
are clipped to a global norm, training stops after `patience` evaluations without a better dev AUC
once it may stop at all."""
import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import main_func
from errors import run_cli
from preprocessing.sources import make_demo_data
from tests.model_fixtures import make_arrays, make_meta, small_settings
from training.loop import dev_evaluation, schedule
from training.loop.input_pipeline import make_dataset
from training.loop.task import build_task


def compiled_task(**settings):
    cfg = small_settings(model="DNN", **settings)
    return build_task(cfg, make_meta(max_len=10), None, decay_steps=7)


def test_learning_rate_is_multiplied_by_lr_decay_after_each_decay_period():
    optimizer = compiled_task(learning_rate=0.01, lr_decay=0.5).optimizer
    rates = []
    for step in (0, 6, 7, 13, 14, 21):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025, 0.00125])


def adam_steps(optimizer, gradients):
    weight = keras.Variable(np.zeros(3, np.float32))
    for gradient in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), weight)])
    return np.asarray(weight)


def test_gradients_are_clipped_to_the_global_norm_before_adam():
    # Adam's first step does not depend on the gradient's scale; the second one does, through the
    # running second moment, so a huge first gradient shows whether it was clipped.
    huge, small = np.array([300.0, 400.0, 0.0], np.float32), np.array([0.0, 0.3, 0.4], np.float32)
    clipped = adam_steps(compiled_task(learning_rate=0.01, clip_norm=3.0).optimizer, [huge, small])
    by_hand = adam_steps(keras.optimizers.Adam(0.01), [huge * 3.0 / 500.0, small])
    unclipped = adam_steps(keras.optimizers.Adam(0.01), [huge, small])
    np.testing.assert_allclose(clipped, by_hand, rtol=1e-5, atol=1e-7)
    assert not np.allclose(clipped, unclipped, rtol=1e-3)


def test_training_stops_after_patience_evaluations_without_a_better_dev_auc(tmp_path, monkeypatch):
    settings = [f"raw_dir={tmp_path / 'raw'}", f"processed_dir={tmp_path / 'processed'}",
                f"results_dir={tmp_path / 'results'}", "demo_users=600", "demo_items=300", "demo_categories=12"]
    assert run_cli(make_demo_data.main, settings) == 0
    scripted = iter([0.60, 0.70, 0.65, 0.69, 0.68, 0.90, 0.95])

    def scripted_metrics(predictions, arrays, split):
        return {"main_auc": next(scripted), "gauc": 0.5, "logloss": 0.1}

    monkeypatch.setattr(dev_evaluation, "measure", scripted_metrics)
    monkeypatch.setattr(schedule, "MIN_EVALUATIONS", 1)
    monkeypatch.setattr(schedule, "SMOOTHING_BUYERS", 1)  # each evaluation stands alone
    row = main_func.main(settings + ["model=DNN", "max_len=10", "embed_dim=4", "mlp_units=[8]", "batch_size=64",
                                     "eval_every=2", "patience=3", "max_epochs=50", "use_item2vec=False",
                                     "min_updates=2"])[0]
    assert [e["main_auc"] for e in row["dev_evaluations"]] == [0.60, 0.70, 0.65, 0.69, 0.68]
    assert row["best_step"] == 2 * 2, "the second evaluation's weights are the ones kept"


def test_a_lucky_first_evaluation_does_not_stop_training_before_min_updates(tmp_path, monkeypatch):
    settings = [f"raw_dir={tmp_path / 'raw'}", f"processed_dir={tmp_path / 'processed'}",
                f"results_dir={tmp_path / 'results'}", "demo_users=600", "demo_items=300", "demo_categories=12"]
    assert run_cli(make_demo_data.main, settings) == 0
    scripted = iter([0.95] + [0.6] * 30)
    monkeypatch.setattr(dev_evaluation, "measure",
                        lambda *args: {"main_auc": next(scripted), "gauc": 0.5, "logloss": 0.1})
    monkeypatch.setattr(schedule, "SMOOTHING_BUYERS", 1)
    row = main_func.main(settings + ["model=DNN", "max_len=10", "embed_dim=4", "mlp_units=[8]", "batch_size=64",
                                     "eval_every=2", "patience=1", "max_epochs=50", "use_item2vec=False",
                                     "min_updates=20"])[0]
    # early stopping watches from the 11th evaluation (20 updates, 8 evaluations at least), then waits patience
    assert len(row["dev_evaluations"]) == max(schedule.MIN_EVALUATIONS, 20 // 2) + 1 + 1


def test_max_epochs_holds_when_eval_every_is_longer_than_a_pass(tmp_path):
    settings = [f"raw_dir={tmp_path / 'raw'}", f"processed_dir={tmp_path / 'processed'}",
                f"results_dir={tmp_path / 'results'}", "demo_users=600", "demo_items=300", "demo_categories=12"]
    assert run_cli(make_demo_data.main, settings) == 0
    row = main_func.main(settings + ["model=DNN", "max_len=10", "embed_dim=4", "mlp_units=[8]", "batch_size=64",
                                     "eval_every=100000", "max_epochs=1", "use_item2vec=False"])[0]
    assert row["epochs"] == 1.0 and len(row["dev_evaluations"]) == 1


@pytest.mark.parametrize("model, jit_compile", [("DIN", False), ("DNN", True)])
def test_a_model_with_sparse_tables_learns_and_leaves_unseen_rows_alone(model, jit_compile):
    keras.utils.set_random_seed(5)
    meta = make_meta(max_len=10)
    arrays = make_arrays(3072, max_len=10, seed=2)
    unseen = np.arange(111, 121)  # the last category's items: dropped from every history and target
    for name in ("item", "hist_item"):
        arrays[name] = np.where(np.isin(arrays[name], unseen), 0, arrays[name])
    cfg = small_settings(model=model, sparse_update_above=meta["vocab_sizes"]["cate"], learning_rate=0.01,
                         jit_compile=jit_compile)
    task = build_task(cfg, meta, None, decay_steps=12)
    table = task.net.get_layer("embedding").tables["item"].embeddings
    start = table.numpy()
    history = task.fit(make_dataset(arrays, meta, 256, shuffle_seed=0), epochs=4, steps_per_epoch=12, verbose=0)
    after = table.numpy()
    np.testing.assert_array_equal(after[unseen], start[unseen])
    assert not np.allclose(after[1:111], start[1:111])
    scores = task.predict(make_dataset(arrays, meta, 1024), verbose=0)["main"]
    assert roc_auc_score(arrays["label_buy"], scores) > 0.75  # chance is 0.5
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]
