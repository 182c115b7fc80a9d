"""The benchmark's arrays in the peers' conventions, and the peer runners' command line.

Runs inside a peer's own virtual environment, so it needs numpy only. The arrays are the ones our
models train on (see bench_arrays.py); the peers differ only in convention: sequences padded at the
end with their length as a feature (`seq_length`), the target action as the query of the action
channel, and sampled negative sequences for DIEN's auxiliary net.
"""
import argparse

import numpy as np

import bench_arrays

SEQ_LENGTH = "seq_length"


def parse_args(models):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder written by bench_arrays.write_folder")
    parser.add_argument("--model", required=True, choices=models)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat-budget-s", type=float, default=30.0)
    return parser.parse_args()


def history_lengths(meta, arrays):
    """Steps after the front padding of each row, over all sequence channels (an unknown id inside a
    sequence is 0 too, so the length is where the first non-zero id of any channel stands)."""
    sequences = [arrays[f["name"]] for f in meta["features"] if f["kind"] == "sequence"]
    real = np.logical_or.reduce([sequence != 0 for sequence in sequences])
    width = real.shape[1]
    return np.where(real.any(axis=1), width - real.argmax(axis=1), 0)


def pad_at_end(sequence, length):
    """Rows padded in front with 0 (ours) moved to padding at the end (the peers')."""
    width = sequence.shape[1]
    shift = (np.arange(width)[None, :] + (width - length)[:, None]) % width
    return np.take_along_axis(sequence, shift, axis=1)


def peer_arrays(meta, arrays, negatives=False, seed=0):
    """Inputs by name in the peers' conventions.

    Sequence `hist_X` pairs with query `X` (the target's feature, or a constant `target_action`
    array for the action channel). With `negatives`, `neg_hist_X` holds a random id per real step
    (items and categories resampled, actions kept), as DIEN's auxiliary net expects.
    """
    rng = np.random.default_rng(seed)
    lengths = history_lengths(meta, arrays)
    out = {}
    for feature in meta["features"]:
        name = feature["name"]
        if feature["kind"] == "dense":
            out[dense_name(feature)] = arrays[name]
            continue
        if feature["kind"] == "sparse":
            out[name] = arrays[name]
            continue
        padded = pad_at_end(arrays[name], lengths)
        out[name] = padded
        query = query_name(feature)
        if feature["target"] is None:
            out[query] = np.full(len(padded), meta["target_action"], dtype=padded.dtype)
        if negatives:
            if feature["vocab"] == "action":
                out["neg_" + name] = padded
            else:
                sampled = rng.integers(1, meta["vocab_sizes"][feature["vocab"]], size=padded.shape)
                real = np.arange(padded.shape[1])[None, :] < lengths[:, None]
                out["neg_" + name] = np.where(real, sampled, 0).astype(padded.dtype)
    out[SEQ_LENGTH] = lengths.astype(np.int32)
    return out


def feature_columns(meta, sizes, classes, negatives):
    """DeepCTR-style feature columns (both libraries share the form) and the history feature list.

    `classes` are the library's (SparseFeat, VarLenSparseFeat, DenseFeat). Each sequence shares its
    embedding table with its query, through the vocabulary name.
    """
    SparseFeat, VarLenSparseFeat, DenseFeat = classes

    size = sizes["embed_dim"]
    vocab = meta["vocab_sizes"]
    columns, history = [], []
    for feature in meta["features"]:
        name = feature["name"]
        if feature["kind"] == "sparse":
            columns.append(SparseFeat(name, vocab[feature["vocab"]], size, embedding_name=feature["vocab"]))
        elif feature["kind"] == "dense":
            columns.append(DenseFeat(dense_name(feature), feature["dim"]))
    for feature in meta["features"]:
        if feature["kind"] != "sequence":
            continue
        query = query_name(feature)
        history.append(query)
        if feature["target"] is None:
            columns.append(SparseFeat(query, vocab[feature["vocab"]], size, embedding_name=feature["vocab"]))
        names = [feature["name"]] + ["neg_" + feature["name"]] * negatives
        for name in names:
            sparse = SparseFeat(name, vocab[feature["vocab"]], size, embedding_name=feature["vocab"])
            columns.append(VarLenSparseFeat(sparse, feature["max_len"], length_name=SEQ_LENGTH))
    return columns, history


def dense_name(dense_feature):
    """The input name of a dense feature: `dense` itself would clash with Keras's Dense layer names."""
    return dense_feature["name"] + "_values"


def query_name(sequence_feature):
    """The query feature a sequence is attended with: its target, else the part after `hist_`."""
    return sequence_feature["target"] or sequence_feature["name"][len("hist_"):]


def build_peer_model(args, feature_classes, din_class, dien_class):
    """(model, inputs, arrays, sizes): the benchmark folder's DIN or DIEN, built the same way through
    DeepCTR's or deepctr-torch's matching APIs (feature_classes: their SparseFeat, VarLenSparseFeat,
    DenseFeat); DIEN as the libraries' own examples run it: AUGRU with negative sampling."""
    meta, arrays, sizes = bench_arrays.load_folder(args.data)
    dien = args.model == "DIEN"
    inputs = peer_arrays(meta, arrays, negatives=dien)
    columns, history = feature_columns(meta, sizes, feature_classes, negatives=dien)
    if dien:
        model = dien_class(columns, history, gru_type="AUGRU", use_negsampling=True,
                           dnn_hidden_units=sizes["mlp_units"], att_hidden_units=sizes["attention_units"])
    else:
        model = din_class(columns, history, dnn_hidden_units=sizes["mlp_units"],
                          att_hidden_size=sizes["attention_units"])
    return model, inputs, arrays, sizes
