"""tf.data input: model features and the two labels of a split, batched and prefetched."""
import numpy as np
import tensorflow as tf

from preprocessing.processed_data import SEQUENCE_ARRAYS, SEQUENCE_ROW

LABELS = ("label_buy", "label_interact")


def feature_names(meta):
    return [feature["name"] for feature in meta["features"]]


def make_dataset(arrays, meta, batch_size, shuffle_seed=None):
    """Batches of ({feature: tensor}, {label: tensor}); with a seed, reshuffled and repeated forever.

    Shuffling a range of indices and gathering whole batches keeps the shuffle buffer small and the
    per-batch work inside TensorFlow. Sequences stored one row per run (processed data) are gathered
    through SEQUENCE_ROW; arrays without it hold one sequence per sample.
    """
    names = feature_names(meta) + list(LABELS)
    indirect = SEQUENCE_ROW in arrays
    columns = {name: tf.constant(np.asarray(arrays[name])) for name in names + [SEQUENCE_ROW] * indirect}
    size = len(arrays[LABELS[0]])
    indices = tf.data.Dataset.range(size)
    if shuffle_seed is not None:
        indices = indices.shuffle(size, seed=shuffle_seed, reshuffle_each_iteration=True).repeat()

    def gather(index):
        rows = tf.gather(columns[SEQUENCE_ROW], index) if indirect else index
        features = {name: tf.gather(columns[name], rows if name in SEQUENCE_ARRAYS else index)
                    for name in feature_names(meta)}
        return features, {name: tf.gather(columns[name], index) for name in LABELS}

    batches = indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return batches.prefetch(tf.data.AUTOTUNE)
