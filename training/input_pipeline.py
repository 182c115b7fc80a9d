"""tf.data input: model features and the two labels of a split, batched and prefetched."""
import numpy as np
import tensorflow as tf

LABELS = ("label_buy", "label_interact")


def feature_names(meta):
    return [feature["name"] for feature in meta["features"]]


def make_dataset(arrays, meta, batch_size, shuffle_seed=None):
    """Batches of ({feature: tensor}, {label: tensor}); with a seed, reshuffled and repeated forever.

    Shuffling a range of indices and gathering whole batches keeps the shuffle buffer small and the
    per-batch work inside TensorFlow.
    """
    columns = {name: tf.constant(np.asarray(arrays[name])) for name in feature_names(meta) + list(LABELS)}
    size = len(arrays[LABELS[0]])
    indices = tf.data.Dataset.range(size)
    if shuffle_seed is not None:
        indices = indices.shuffle(size, seed=shuffle_seed, reshuffle_each_iteration=True).repeat()
    batches = indices.batch(batch_size).map(
        lambda index: ({name: tf.gather(columns[name], index) for name in feature_names(meta)},
                       {name: tf.gather(columns[name], index) for name in LABELS}),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)
