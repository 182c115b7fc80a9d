"""The demo oracle on a small generated log: it covers every dev/test sample with chances in [0, 1]
that sort the labels far better than a count rule, it leaves the log as it was, and it is withheld
whenever it may not describe the processed samples."""
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import configurator
from errors import PipelineError
from preprocessing.pipeline import build_dataset
from preprocessing.sources import make_demo_data
from preprocessing.sources.demo_oracle import oracle_predictions, oracle_unavailable_reason

SMALL = ["demo_users=2000", "demo_items=800", "demo_categories=30", "use_item2vec=False", "max_len=20"]
# hash_pandas_object sums of the tables of this generator (since the reshaped demo of make_demo_data.Shape):
# computing the oracle must not move the log
SMALL_LOG_HASHES = [14706776888622432239, 9005260981421924228, 9406023827689666837]


def _cfg(root, name, *extra):
    return configurator.load(SMALL + [f"raw_dir={root / name / 'raw'}", f"processed_dir={root / name / 'processed'}",
                                      *extra])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The small log with its oracle, written and processed; the labels and oracle chances of dev and test."""
    root = tmp_path_factory.mktemp("oracle")
    cfg = _cfg(root, "demo")
    tables, oracle, info = make_demo_data.generate_with_oracle(cfg)
    make_demo_data.write(*tables, cfg.raw_dir, {"demo_seed": cfg.demo_seed}, oracle, info)
    build_dataset.ensure_dataset(cfg)
    splits = {}
    for split in ("dev", "test"):
        chances = oracle_predictions(cfg.raw_dir, cfg.processed_dir, split)
        labels = {name: np.load(cfg.processed_dir + f"/{split}/label_{name}.npy") for name in ("buy", "interact")}
        splits[split] = {"chances": chances, "labels": labels}
    return {"root": root, "cfg": cfg, "tables": tables, "oracle": oracle, "info": info, "splits": splits}


def test_the_log_is_the_one_generated_before_the_oracle(demo):
    assert [int(pd.util.hash_pandas_object(t, index=True).sum()) for t in demo["tables"]] == SMALL_LOG_HASHES
    for plain, beside in zip(make_demo_data.generate(demo["cfg"]), demo["tables"]):
        pd.testing.assert_frame_equal(plain, beside)


def test_every_dev_and_test_sample_gets_chances_in_0_1(demo):
    assert demo["info"] == {"label": ["2020-04-11", "2020-04-15"], "window_days": 5,
                            "repeats": make_demo_data.ORACLE_REPEATS}
    for split in demo["splits"].values():
        for name, label in (("main", "buy"), ("ctr", "interact")):
            chance = split["chances"][name]
            assert chance.shape == split["labels"][label].shape and len(chance) > 2000
            assert np.isfinite(chance).all() and chance.min() >= 0.0 and chance.max() <= 1.0


def test_chances_are_calibrated_and_higher_where_the_event_happens(demo):
    chances = {name: np.concatenate([s["chances"][name] for s in demo["splits"].values()]) for name in ("main", "ctr")}
    labels = {name: np.concatenate([s["labels"][name] for s in demo["splits"].values()]).astype(bool)
              for name in ("buy", "interact")}
    # about 75 orders but 1,000 interactions: the buy rate itself is only known to about 12%
    for name, label, ratio, tolerance in (("main", "buy", 10, 0.4), ("ctr", "interact", 2, 0.1)):
        chance, happened = chances[name], labels[label]
        assert chance[happened].mean() > ratio * chance[~happened].mean()
        assert abs(chance.mean() / happened.mean() - 1) < tolerance


def test_oracle_beats_a_count_rule(demo):
    """The rule: how many actions the pair had in the interaction range."""
    actions = demo["tables"][0]
    label_start = pd.Timestamp(demo["info"]["label"][0])
    window = actions[(actions["action_time"] >= label_start - pd.Timedelta(days=5))
                     & (actions["action_time"] < label_start)]
    counts = window.groupby(["user_log_acct", "item_sku_id"]).size()
    processed = demo["cfg"].processed_dir
    vocab = {name: np.load(f"{processed}/vocab/{name}.npy") for name in ("user", "item")}
    for split, values in demo["splits"].items():
        pairs = pd.MultiIndex.from_arrays([vocab[name][np.load(f"{processed}/{split}/{name}.npy")]
                                           for name in ("user", "item")])
        rule = counts.reindex(pairs).to_numpy()
        assert not np.isnan(rule).any()
        for name, label in (("main", "buy"), ("ctr", "interact")):
            truth = values["labels"][label]
            assert roc_auc_score(truth, values["chances"][name]) > roc_auc_score(truth, rule) + 0.05


def test_another_stream_gives_an_independent_oracle_close_to_the_first(demo):
    tables, other, _ = make_demo_data.generate_with_oracle(demo["cfg"], repeats=8, stream=2)
    pd.testing.assert_frame_equal(tables[0], demo["tables"][0])
    first = demo["oracle"]
    pd.testing.assert_frame_equal(other[["user_log_acct", "item_sku_id"]], first[["user_log_acct", "item_sku_id"]])
    # 8 repeats against 32: a direct order's chance moves with the buying intent, itself drawn day by
    # day, so p_buy is the noisier (two 32-repeat streams agree at 0.94)
    for column, least in (("p_buy", 0.85), ("p_interact", 0.9)):
        assert not np.array_equal(other[column], first[column])
        assert np.corrcoef(other[column], first[column])[0, 1] > least


def test_only_the_newest_window_has_an_oracle(demo):
    with pytest.raises(PipelineError, match="split='train'"):
        oracle_predictions(demo["cfg"].raw_dir, demo["cfg"].processed_dir, "train")


def test_other_window_settings_get_no_oracle(demo):
    cfg = _cfg(demo["root"], "demo", "window_days=4", "num_windows=3",
               f"processed_dir={demo['root'] / 'four_days'}")
    build_dataset.ensure_dataset(cfg)
    assert "is not the oracle's 2020-04-11..2020-04-15" in oracle_unavailable_reason(cfg.raw_dir, cfg.processed_dir)
    assert oracle_predictions(cfg.raw_dir, cfg.processed_dir, "dev") is None


def test_raw_data_without_an_oracle_or_changed_since_get_none(demo):
    cfg = demo["cfg"]
    plain = demo["root"] / "plain"
    make_demo_data.write(*demo["tables"], plain, {"demo_seed": cfg.demo_seed})
    assert "holds no demo_oracle.parquet" in oracle_unavailable_reason(plain, cfg.processed_dir)
    assert oracle_predictions(plain, cfg.processed_dir, "test") is None

    changed = demo["root"] / "changed"
    shutil.copytree(cfg.raw_dir, changed)
    users = pd.read_parquet(changed / "users.parquet")
    users.assign(age=users["age"][::-1].to_numpy()).to_parquet(changed / "users.parquet", index=False)
    assert "users.parquet changed since" in oracle_unavailable_reason(changed, cfg.processed_dir)
    assert oracle_predictions(changed, cfg.processed_dir, "test") is None


def test_a_dataset_built_from_other_raw_data_gets_none(demo):
    other = _cfg(demo["root"], "other", "demo_seed=5")
    make_demo_data.write(*make_demo_data.generate(other), other.raw_dir, {"demo_seed": 5})
    build_dataset.ensure_dataset(other)
    reason = oracle_unavailable_reason(demo["cfg"].raw_dir, other.processed_dir)
    assert "was not built from the raw files" in reason
    assert oracle_predictions(demo["cfg"].raw_dir, other.processed_dir, "dev") is None
