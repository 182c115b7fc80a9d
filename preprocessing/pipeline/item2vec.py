"""gensim item2vec: Word2Vec (skip-gram) over users' item sequences, as an initial item embedding
aligned with the item index.

Only actions before the newest training window's feature end are used, so nothing the dev/test
window holds (its interactions or labels) reaches the matrix. The label days of the older training
windows are in the corpus on purpose: the matrix only initialises a trainable embedding that
training fits to those same labels anyway, and cutting them would leave the newest training days
out (docs/studies.md, "item2vec and the training labels"). Items the corpus lacks get small
random rows (seeded); row 0, padding, is zero.
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

from errors import PipelineError

FILE = "item2vec.npy"
CORPUS_FILE = "item2vec_corpus.npz"  # handed to the training process, removed once it is done
ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository root, for the child's imports


class Sentences:
    """Re-iterable corpus (gensim reads it once for the vocabulary and once per epoch): each user's
    item indices in time order, one list per user."""

    def __init__(self, tokens, bounds):
        self.tokens = tokens
        self.bounds = bounds

    def __iter__(self):
        for start, end in zip(self.bounds[:-1].tolist(), self.bounds[1:].tolist()):
            yield self.tokens[start:end].tolist()

    def __len__(self):
        return len(self.bounds) - 1


def corpus(timeline, end_ns, max_tokens, seed):
    """Sentences of the actions before end_ns. Repeats of one item in a row (browse, cart, order of
    the same item) are one token: they add no context. Beyond max_tokens, whole users are kept in
    a seeded random order until the budget is spent, bounding the training time."""
    user, item = timeline.user, timeline.item[:-1]
    keep = timeline.time < end_ns
    keep[1:] &= (item[1:] != item[:-1]) | (user[1:] != user[:-1])
    tokens, owners = item[keep], user[keep]
    first_of_user = np.ones(len(owners), dtype=bool)
    first_of_user[1:] = owners[1:] != owners[:-1]
    bounds = np.append(np.flatnonzero(first_of_user), len(tokens))
    if len(tokens) > max_tokens:
        lengths = np.diff(bounds)
        order = np.random.default_rng(seed).permutation(len(lengths))
        chosen = np.sort(order[np.cumsum(lengths[order]) <= max_tokens])
        lengths = lengths[chosen]
        kept_bounds = np.concatenate([[0], np.cumsum(lengths)])
        tokens = tokens[np.arange(kept_bounds[-1]) - np.repeat(kept_bounds[:-1] - bounds[chosen], lengths)]
        bounds = kept_bounds
    return Sentences(tokens, bounds)


def item2vec_matrix(sentences, item_vocab_size, embed_dim, window, min_count, sample, epochs, seed):
    """float32 [item vocab, embed_dim]: Word2Vec vectors for the items the corpus has (seen at least
    min_count times), small seeded random rows for the others, zeros for padding."""
    from gensim.models import Word2Vec  # imported here: it takes a second or two, not needed without item2vec

    rng = np.random.default_rng(seed)
    matrix = (rng.uniform(-0.5, 0.5, (item_vocab_size, embed_dim)) / embed_dim).astype(np.float32)
    # workers=1: with more threads Word2Vec's result depends on thread scheduling
    model = Word2Vec(vector_size=embed_dim, window=window, min_count=min_count, sample=sample, sg=1, epochs=epochs,
                     seed=seed, workers=1)
    model.build_vocab(sentences)
    if len(model.wv):
        model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
        matrix[np.asarray(model.wv.index_to_key, dtype=np.int64)] = model.wv.vectors
    matrix[0] = 0.0
    return matrix


class BackgroundTraining:
    """Trains item2vec in a child Python process while the caller goes on (a thread would fight the
    caller for the GIL). The child starts at once and imports gensim while the caller prepares the
    corpus; train() hands it over, wait() returns when the matrix is written. A context manager:
    leaving it before wait() stops the child."""

    def __init__(self):
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, "-m", "preprocessing.pipeline.item2vec"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env={**os.environ, "PYTHONPATH": path})
        self.corpus_path = None

    def train(self, sentences, out_path, item_vocab_size, cfg, seed):
        """Starts training on sentences; the child writes the matrix to out_path."""
        self.corpus_path = pathlib.Path(out_path).with_name(CORPUS_FILE)
        np.savez(self.corpus_path, tokens=sentences.tokens, bounds=sentences.bounds)
        params = {"item_vocab_size": item_vocab_size, "embed_dim": cfg.embed_dim, "window": cfg.w2v_window,
                  "min_count": cfg.w2v_min_count, "sample": cfg.w2v_sample, "epochs": cfg.w2v_epochs, "seed": seed}
        self.process.stdin.write(json.dumps({"corpus": str(self.corpus_path), "out": str(out_path),
                                             "params": params}) + "\n")
        self.process.stdin.close()
        self.process.stdin = None  # handed over: communicate() must not flush it again

    def wait(self):
        """Seconds the child spent reading the corpus, training and writing (not the time it waited
        for this call); PipelineError if it failed."""
        reported, errors = self.process.communicate()
        self.corpus_path.unlink(missing_ok=True)
        if self.process.returncode:
            last = (errors.strip().splitlines() or ["no message"])[-1]
            raise PipelineError(f"item2vec training failed (exit status {self.process.returncode}): {last}")
        return json.loads(reported)["seconds"]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            self.process.kill()
        with self.process:  # closes the pipes, waits for the exit
            pass
        if self.corpus_path:
            self.corpus_path.unlink(missing_ok=True)


def main():
    """The child of BackgroundTraining: reads one request line on stdin, writes the matrix."""
    import gensim.models  # noqa: F401  (imported before the request comes: it takes a second or two)

    line = sys.stdin.readline()
    if not line:
        return
    began = time.perf_counter()
    request = json.loads(line)
    with np.load(request["corpus"], allow_pickle=False) as corpus:
        sentences = Sentences(corpus["tokens"], corpus["bounds"])
    np.save(request["out"], item2vec_matrix(sentences, **request["params"]), allow_pickle=False)
    print(json.dumps({"seconds": time.perf_counter() - began}))


if __name__ == "__main__":
    main()
