"""tf.data input: model features and the two labels of a split, batched and prefetched."""
import numpy as np
import tensorflow as tf

from preprocessing.processed_data import SEQUENCE_ARRAYS, SEQUENCE_ROW

LABELS = ("label_buy", "label_interact")


def feature_names(meta):
    return [feature["name"] for feature in meta["features"]]


def make_dataset(arrays, meta, batch_size, shuffle_seed=None):
    """Batches of ({feature: tensor}, {label: tensor}); with a seed, reshuffled and repeated forever.

    Shuffling indices (a seeded permutation per pass) and gathering whole batches keeps the per-batch
    work inside TensorFlow and holds the split once. Sequences stored one row per run (processed data) are gathered
    through SEQUENCE_ROW; arrays without it hold one sequence per sample.
    """
    names = feature_names(meta) + list(LABELS)
    indirect = SEQUENCE_ROW in arrays
    columns = {name: tf.constant(np.asarray(arrays[name])) for name in names + [SEQUENCE_ROW] * indirect}
    size = len(arrays[LABELS[0]])
    indices = tf.data.Dataset.range(size)
    if shuffle_seed is not None and size:
        # a permutation per pass, not a shuffle buffer: the buffer keeps each index as a tensor of its
        # own, about 190 bytes apiece (2.2 GiB for a 12-million-sample split)
        indices = tf.data.Dataset.counter().flat_map(lambda epoch: tf.data.Dataset.from_tensor_slices(
            tf.random.experimental.stateless_shuffle(tf.range(size, dtype=tf.int64),
                                                     seed=tf.stack([tf.constant(shuffle_seed, tf.int64), epoch]))))

    def gather(index):
        rows = tf.gather(columns[SEQUENCE_ROW], index) if indirect else index
        features = {name: tf.gather(columns[name], rows if name in SEQUENCE_ARRAYS else index)
                    for name in feature_names(meta)}
        return features, {name: tf.gather(columns[name], index) for name in LABELS}

    batches = indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # tf.data's default rewrites serialise the pipeline with its columns: a second copy of the split
    # (5.6 GiB for a Taobao-size training split); the pipeline is already batched, parallel and prefetched
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return batches.prefetch(tf.data.AUTOTUNE).with_options(options)
