"""The purchase-prediction task: a registry model bundled with its losses, ready for `Model.fit`.

Single models: binary cross-entropy of the purchase probability against `label_buy`.
ESSM: BCE(pCTCVR, buy) + ctr_weight * BCE(pCTR, interaction, label smoothing)
      + cvr_weight * BCE(pCVR, buy) over interacted samples only.
Losses the model adds itself (DIEN's auxiliary loss) are added to the total.
"""
import keras
import tensorflow as tf
from keras import ops

from models import registry
from training.lazy_adam import LazyAdam

_EPSILON = 1e-7


def binary_crossentropy(labels, probabilities, label_smoothing=0.0):
    """Per-sample BCE on probabilities; smoothing pulls labels towards 0.5 as Keras does."""
    labels = ops.cast(labels, "float32")
    if label_smoothing:
        labels = labels * (1.0 - label_smoothing) + 0.5 * label_smoothing
    probabilities = ops.clip(probabilities, _EPSILON, 1.0 - _EPSILON)
    return -(labels * ops.log(probabilities) + (1.0 - labels) * ops.log(1.0 - probabilities))


class PurchaseTask(keras.Model):
    """Wraps `net` (outputs {"main"} or ESSM's {"main", "ctr", "cvr"}) with the task's losses.

    Targets are a dict with `label_buy` and `label_interact`. `multi_task` says the net is an ESSM,
    `aux_loss` that it adds a loss of its own; both only choose which loss terms are reported.
    """

    def __init__(self, net, multi_task=False, aux_loss=False, label_smoothing=0.1, ctr_weight=1.0,
                 cvr_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        self.net = net
        self.label_smoothing = label_smoothing
        self.ctr_weight = ctr_weight
        self.cvr_weight = cvr_weight
        names = ["main_loss"] + ["ctr_loss", "cvr_loss"] * multi_task + ["aux_loss"] * aux_loss
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
            terms["cvr_loss"] = (ops.sum(interacted * binary_crossentropy(buy, y_pred["cvr"]))
                                 / ops.maximum(ops.sum(interacted), 1.0))
        return terms

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms = self.task_losses(y, y_pred)
        total = terms["main_loss"]
        if "ctr_loss" in terms:
            total = total + self.ctr_weight * terms["ctr_loss"] + self.cvr_weight * terms["cvr_loss"]
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
    decay_steps steps (a pass, training.schedule) and gradients clipped to cfg.clip_norm."""
    net = registry.build_model(cfg, meta, item2vec)
    task = PurchaseTask(net, multi_task=registry.is_multi_task(cfg),
                        aux_loss="DIEN" in registry.tower_names(cfg) and cfg.dien_aux_weight > 0,
                        label_smoothing=cfg.label_smoothing, ctr_weight=cfg.ctr_weight,
                        cvr_weight=cfg.cvr_weight)
    learning_rate = keras.optimizers.schedules.ExponentialDecay(
        cfg.learning_rate, decay_steps=decay_steps, decay_rate=cfg.lr_decay, staircase=True)
    # Keras clips each replica's gradient (1/replicas of its share's mean) before summing them, so each
    # share's gradient is held to clip_norm as one process holds the batch's.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    task.compile(optimizer=LazyAdam(learning_rate, global_clipnorm=cfg.clip_norm / replicas),
                 jit_compile=cfg.jit_compile)
    return task
