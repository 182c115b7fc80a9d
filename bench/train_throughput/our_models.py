"""One of our models, trained exactly as main_func.py trains it, on the benchmark's arrays."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the log setting above, like the imports below)
import tensorflow as tf  # noqa: E402

import configurator  # noqa: E402
from bench import BATCH  # noqa: E402
from bench.peers import bench_arrays, timing  # noqa: E402
from training.loop.input_pipeline import make_dataset  # noqa: E402
from training.loop.task import build_task  # noqa: E402



def prepared_training(folder, overrides):
    """(task, dataset, batch size): the model of `overrides`, compiled, and the arrays of `folder`
    as training batches repeated without end."""
    cfg = configurator.load([BATCH, *overrides])
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(cfg.seeds[0])
    meta, arrays, _ = bench_arrays.load_folder(folder)
    # No learning-rate halving within the run: one "pass" is longer than any benchmark run.
    task = build_task(cfg, meta, None, decay_steps=1_000_000)
    return task, make_dataset(arrays, meta, cfg.batch_size, shuffle_seed=cfg.seeds[0]), cfg.batch_size


class ClockCallback(keras.callbacks.Callback):
    """Ticks a timing.StepClock after every training step; stops the fit when it has its spans."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def on_train_batch_end(self, batch, logs=None):
        if self.clock.step_done():
            self.model.stop_training = True


def throughput(folder, overrides, args):
    """Samples per second of the model of `overrides` (see timing.StepClock)."""
    task, dataset, batch_size = prepared_training(folder, overrides)
    clock = timing.StepClock(batch_size, args.warmup_steps, args.steps, args.repeats, args.repeat_budget_s)
    task.fit(dataset, epochs=1, steps_per_epoch=clock.max_steps, verbose=0, shuffle=False,
             callbacks=[ClockCallback(clock)])
    result = clock.result()
    result["library"] = "ours"
    result["framework"] = f"Keras {keras.__version__}, TensorFlow {tf.__version__}"
    result["settings"] = overrides
    return result
