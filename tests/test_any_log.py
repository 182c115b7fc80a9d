"""Any valid log trains: without side tables, or with items that know only their category, the
features with no known value leave the feature description and every kind of model still trains."""
import numpy as np
import pytest

import configurator
import main_func
from preprocessing.processed_data import load_meta
from preprocessing.sources import make_demo_data

TINY = ["max_len=20", "embed_dim=8", "mlp_units=[16]", "attention_units=[8]", "gru_units=8", "dien_gru_units=8",
        "dien_augru_units=8", "dien_aux_units=[8]", "batch_size=512", "eval_every=5", "patience=1",
        "max_epochs=1", "use_item2vec=False"]


@pytest.fixture(scope="module")
def demo_log():
    # 1,600 users: on the reshaped demo 800 left too few foreseeable buys for a one-pass model to beat chance
    return make_demo_data.generate(configurator.load(["demo_users=1600", "demo_items=800", "demo_categories=12"]))


def write_log(folder, actions, items=None):
    folder.mkdir()
    actions.to_parquet(folder / "actions.parquet")
    if items is not None:
        items.to_parquet(folder / "items.parquet")
    return folder


@pytest.mark.parametrize("form", ["actions only", "items with their category only"])
def test_a_log_with_unknown_side_attributes_trains_every_kind_of_model(demo_log, tmp_path, form, capsys):
    actions, items, _ = demo_log
    if form == "actions only":
        raw = write_log(tmp_path / "raw", actions)
        left_out = {"cate", "brand", "shop", "vendor", "age", "sex", "user_level", "province", "city", "county"}
    else:
        category_only = items[["item_sku_id", "item_third_cate_cd"]].assign(
            brand_code=np.int64(-1), shop_id=np.int64(-1), vender_id=np.int64(-1), shop_score=-1.0)
        raw = write_log(tmp_path / "raw", actions, category_only)
        left_out = {"brand", "shop", "vendor", "age", "sex", "user_level", "province", "city", "county"}
    settings = [f"raw_dir={raw}", f"processed_dir={tmp_path / 'processed'}", f"results_dir={tmp_path / 'results'}"]
    rows = [main_func.main(settings + TINY + [f"model={model}"])[0] for model in ("DIN", "ESSM")]
    meta = load_meta(tmp_path / "processed")
    names = {f["name"] for f in meta["features"]}
    assert not names & left_out and {"item", "hist_item", "hist_action", "pair"} <= names
    assert ("hist_cate" in names) == ("cate" not in left_out)
    printed = capsys.readouterr().out
    for name in sorted(left_out):
        assert f"feature {name!r} left out: the log has no known value of it" in printed
    for row in rows:
        assert 0.5 < row["test_main_auc"] <= 1.0
