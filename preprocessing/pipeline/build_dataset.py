"""Builds the processed dataset (docs/data.md, "Processed data") from the raw log.

    python -m preprocessing.pipeline.build_dataset [key=value ...]      (what sh scr/pre_processing.sh runs)

Stages, one progress line each with its time: fingerprint the raw files, load them, encode ids,
sort actions by time and by user, cut windows and label their samples, split, dense item features,
write each split's arrays in chunks (item2vec trains meanwhile in a second process), then the
vocabularies and meta.json.
Everything is written into a temporary folder next to processed_dir and renamed over it at the
end, so an interrupted run leaves the previous dataset as it was. A dataset built from the same
raw files (content fingerprint) with the same settings is reused as it is.
"""
import contextlib
import hashlib
import json
import pathlib
import resource
import sys
import time

import numpy as np

import configurator
import signed_folder
from errors import run_cli
from preprocessing import processed_data
from preprocessing.pipeline import candidates, item2vec, pair_features, settings, side_features, standardisation
from preprocessing.pipeline.action_log import time_ordered
from preprocessing.pipeline.encoding import ITEM_SIDE, USER_SIDE, encode_log
from preprocessing.pipeline.samples import ORDER, sorted_unique, windows_samples
from preprocessing.pipeline.sequences import build_timeline, gather_seconds, run_sequences, user_runs
from preprocessing.pipeline.splits import split_parts
from preprocessing.pipeline.windows import day_of, describe_roles, make_windows, open_window
from preprocessing.processed_data import ID_ARRAYS, META, OPEN, SPLITS, TIME_ARRAY, BackgroundWrites, NpyWriter
from preprocessing.raw_data import load_raw, release_arrow_memory

RAW_TABLES = ("actions", "items", "users", "merged")  # file stems the raw-data loader reads
ACTION_VOCAB = 6  # action codes 1..5 plus padding
CHUNK_VALUES = 4_000_000  # sequence positions gathered per chunk: bounds the working memory


def progress(message):
    print(f"preprocessing: {message}", flush=True)


@contextlib.contextmanager
def stage(name):
    """Prints the stage's seconds and the process's peak resident memory so far (where a large log's
    memory goes)."""
    began = time.perf_counter()
    yield
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    progress(f"{name}: {time.perf_counter() - began:.2f} s, peak {peak / 2**30:.1f} GiB")


def fingerprinted_code():
    """The source files a dataset depends on: the pipeline's and those of the raw and processed formats
    it reads and writes (preprocessing/*.py), not preprocessing/sources/ (the demo generator, its
    oracle, the importers make raw data, not datasets)."""
    preprocessing = pathlib.Path(__file__).parents[1]
    paths = [*preprocessing.glob("*.py"), *preprocessing.glob("pipeline/*.py")]
    return dict(sorted((path.relative_to(preprocessing).as_posix(), path) for path in paths))


def code_fingerprint():
    """blake2b over fingerprinted_code() ({name in preprocessing/: path}): a dataset built by other
    code is rebuilt."""
    digest = hashlib.blake2b(digest_size=8)
    for name, path in fingerprinted_code().items():
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def raw_fingerprint(raw_dir):
    """blake2b over the names and contents of the raw tables in raw_dir (None when there are none)."""
    paths = sorted(p for p in pathlib.Path(raw_dir).glob("*") if p.is_file() and p.name.split(".")[0] in RAW_TABLES)
    if not paths:
        return None
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as file:
            digest.update(hashlib.file_digest(file, "blake2b").digest())
    return digest.hexdigest()


def _rows_of(samples, rows):
    return len(samples) if rows is None else len(rows)


def _chunks(samples, rows, chunk):
    """The row picks of one member of a split, chunk by chunk."""
    for begin in range(0, _rows_of(samples, rows), chunk):
        yield slice(begin, begin + chunk) if rows is None else rows[begin:begin + chunk]


