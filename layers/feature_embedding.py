"""The embedding of the processed data's feature description (meta.json["features"]).

One table per vocabulary, shared by every feature that uses it: the history channel `hist_item`
and the target `item` look up the same item table, and so on. Each sequence channel is paired with
a query: the embedding of its target feature, or of the constant `target_action` for a channel
without one (the action type of the target is "order", as in the original).

Lookups hand back a dense gradient for their table, summed per id once. A plain gather's gradient
is a list of 2048 × 100 rows (IndexedSlices) that Keras turns dense again for each use (the global
norm for clipping, the scaling, the update): that was an eighth of a DIEN training step. A table of
more than `sparse_above` ids is the exception: there a dense gradient, and Adam's update of every
row, cost in proportion to the table, so its lookups hand back IndexedSlices for
training/loop/lazy_adam.py to update row by row.
"""
import keras
import tensorflow as tf
from keras import ops

_INIT_SCALE = 0.05  # uniform(-0.05, 0.05), Keras's default for embeddings


@tf.custom_gradient
def _take_rows(table, ids):
    """table[ids], with the table's gradient as a dense tensor."""
    def grad(d_rows):
        width = tf.shape(table)[-1]
        d_table = tf.math.unsorted_segment_sum(tf.reshape(d_rows, [-1, width]), tf.reshape(ids, [-1]),
                                               tf.shape(table)[0])
        return d_table, None

    return tf.gather(table, ids), grad


@keras.saving.register_keras_serializable(package="purchase")
class FeatureEmbedding(keras.layers.Layer):
    """call({feature name: ids or dense values}) -> dict of embeddings:

    - "side": {name: [B, d]} for sparse features that are no sequence's target;
    - "query": {sequence name: [B, d]} the paired target of each sequence channel;
    - "sequence": {sequence name: [B, T, d]}; "present": {sequence name: [B, T] bool} (id != 0);
    - "dense": [B, D] the dense features side by side (absent when there are none);
    - for the sequence channels named in `first_order` (FM towers), one learned scalar per id as
      well: "side_first" {name: [B]}, "query_first" and "sequence_first" {sequence name: [B], [B, T]}.

    `item2vec` ([item vocabulary, embed_dim]) initialises the table of vocabulary `item_vocab`.
    Tables of more than `sparse_above` ids (None: no table) get sparse gradients.
    `l2` > 0 adds, in training, l2 × the batch mean of the squared norms of the rows each sample looks
    up for its target and side features: the mini-batch aware regularisation of the DIN paper, which
    touches only the rows in the batch (a whole-table penalty would cost a 4M-item table every step).
    """

    def __init__(self, features, vocab_sizes, embed_dim, target_action, first_order=(), item_vocab="item",
                 item2vec=None, sparse_above=None, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l2 = float(l2)
        self.features = [dict(f) for f in features]
        self.vocab_sizes = {k: int(v) for k, v in vocab_sizes.items()}
        self.embed_dim = int(embed_dim)
        self.target_action = int(target_action)
        self.first_order = list(first_order)
        self.item_vocab = item_vocab
        self.item2vec = item2vec
        self.sparse_above = sparse_above
        self.sparse_vocabs = {v for v, size in self.vocab_sizes.items()
                              if sparse_above is not None and size > sparse_above}
        sequences = [f for f in self.features if f["kind"] == "sequence"]
        paired = {f["target"] for f in sequences}
        self.side_names = [f["name"] for f in self.features if f["kind"] == "sparse" and f["name"] not in paired]
        self.sequence_names = [f["name"] for f in sequences]
        self.dense_names = [f["name"] for f in self.features if f["kind"] == "dense"]
        self.vocab_of = {f["name"]: f["vocab"] for f in self.features if f["kind"] in ("sparse", "sequence")}
        self.target_of = {f["name"]: f["target"] for f in sequences}
        vocabs = sorted(set(self.vocab_of.values()))
        self.tables = {v: self._table(v, self.embed_dim) for v in vocabs}
        first_order_vocabs = {self.vocab_of[n] for n in self.side_names + self.first_order} if first_order else ()
        self.first_order_tables = {v: self._table(v, 1, initializer="zeros") for v in sorted(first_order_vocabs)}

    def _table(self, vocab, width, initializer=None):
        initializer = initializer or keras.initializers.RandomUniform(-_INIT_SCALE, _INIT_SCALE)
        suffix = "_first_order" if width == 1 else ""
        return keras.layers.Embedding(self.vocab_sizes[vocab], width, embeddings_initializer=initializer,
                                      name=f"{vocab}{suffix}")

    def build(self, input_shape):
        for table in [*self.tables.values(), *self.first_order_tables.values()]:
            table.build((None,))
        if self.item2vec is not None:
            self.tables[self.item_vocab].embeddings.assign(ops.convert_to_tensor(self.item2vec, "float32"))
            self.item2vec = None  # copied into the table; no second copy kept

    def _lookup(self, tables, name, ids):
        vocab, ids = self.vocab_of[name], ops.cast(ids, "int32")
        if vocab in self.sparse_vocabs:
            return tf.gather(tables[vocab].embeddings.value, ids)  # gradient: IndexedSlices
        return _take_rows(tf.convert_to_tensor(tables[vocab].embeddings), ids)

    def _query_ids(self, inputs, sequence):
        target = self.target_of[sequence]
        if target is not None:
            return inputs[target]
        return ops.full_like(inputs[sequence][:, 0], self.target_action)

    def call(self, inputs, training=None):
        out = {
            "side": {n: self._lookup(self.tables, n, inputs[n]) for n in self.side_names},
            "query": {s: self._lookup(self.tables, s, self._query_ids(inputs, s)) for s in self.sequence_names},
            "sequence": {s: self._lookup(self.tables, s, inputs[s]) for s in self.sequence_names},
            "present": {s: ops.not_equal(inputs[s], 0) for s in self.sequence_names},
        }
        if self.dense_names:
            out["dense"] = ops.concatenate([ops.cast(inputs[n], "float32") for n in self.dense_names], axis=-1)
        if self.first_order:
            first = self.first_order_tables
            out["side_first"] = {n: self._lookup(first, n, inputs[n])[..., 0] for n in self.side_names}
            out["query_first"] = {s: self._lookup(first, s, self._query_ids(inputs, s))[..., 0]
                                  for s in self.first_order}
            out["sequence_first"] = {s: self._lookup(first, s, inputs[s])[..., 0] for s in self.first_order}
        if training and self.l2 > 0:
            rows = list(out["side"].values()) + list(out["query"].values())
            self.add_loss(self.l2 * ops.mean(sum(ops.sum(ops.square(r), axis=-1) for r in rows)))
        return out

    def get_config(self):
        # item2vec only initialises the table; trained values travel with the weights
        return {**super().get_config(), "features": self.features, "vocab_sizes": self.vocab_sizes,
                "embed_dim": self.embed_dim, "target_action": self.target_action,
                "first_order": self.first_order, "item_vocab": self.item_vocab,
                "sparse_above": self.sparse_above, "l2": self.l2}
