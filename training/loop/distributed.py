"""Training on several devices or machines with tf.distribute (setting `distribute`).

- `none`: the default strategy, one device.
- `mirrored`: MirroredStrategy over every local GPU, or over CPU_REPLICAS logical CPU devices when
  there is none (a way to try it on any machine). Keras `Model.fit` trains under it.
- `multi_worker`: MultiWorkerMirroredStrategy over the cluster in TF_CONFIG. On TensorFlow 2.21 /
  Keras 3 `Model.fit` fails under it (a PerReplica value cannot be converted to a Tensor), so a custom
  step trains: `strategy.run` over a dataset distributed from a function, each worker reading its own
  shard of the training arrays, with PurchaseTask's own loss (already divided by the replicas in
  sync). The chief runs the usual callbacks (dev evaluation, best checkpoint, early stopping,
  TensorBoard) on a one-device copy of the model, since Keras's predict fails under the strategy
  too, and tells the workers when to stop.

Every replica keeps its own BatchNorm moving statistics (Keras's are not aggregated): they are
averaged over the replicas after every evaluation period, so the workers end with identical weights.
For the moving means this equals tracking the global batch, the average of equal shards' means.
"""
import json
import os
import signal
import time

import keras
import tensorflow as tf

from errors import PipelineError
from preprocessing.processed_data import sample_rows
from training.loop.input_pipeline import make_dataset

CPU_REPLICAS = 2


def make_strategy(cfg):
    """The tf.distribute strategy of cfg.distribute; create it before any other TensorFlow work."""
    if cfg.distribute == "none":
        return tf.distribute.get_strategy()
    if cfg.distribute == "mirrored":
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * CPU_REPLICAS)
        except RuntimeError:
            pass  # TensorFlow already started in this process: its CPU devices stay as they are
        strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    else:
        _check_cluster()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        # its coordination service catches SIGTERM to note a preemption and runs on: a plain kill
        # (scr/train_workers.sh stopping its workers) must end the worker
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # batch_size=auto is sized later as a multiple of the replicas (training.loop.schedule)
    if isinstance(cfg.batch_size, int) and cfg.batch_size % strategy.num_replicas_in_sync:
        raise PipelineError(f"setting batch_size={cfg.batch_size}: expected a multiple of the "
                            f"{strategy.num_replicas_in_sync} replicas of distribute={cfg.distribute}")
    return strategy


def _check_cluster():
    text = os.environ.get("TF_CONFIG", "")
    try:
        spec = json.loads(text)
        workers = spec["cluster"]["worker"]
        role, index = spec["task"]["type"], spec["task"]["index"]
        valid = isinstance(workers, list) and workers and role in spec["cluster"] and isinstance(index, int)
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise PipelineError(f"setting distribute=multi_worker: expected TF_CONFIG to hold a cluster with a "
                            f"worker list and this task's type and index (docs/scaling.md), got {text!r}")


def uses_custom_step(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """True for the one process that evaluates and writes: the only one, or the cluster's chief
    (task type `chief`, or worker 0 when there is none)."""
    if not uses_custom_step(strategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().jobs


def training_input(strategy, arrays, meta, batch_size, seed):
    """Shuffled training batches of batch_size samples in all; under the custom step each worker
    gathers only its shard (every n-th row), in batches of its replicas' share."""
    if not uses_custom_step(strategy):
        return make_dataset(arrays, meta, batch_size, shuffle_seed=seed)

    def shard(context):
        rows = sample_rows(arrays, slice(context.input_pipeline_id, None, context.num_input_pipelines))
        return make_dataset(rows, meta, context.get_per_replica_batch_size(batch_size), shuffle_seed=seed)

    return strategy.distribute_datasets_from_function(shard)


def train(strategy, task, batches, periods, period_steps, progress, run_dir=None, callbacks=(),
          evaluation_copy=None, verbose=2):
    """Trains `periods` evaluation periods of `period_steps` steps, resuming from `progress`.

    Returns the model holding the trained weights on this process (task, or under the custom step
    the chief's one-device copy, built by evaluation_copy()); None on a worker that is not the chief.
    """
    progress.restore(task)
    first = periods if progress.stopped else progress.periods
    if not uses_custom_step(strategy):
        task.fit(batches, epochs=periods, initial_epoch=first, steps_per_epoch=period_steps, shuffle=False,
                 callbacks=[*callbacks, progress.callback(run_dir, callbacks)], verbose=verbose)
        return task
    chief = is_chief(strategy)
    copy = evaluation_copy() if chief else None
    if chief:
        copy.set_weights(task.get_weights())
        # its checkpoints are the run's best weights: built, its optimizer has the variables that
        # training.serving.saved_run loads, as a one-process run's has
        copy.optimizer.build(copy.trainable_variables)
        callbacks = keras.callbacks.CallbackList(list(callbacks), model=copy)
        callbacks.on_train_begin()
        progress.begin(callbacks.callbacks)
    else:
        progress.begin()
    step = _train_step(strategy, task)
    iterator = iter(batches)
    statistics = [v for v in task.non_trainable_variables if "float" in str(v.dtype)]
    for period in range(first, periods):
        began = time.perf_counter()
        for tracker in task.loss_trackers.values():
            tracker.reset_state()
        if chief:
            callbacks.on_epoch_begin(period)
        for _ in range(period_steps):
            step(iterator)
        _average_over_replicas(strategy, statistics)
        logs = {name: float(tracker.result()) for name, tracker in task.loss_trackers.items()}
        if chief:
            copy.set_weights(task.get_weights())
            callbacks.on_epoch_end(period, logs)
            if verbose:
                shown = " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
                print(f"period {period + 1}/{periods} - {time.perf_counter() - began:.0f}s - {shown}", flush=True)
        stop = _chief_says(strategy, chief and copy.stop_training)
        progress.save(task, period + 1, stop, run_dir)
        if stop:
            break
    if chief:
        callbacks.on_train_end()
    return copy


def _train_step(strategy, task):
    @tf.function
    def step(iterator):
        def replica_step(x, y):
            with tf.GradientTape() as tape:
                loss = task.compute_loss(x, y, task(x, training=True))
            gradients = tape.gradient(loss, task.trainable_variables)
            task.optimizer.apply_gradients(zip(gradients, task.trainable_variables))

        strategy.run(replica_step, args=next(iterator))
    return step


def _average_over_replicas(strategy, variables):
    @tf.function
    def average():
        means = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.MEAN,
                                                                [tf.identity(v.value) for v in variables])
        for variable, mean in zip(variables, means):
            variable.assign(mean)

    if variables:
        strategy.run(average)


def _chief_says(strategy, flag):
    """The chief's flag, on every worker (the others pass False)."""
    return bool(_sum_over_workers(strategy, tf.constant(1.0 if flag else 0.0)) > 0)


@tf.function
def _sum_over_workers(strategy, value):
    return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(tf.identity, args=(value,)), axis=None)
