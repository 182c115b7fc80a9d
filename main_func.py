"""Trains the model of config.py on the processed data and reports dev and test metrics.

    python main_func.py [key=value ...]      e.g.  python main_func.py model=DIN seeds=[16,17,18]

Reads ddata/processed/ (building it from ddata/raw/ first when missing or stale), trains one run
per seed with early stopping on dev Main AUC, evaluates the best weights on test, appends a row per
seed to ddata/results/runs.csv and prints mean ± std over the seeds (training/loop/train.py).
"""
import sys

import configurator
from errors import run_cli


def main(argv):
    configurator.load(argv)  # bad settings or an unknown model: refused before TensorFlow takes seconds to load
    from training.loop.train import main as train

    return train(argv)


if __name__ == "__main__":
    sys.exit(run_cli(main, sys.argv[1:]))
