"""One of our models, trained exactly as main_func trains it, on the benchmark's arrays."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the log setting above, like the imports below)
import tensorflow as tf  # noqa: E402

import bench_arrays  # noqa: E402
import configurator  # noqa: E402
import timing  # noqa: E402
from main_func import build_task  # noqa: E402
from training.input_pipeline import make_dataset  # noqa: E402


def prepared_training(folder, overrides, total_steps):
    """(train(n): fit n steps, batch size) for the model of `overrides` on the arrays of `folder`."""
    cfg = configurator.load(overrides)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(cfg.seeds[0])
    meta, arrays, _ = bench_arrays.load_folder(folder)
    # No learning-rate halving within the run: one "pass" is longer than all its steps.
    task = build_task(cfg, meta, None, steps_per_pass=total_steps * 10)
    dataset = make_dataset(arrays, meta, cfg.batch_size, shuffle_seed=cfg.seeds[0])

    def train(count):
        task.fit(dataset, epochs=1, steps_per_epoch=count, verbose=0, shuffle=False)

    return train, cfg.batch_size


def throughput(folder, overrides, args):
    """Samples per second of the model of `overrides` (see timing.measure)."""
    train, batch_size = prepared_training(folder, overrides, args.warmup_steps + args.steps * (args.repeats + 1))
    result = timing.measure(train, batch_size, args.warmup_steps, args.steps, args.repeats, args.repeat_budget_s)
    result["library"] = "ours"
    result["framework"] = f"Keras {keras.__version__}, TensorFlow {tf.__version__}"
    result["settings"] = overrides
    return result
