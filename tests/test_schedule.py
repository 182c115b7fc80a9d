"""Training sized to the data: batch, evaluation period, decay and early stopping follow the training
split and the dev buyers; training never runs past max_epochs; the selection AUC averages few-buyer
evaluations."""
import math

import numpy as np
import pytest

import configurator
from training.loop import schedule
from training.loop.dev_evaluation import DevEvaluation, selection_auc


def plan(train_size, dev_buyers=500, **settings):
    return schedule.plan(configurator.load([], **settings), train_size, dev_buyers)


def test_a_real_log_of_a_few_thousand_samples_gets_small_batches_and_many_updates():
    small = plan(7_549, dev_buyers=12)
    assert small.batch_size == 128 and small.steps_per_pass == 59
    assert small.period_steps == 15, "four dev evaluations a pass"
    assert small.decay_steps == 300, "the learning rate does not reach zero within a few dozen updates"
    assert small.first_stop * small.period_steps >= 300 and small.first_stop >= schedule.MIN_EVALUATIONS
    assert small.smoothing == schedule.MAX_SMOOTHING


def test_the_demo_and_a_taobao_size_log_keep_the_original_batch():
    demo = plan(170_000, dev_buyers=240)
    assert demo.batch_size == 2048 and demo.steps_per_pass == 84 and demo.decay_steps == 300
    assert demo.smoothing == 1, "enough dev buyers: each evaluation stands alone"
    taobao = plan(15_000_000, dev_buyers=20_000)
    assert taobao.batch_size == 2048 and taobao.decay_steps == taobao.steps_per_pass == 7325
    assert taobao.period_steps == 1831


def test_explicit_settings_win_over_auto():
    fixed = plan(7_549, batch_size=2048, eval_every=100)
    assert fixed.batch_size == 2048 and fixed.steps_per_pass == 4 and fixed.period_steps == 100


@pytest.mark.parametrize("train_size, batch_size, eval_every, max_epochs", [
    (14_379, 2048, 100, 5), (14_379, "auto", "auto", 5), (1_000, 64, 7, 3), (7_549, 128, 100_000, 1),
    (170_000, 2048, 25, 3)])
def test_training_never_runs_past_max_epochs(train_size, batch_size, eval_every, max_epochs):
    fixed = plan(train_size, batch_size=batch_size, eval_every=eval_every, max_epochs=max_epochs)
    assert fixed.periods >= 1
    assert fixed.max_steps <= max_epochs * fixed.steps_per_pass
    assert fixed.max_steps > (max_epochs - 1) * fixed.steps_per_pass or fixed.periods == 1


def test_batch_is_split_evenly_over_replicas():
    assert schedule.plan(configurator.load([], batch_size=100), 10_000, 50, replicas=3).batch_size == 99


def test_the_selection_auc_is_the_mean_of_the_last_evaluations():
    evaluations = [{"main_auc": a} for a in (0.9, 0.6, 0.7, 0.8)]
    assert selection_auc(evaluations, 1) == 0.8
    assert selection_auc(evaluations, 3) == pytest.approx(0.7)
    assert selection_auc(evaluations[:1], 3) == 0.9


def test_dev_evaluation_logs_the_selection_auc_it_is_built_with(monkeypatch):
    scripted = iter([0.9, 0.5, 0.6, 0.7])
    monkeypatch.setattr("training.loop.dev_evaluation.measure",
                        lambda *args: {"main_auc": next(scripted), "gauc": 0.5, "logloss": 0.1})

    class Model:
        def predict(self, dataset, verbose=0):
            return {"main": np.zeros(2)}

    evaluation = DevEvaluation(None, {"label_buy": 0, "label_interact": 0, "user": 0}, smoothing=3)
    evaluation.set_model(Model())
    logged = []
    for epoch in range(4):
        logs = {}
        evaluation.on_epoch_end(epoch, logs)
        logged.append(logs["val_selection_auc"])
    assert logged == pytest.approx([0.9, 0.7, 2.0 / 3.0, 0.6])
    assert math.isclose(evaluation.evaluations[-1]["selection_auc"], 0.6)
