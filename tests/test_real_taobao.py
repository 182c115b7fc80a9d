"""The real Taobao sample (413 users, 9 days; ../shared/realdata/taobao/, read in place) imported as a
new user would, and every registry model trained on it briefly with the defaults: finite predictions
that vary, and every network's dev ranking clearly better than chance (a constant column once made
every network output one number here)."""
import contextlib
import io

import numpy as np
import pytest

import main_func
from preprocessing.sources.importers.__main__ import main as import_main
from tests.pipeline_fixtures import real_sample
from training.record.predictions import read_predictions

NETWORKS = ("DIEN", "DIN", "DNN", "DeepFM", "GRU_DNN", "GRU_FM", "ESSM")
BRIEF = ["max_epochs=1", "max_len=30"]  # one pass, recent history: the rest as config.py has it


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    real = real_sample("taobao", "UserBehavior-even-users.csv")
    root = tmp_path_factory.mktemp("taobao")
    with contextlib.redirect_stdout(io.StringIO()):
        import_main(["taobao", str(real), f"raw_dir={root / 'raw'}"])
    return root, [f"raw_dir={root / 'raw'}", f"processed_dir={root / 'processed'}", f"results_dir={root / 'results'}"]


@pytest.mark.parametrize("model", NETWORKS + ("RULE", "LR", "GBDT"))
def test_every_model_trains_on_the_real_taobao_sample_without_collapse(imported, model):
    root, settings = imported
    row = main_func.main(settings + BRIEF + [f"model={model}"])[0]
    predictions = read_predictions(root / "results" / row["run_id"])
    for split in ("dev", "test"):
        scores = predictions.loc[predictions["split"] == split, "p_main"].to_numpy()
        assert np.isfinite(scores).all() and len(np.unique(scores)) > len(scores) // 100
    assert row["dev_main_auc"] > 0.6, f"{model}: dev Main AUC {row['dev_main_auc']:.3f}"
    if model in NETWORKS:
        assert row["epochs"] <= 1.0 and len(row["dev_evaluations"]) >= 4