def _write_split(folder, members, encoded, timeline, dense_tables, pair_tables, max_len, with_times=False,
                 candidate=None):
    """Writes the arrays of one split, chunk by chunk (with_times, the open split: hist_time as well, and
    `candidate` from the bool array candidate, one per sample of its single member); returns its
    meta.json["splits"] entry."""
    folder.mkdir()
    total = sum(_rows_of(s, rows) for s, rows in members)
    chunk = max(1, CHUNK_VALUES // max_len)
    # a run cut by a chunk's end is stored twice: a row more, and every chunk written in one pass
    runs = sum(len(user_runs(samples.user[pick])[0]) for samples, rows in members
               for pick in _chunks(samples, rows, chunk))
    shapes = {name: ((total,), np.int32) for name in ID_ARRAYS + (processed_data.SEQUENCE_ROW,)}
    if with_times:
        shapes[TIME_ARRAY] = ((runs, max_len), np.int64)
        shapes[processed_data.CANDIDATE_ARRAY] = ((total,), np.int8)
    shapes["dense"] = ((total, len(side_features.DENSE_COLUMNS)), np.float32)
    shapes["pair"] = ((total, len(pair_features.COLUMNS)), np.float32)
    shapes.update({name: ((runs, max_len), np.int32) for name in processed_data.SEQUENCE_ARRAYS})
    shapes.update({name: ((total,), np.float32) for name in processed_data.LABEL_ARRAYS})
    users, buys, interactions, runs_written = [], 0, 0, 0
    # on leaving, the files' closes are queued after their writes, then every write is waited for
    with BackgroundWrites() as writes, contextlib.ExitStack() as open_files:
        writers = {name: NpyWriter(folder / f"{name}.npy", dtype, shape, writes)
                   for name, (shape, dtype) in shapes.items()}
        for writer in writers.values():
            open_files.callback(writer.close)
        for samples, rows in members:
            for pick in _chunks(samples, rows, chunk):
                user, item = samples.user[pick], samples.item[pick]
                # samples are sorted by user: each run of one user shares one stored sequence
                starts, repeats = user_runs(user)
                run_users, run_ends = user[starts], samples.seq_end[pick][starts]
                columns = dict(zip(processed_data.SEQUENCE_ARRAYS, run_sequences(
                    timeline, encoded.item_side["cate"], run_users, run_ends, max_len)))
                columns[processed_data.SEQUENCE_ROW] = runs_written + np.repeat(np.arange(len(starts)), repeats)
                runs_written += len(starts)
                columns.update({"user": user, "item": item, "dense": dense_tables[samples.window.index][item],
                                "pair": pair_tables[samples.window.index][pick],
                                "label_buy": samples.label_buy[pick],
                                "label_interact": samples.label_interact[pick]})
                columns.update({name: encoded.item_side[name][item] for name in ITEM_SIDE})
                columns.update({name: encoded.user_side[name][user] for name in USER_SIDE})
                if with_times:
                    columns[TIME_ARRAY] = gather_seconds(timeline, run_users, run_ends, max_len)
                    columns[processed_data.CANDIDATE_ARRAY] = (np.zeros(len(user), np.int8) if candidate is None
                                                               else candidate[pick].astype(np.int8))
                for name, writer in writers.items():
                    writer.write(columns[name])
            picked = slice(None) if rows is None else rows
            users.append(sorted_unique(samples.user[picked], kind="stable"))
            buys += int(samples.label_buy[picked].sum())
            interactions += int(samples.label_interact[picked].sum())
    for writer in writers.values():
        writer.check_complete()
    return {"windows": [s.window.index for s, _ in members], "samples": total,
            "users": int(len(sorted_unique(np.concatenate(users), kind="stable"))),
            "buy_rate": buys / total, "interact_rate": interactions / total}


def _item2vec_training(cfg):
    """A started item2vec.BackgroundTraining when cfg wants item2vec (its process imports gensim
    meanwhile), else a context of None."""
    return item2vec.BackgroundTraining() if cfg.use_item2vec else contextlib.nullcontext()


def write_dataset(encoded, cfg, out_dir, raw_info, training=None):
    """Writes the whole dataset of an EncodedLog into the empty folder out_dir; returns the meta dict.
    training: an item2vec.BackgroundTraining started earlier, or None to start one here if needed.
    Drops the action arrays of encoded once they are sorted, to save memory."""
    if training is not None or not cfg.use_item2vec:
        return _write_dataset(encoded, cfg, pathlib.Path(out_dir), raw_info, training)
    with _item2vec_training(cfg) as training:
        return _write_dataset(encoded, cfg, pathlib.Path(out_dir), raw_info, training)


def _write_dataset(encoded, cfg, out_dir, raw_info, training):
    with stage(f"sort {len(encoded.time)} actions by time and by user"):
        log = time_ordered(encoded.user, encoded.item, encoded.action, encoded.time)
        encoded.user = encoded.item = encoded.action = encoded.time = None
        timeline = build_timeline(log, encoded.vocabs["user"].size)
    first_day, last_day = day_of(log.time[0]), day_of(log.time[-1])
    windows = make_windows(first_day, last_day, cfg)
    progress(describe_roles(windows))
    used = [w for w in windows if w.role in ("dev_test", "train")]
    forecast = open_window(first_day, last_day, cfg)
    item_vocab = encoded.vocabs["item"].size

    if training:
        newest_train = min((w for w in used if w.role == "train"), key=lambda w: w.index)
        sentences = item2vec.corpus(timeline, newest_train.feature_end_ns, cfg.w2v_max_tokens, cfg.split_seed)
        training.train(sentences, out_dir / item2vec.FILE, item_vocab, cfg, cfg.split_seed)

    with stage(f"samples and labels of {len(used)} windows"):
        # the open window's label range lies past the data, so its labels are all zero
        *samples, open_samples = windows_samples(log, timeline, used + [forecast], item_vocab)
        parts = split_parts(samples, cfg.split_by, cfg.split_seed)
        candidate = None
        if cfg.open_candidates:
            open_samples, candidate = candidates.with_candidates(log, timeline, open_samples,
                                                                 encoded.item_side["cate"], cfg.open_candidates)

    with stage("dense item features"):
        catalogue = side_features.catalogue_table(encoded)
        tables = {w.index: side_features.window_table(catalogue, encoded, log, w) for w in used + [forecast]}
        dense_scaling = standardisation.fit(
            side_features.training_rows([(tables[s.window.index], s.item) for s, _ in parts["train"]]))
        dense_tables = {index: dense_scaling.apply_in_place(table).astype(np.float32)
                        for index, table in tables.items()}
        del tables  # float64 [item vocabulary, D] per window: 1.5 GB at 4 million items

    with stage("user-item pair features"):
        sizes = {name: encoded.vocabs[name].size for name in ("item", "cate", "brand")}
        pairs = dict(zip([s.window.index for s in samples + [open_samples]], pair_features.pair_tables(
            log, timeline, samples + [open_samples], encoded.item_side, sizes)))
        pair_scaling = standardisation.fit([(pairs[s.window.index], None) for s, _ in parts["train"]])
        pair_tables = {index: pair_scaling.apply_in_place(table) for index, table in pairs.items()}

    split_meta = {}
    for split in SPLITS:
        with stage(f"write {split}"):
            split_meta[split] = _write_split(out_dir / split, parts[split], encoded, timeline,
                                             dense_tables, pair_tables, cfg.max_len)
    with stage(f"write {OPEN}"):
        open_meta = _write_split(out_dir / OPEN, [(open_samples, None)], encoded, timeline, dense_tables,
                                 pair_tables, cfg.max_len, with_times=True, candidate=candidate)
    if training:
        began = time.perf_counter()
        seconds = training.wait()
        progress(f"item2vec over {len(sentences.tokens)} tokens of {len(sentences)} users: {seconds:.2f} s "
                 f"in a second process, waited for {time.perf_counter() - began:.2f} s after the writing")

    vocab_dir = out_dir / "vocab"
    vocab_dir.mkdir()
    for name, vocab in encoded.vocabs.items():
        np.save(vocab_dir / f"{name}.npy", vocab.raw_values(), allow_pickle=False)
    counts = {s.window.index: len(s) for s in samples}
    vocab_sizes = {**{name: encoded.vocabs[name].size for name in ID_ARRAYS}, "action": ACTION_VOCAB}
    for name in processed_data.left_out_features(vocab_sizes):
        progress(f"feature {name!r} left out: the log has no known value of it")
    meta = {
        "format_version": processed_data.FORMAT_VERSION,
        "code_fingerprint": code_fingerprint(),
        "features": processed_data.describe_features(
            cfg.max_len, {"dense": side_features.DENSE_COLUMNS, "pair": pair_features.COLUMNS}, vocab_sizes),
        "vocab_sizes": vocab_sizes,
        "target_action": ORDER,
        "embed_dim": cfg.embed_dim,
        "max_len": cfg.max_len,
        "data_span": [str(first_day), str(last_day)],
        "windows": [{**w.describe(), "samples": counts.get(w.index)} for w in windows],
        "splits": split_meta,
        "open_window": {**forecast.describe(), "samples": open_meta["samples"], "users": open_meta["users"],
                        "candidates": int(candidate.sum()) if candidate is not None else 0},
        "dense": {"columns": list(side_features.DENSE_COLUMNS), **dense_scaling.describe()},
        "pair": {"columns": list(pair_features.COLUMNS), **pair_scaling.describe()},
        "settings": settings.used(cfg),
        **raw_info,
        "item2vec": item2vec.FILE if cfg.use_item2vec else None,
    }
    (out_dir / META).write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def build_from_frames(actions, items, users, cfg, out_dir, raw_info=None):
    """Writes the dataset of three raw tables (as raw_data.load_raw returns them) into out_dir."""
    settings.check(cfg)
    with stage("encode ids"):
        encoded = encode_log(actions, items, users)
    return write_dataset(encoded, cfg, out_dir, raw_info or {"raw_fingerprint": None, "raw_files": []})


def _is_up_to_date(processed, cfg, fingerprint):
    try:
        meta = json.loads((processed / META).read_text())
    except (OSError, ValueError):
        return False
    expected = json.loads(json.dumps(settings.used(cfg)))
    complete = all((processed / split / f"{name}.npy").is_file()
                   for split in SPLITS + (OPEN,) for name in processed_data.split_arrays(split))
    return (complete and fingerprint is not None and meta.get("format_version") == processed_data.FORMAT_VERSION
            and meta.get("settings") == expected and meta.get("raw_fingerprint") == fingerprint
            and meta.get("code_fingerprint") == code_fingerprint()
            and (not meta.get("item2vec") or (processed / meta["item2vec"]).is_file()))


def ensure_dataset(cfg):
    """Builds cfg.processed_dir from cfg.raw_dir unless an up-to-date one exists (same settings, same
    raw files); returns processed_dir as a pathlib.Path."""
    settings.check(cfg)
    imported = configurator.from_import_line(cfg)
    if imported:
        progress(imported)
    processed = pathlib.Path(cfg.processed_dir)
    signed_folder.clear_leftovers(processed, signed_folder.PROCESSED)
    with stage("fingerprint raw files"):
        fingerprint = raw_fingerprint(cfg.raw_dir)
    if _is_up_to_date(processed, cfg, fingerprint):
        damage = signed_folder.problem(processed, signed_folder.PROCESSED)
        if damage is None:
            progress(f"{processed} is up to date with {cfg.raw_dir} and the settings; reusing it")
            return processed
        progress(f"{processed} is up to date but {damage}; rebuilding it")
    building = signed_folder.stage(processed, signed_folder.PROCESSED, "processed_dir")
    began = time.perf_counter()
    try:
        with stage("load raw data"):
            raw = load_raw(cfg.raw_dir, allow_pickle=cfg.allow_pickle)
        raw_info = {"raw_fingerprint": fingerprint, "raw_files": sorted(p.name for p in raw.files),
                    "raw_repairs": raw.repairs}
        # started after the loading, which reads files on both cores, and before the single-threaded rest
        with _item2vec_training(cfg) as training:
            with stage("encode ids"):
                encoded = encode_log(raw.actions, raw.items, raw.users)
            del raw  # the DataFrames are no longer needed: free them before the arrays are built
            release_arrow_memory()
            meta = write_dataset(encoded, cfg, building, raw_info, training)
        signed_folder.swap_in(building, processed, signed_folder.PROCESSED, setting="processed_dir")
    except BaseException:
        signed_folder.discard(building, signed_folder.PROCESSED)
        raise
    rates = ", ".join(f"{split} {m['samples']} samples (buy {m['buy_rate']:.2%}, interact {m['interact_rate']:.2%})"
                      for split, m in meta["splits"].items())
    progress(f"wrote {processed} in {time.perf_counter() - began:.1f} s: {rates}")
    return processed


def main(argv):
    ensure_dataset(configurator.load(argv))


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
