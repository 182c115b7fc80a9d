"""The purchase-prediction task: a registry model bundled with its losses, ready for `Model.fit`.

Single models: binary cross-entropy of the purchase probability against `label_buy`.
Multi-task models: BCE(main, buy) + ctr_weight * BCE(pCTR, interaction, label smoothing)
      + cvr_weight * BCE(pCVR, buy) over interacted samples only (ESSM: main is pCTCVR),
and the losses their methods add:
- AITM's behavioural expectation calibrator, calibration_weight * mean(max(p_buy - pCTR, 0)).
- ESCM²'s counterfactual regulariser, counterfactual_weight * R, with o the interaction label,
  e = BCE(pCVR, buy) and the propensity ô = max(pCTR, propensity_floor) held fixed (no gradient
  flows into the CTR tower through it):
    IPS: R = mean(o * e / ô)
    DR:  R = mean(ê + o * (e - ê) / ô), ê the imputation tower's error estimate (held fixed here),
         which learns from its own loss mean(o * (e - ê)² / ô) (e held fixed there).
Losses the model adds itself (DIEN's auxiliary loss) are added to the total.
"""
import keras
import tensorflow as tf
from keras import ops

from models import registry
from training.loop.lazy_adam import LazyAdam

_EPSILON = 1e-7


def binary_crossentropy(labels, probabilities, label_smoothing=0.0):
    """Per-sample BCE on probabilities; smoothing pulls labels towards 0.5 as Keras does."""
    labels = ops.cast(labels, "float32")
    if label_smoothing:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    probabilities = ops.clip(probabilities, _EPSILON, 1.0 - _EPSILON)
    return -(labels * ops.log(probabilities) + (1.0 - labels) * ops.log(1.0 - probabilities))


class PurchaseTask(keras.Model):
    """Wraps `net` (outputs {"main"} or a multi-task model's {"main", "ctr", "cvr"}) with the task's losses.

    Targets are a dict with `label_buy` and `label_interact`. `multi_task` says the net has the CTR
    and CVR outputs, `aux_loss` that it adds a loss of its own; both only choose which loss terms are
    reported. calibration_weight > 0 adds AITM's calibrator, counterfactual ("ips" or "dr") ESCM²'s
    regulariser (DR needs the net's "imputed_error" output).
    """

    def __init__(self, net, multi_task=False, aux_loss=False, label_smoothing=0.1, ctr_weight=1.0,
                 cvr_weight=0.0, calibration_weight=0.0, counterfactual="", counterfactual_weight=0.0,
                 propensity_floor=0.05, **kwargs):
        super().__init__(**kwargs)
        self.net = net
        self.label_smoothing = label_smoothing
        self.ctr_weight = ctr_weight
        self.cvr_weight = cvr_weight
        self.calibration_weight = calibration_weight
        self.counterfactual = counterfactual
        self.counterfactual_weight = counterfactual_weight
        self.propensity_floor = propensity_floor
        names = (["main_loss"] + ["ctr_loss", "cvr_loss"] * multi_task + ["calibration_loss"] * (calibration_weight > 0)
                 + ["counterfactual_loss"] * bool(counterfactual) + ["imputation_loss"] * (counterfactual == "dr")
                 + ["aux_loss"] * aux_loss)
        self.loss_trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def call(self, inputs, training=False):
        return self.net(inputs, training=training)

    def task_losses(self, y, y_pred):
        """The task's loss terms (before weighting), as scalars by name."""
        buy = y["label_buy"]
        terms = {"main_loss": ops.mean(binary_crossentropy(buy, y_pred["main"]))}
        if "ctr" in y_pred:
            terms["ctr_loss"] = ops.mean(
                binary_crossentropy(y["label_interact"], y_pred["ctr"], self.label_smoothing))
            interacted = ops.cast(y["label_interact"], "float32")
            cvr_error = binary_crossentropy(buy, y_pred["cvr"])
            terms["cvr_loss"] = ops.sum(interacted * cvr_error) / ops.maximum(ops.sum(interacted), 1.0)
            if self.calibration_weight > 0:
                terms["calibration_loss"] = ops.mean(ops.relu(y_pred["main"] - y_pred["ctr"]))
            if self.counterfactual:
                terms.update(self.counterfactual_losses(interacted, cvr_error, y_pred))
        return terms

    def counterfactual_losses(self, interacted, cvr_error, y_pred):
        """ESCM²'s regulariser (and for DR the imputation tower's loss) from the interaction labels,
        the per-sample CVR error and the net's outputs."""
        propensity = ops.maximum(ops.stop_gradient(y_pred["ctr"]), self.propensity_floor)
        if self.counterfactual == "ips":
            return {"counterfactual_loss": ops.mean(interacted * cvr_error / propensity)}
        imputed = y_pred["imputed_error"]
        fixed = ops.stop_gradient(imputed)
        return {"counterfactual_loss": ops.mean(fixed + interacted * (cvr_error - fixed) / propensity),
                "imputation_loss": ops.mean(interacted * ops.square(ops.stop_gradient(cvr_error) - imputed)
                                            / propensity)}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms = self.task_losses(y, y_pred)
        total = terms["main_loss"]
        if "ctr_loss" in terms:
            total = total + self.ctr_weight * terms["ctr_loss"] + self.cvr_weight * terms["cvr_loss"]
        if "calibration_loss" in terms:
            total = total + self.calibration_weight * terms["calibration_loss"]
        if "counterfactual_loss" in terms:
            total = total + self.counterfactual_weight * terms["counterfactual_loss"]
        if "imputation_loss" in terms:
            total = total + terms["imputation_loss"]
        if self.losses:
            terms["aux_loss"] = ops.sum(ops.stack(self.losses))
            total = total + terms["aux_loss"]
        for name, tracker in self.loss_trackers.items():
            tracker.update_state(terms[name])
        # Under tf.distribute each replica's gradients are summed: its mean loss over its share of the
        # batch counts 1/replicas, so the sum is the mean over the global batch (compute_average_loss).
        return total / tf.distribute.get_strategy().num_replicas_in_sync

    @property
    def metrics(self):
        return super().metrics + list(self.loss_trackers.values())


def build_task(cfg, meta, item2vec, decay_steps):
    """The registry model of cfg wrapped in its PurchaseTask, compiled with Adam (lazy for the tables
    above cfg.sparse_update_above ids), the learning rate multiplied by cfg.lr_decay every
    decay_steps steps (a pass, training.loop.schedule) and gradients clipped to cfg.clip_norm."""
    net = registry.build_model(cfg, meta, item2vec)
    task = PurchaseTask(net, multi_task=cfg.model_spec.multi_task,
                        aux_loss="DIEN" in cfg.model_spec.towers and cfg.dien_aux_weight > 0,
                        label_smoothing=cfg.label_smoothing, ctr_weight=cfg.ctr_weight,
                        cvr_weight=cfg.cvr_weight, **registry.task_regularisers(cfg))
    learning_rate = keras.optimizers.schedules.ExponentialDecay(
        cfg.learning_rate, decay_steps=decay_steps, decay_rate=cfg.lr_decay, staircase=True)
    # Keras clips each replica's gradient (1/replicas of its share's mean) before summing them, so each
    # share's gradient is held to clip_norm as one process holds the batch's.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    task.compile(optimizer=LazyAdam(learning_rate, global_clipnorm=cfg.clip_norm / replicas),
                 jit_compile=cfg.jit_compile)
    return task
