"""Feature statistics in float64 two passes; a column constant on train becomes 0 on every split."""
import numpy as np

import configurator
from preprocessing.pipeline import standardisation
from preprocessing.processed_data import load_meta, load_split
from preprocessing.sources import make_demo_data
from tests.test_preprocessing import build


def test_spread_matches_numpy_for_a_large_column_with_a_small_spread():
    rng = np.random.default_rng(0)
    table = (1e6 + rng.normal(0.0, 1e-2, size=(200_000, 1))).astype(np.float64)
    fitted = standardisation.fit([(table, None)])
    np.testing.assert_allclose(fitted.std, table.std(axis=0), rtol=1e-6)
    assert not fitted.constant.any()


def test_weights_count_rows_as_repeated_samples():
    table = np.array([[1.0, 5.0], [3.0, 5.0], [10.0, 5.0]])
    weights = np.array([2, 1, 0])
    fitted = standardisation.fit([(table, weights)])
    repeated = np.repeat(table, weights, axis=0)
    np.testing.assert_allclose(fitted.mean, repeated.mean(axis=0))
    np.testing.assert_allclose(fitted.std[0], repeated[:, 0].std())
    assert fitted.constant.tolist() == [False, True] and fitted.std[1] == 1.0


def test_a_constant_column_of_large_magnitude_is_zero_on_every_split_even_where_it_varies():
    train = np.full((100_003, 2), 10.070822, np.float32)
    train[:, 1] = np.arange(len(train)) % 7
    fitted = standardisation.fit([(train[:50_000], None), (train[50_000:], None)])
    assert fitted.constant.tolist() == [True, False]
    dev = np.array([[10.3, 1.0], [9.0, 2.0]], np.float32)
    scaled = fitted.apply_in_place(dev.copy())
    assert scaled[:, 0].tolist() == [0.0, 0.0], "a column constant on train carries nothing to dev"
    np.testing.assert_allclose(scaled[:, 1], (dev[:, 1] - fitted.mean[1]) / fitted.std[1], rtol=1e-6)
    assert fitted.describe()["constant"] == [True, False]


def test_a_log_without_vendors_gives_bounded_dense_features_on_every_split(tmp_path):
    """The vendor action count is the same for every sample of a log without vendors in its one
    training window; on train its
    one-pass spread came out as rounding noise, which scaled other splits' values to ~1e5."""
    actions, items, users = make_demo_data.generate(configurator.load(
        ["demo_users=1500", "demo_items=600", "demo_categories=20"]))
    items = items.assign(vender_id=np.int64(-1))
    out = build(tmp_path, (actions, items, users), ["use_item2vec=False", "max_len=10", "num_windows=3"])
    meta = load_meta(out)
    vendor = meta["dense"]["columns"].index("log_vendor_actions")
    for split in ("train", "dev", "test", "open"):
        arrays = load_split(out, split)
        for name in ("dense", "pair"):
            assert np.isfinite(arrays[name]).all()
            assert np.abs(arrays[name]).max() < 100, f"{split} {name}: a column scaled by rounding noise"
        assert (arrays["dense"][:, vendor] == 0).all()
    assert meta["dense"]["constant"][vendor]
