import keras
import numpy as np
import pytest

from training.loop.task import PurchaseTask

BUY = np.array([1, 0, 0, 1, 0, 0], dtype="float32")
INTERACT = np.array([1, 1, 0, 1, 0, 1], dtype="float32")
P_CTR = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.4], dtype="float32")
P_CVR = np.array([0.8, 0.3, 0.5, 0.6, 0.9, 0.2], dtype="float32")


def bce(labels, probabilities):
    return -(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))


class FixedOutputs(keras.Model):
    """A stand-in net whose outputs are given, so the task's losses can be checked by hand."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs_given = outputs

    def call(self, inputs, training=False):
        return self.outputs_given


def essm_loss(task, p_ctr=P_CTR, p_cvr=P_CVR, buy=BUY, interact=INTERACT):
    y_pred = {"main": p_ctr * p_cvr, "ctr": p_ctr, "cvr": p_cvr}
    y = {"label_buy": buy, "label_interact": interact}
    return float(task.compute_loss(y=y, y_pred=y_pred))


def essm_task(**kwargs):
    return PurchaseTask(FixedOutputs({}), multi_task=True, **kwargs)


def test_essm_loss_equals_a_hand_computation():
    task = essm_task(label_smoothing=0.1, ctr_weight=1.0, cvr_weight=0.5)
    smoothed = INTERACT * 0.9 + 0.05
    main = bce(BUY, P_CTR * P_CVR).mean()
    ctr = bce(smoothed, P_CTR).mean()
    cvr = bce(BUY, P_CVR)[INTERACT == 1].mean()
    assert essm_loss(task) == pytest.approx(main + 1.0 * ctr + 0.5 * cvr, rel=1e-5)


def test_label_smoothing_changes_the_ctr_loss_only():
    y = {"label_buy": BUY, "label_interact": INTERACT}
    y_pred = {"main": P_CTR * P_CVR, "ctr": P_CTR, "cvr": P_CVR}
    plain = essm_task(label_smoothing=0.0).task_losses(y, y_pred)
    smoothed = essm_task(label_smoothing=0.2).task_losses(y, y_pred)
    assert float(plain["main_loss"]) == pytest.approx(float(smoothed["main_loss"]))
    assert float(plain["cvr_loss"]) == pytest.approx(float(smoothed["cvr_loss"]))
    assert float(plain["ctr_loss"]) != pytest.approx(float(smoothed["ctr_loss"]))


def test_cvr_loss_ignores_samples_without_interaction():
    task = essm_task(ctr_weight=0.0, cvr_weight=1.0)
    changed = P_CVR.copy()
    changed[INTERACT == 0] = 0.01
    main_only = essm_task(ctr_weight=0.0, cvr_weight=0.0)
    cvr_part = essm_loss(task) - essm_loss(main_only)
    cvr_part_changed = essm_loss(task, p_cvr=changed) - essm_loss(main_only, p_cvr=changed)
    assert cvr_part == pytest.approx(cvr_part_changed, rel=1e-5)
    assert cvr_part == pytest.approx(bce(BUY, P_CVR)[INTERACT == 1].mean(), rel=1e-5)


def test_single_model_loss_is_cross_entropy_on_buys():
    task = PurchaseTask(FixedOutputs({}), multi_task=False)
    loss = task.compute_loss(y={"label_buy": BUY, "label_interact": INTERACT}, y_pred={"main": P_CVR})
    assert float(loss) == pytest.approx(bce(BUY, P_CVR).mean(), rel=1e-5)


def test_losses_added_by_the_net_join_the_total():
    class WithOwnLoss(FixedOutputs):
        def call(self, inputs, training=False):
            self.add_loss(keras.ops.convert_to_tensor(0.25))
            return self.outputs_given

    task = PurchaseTask(WithOwnLoss({"main": P_CVR}), multi_task=False, aux_loss=True)
    y = {"label_buy": BUY, "label_interact": INTERACT}
    y_pred = task({"x": np.zeros((6, 1), "float32")}, training=True)
    loss = task.compute_loss(y=y, y_pred=y_pred)
    assert float(loss) == pytest.approx(bce(BUY, P_CVR).mean() + 0.25, rel=1e-5)
