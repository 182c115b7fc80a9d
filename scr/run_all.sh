#!/bin/sh
# The main job on the demo data: set-up, demo log, preprocessing, the two baselines (RULE, GBDT),
# training and evaluation of the default model (ESSM with DIEN as CTR tower and GRU_DNN as CVR
# tower), ending with the comparison of the three beside the demo's oracle. The demo settings
# (configs/demo.py) keep it within 15 minutes on a 2-core CPU; extra key=value arguments go to
# the trained model, e.g.: sh scr/run_all.sh model=DIN
set -e
cd "$(dirname "$0")/.."
PYTHON=$(sh scr/install_requirements.sh)
export PYTHON
sh scr/prepare_dir.sh
sh scr/make_demo_data.sh config=configs/demo.py
sh scr/pre_processing.sh config=configs/demo.py
"$PYTHON" main_func.py config=configs/demo.py model=RULE
"$PYTHON" main_func.py config=configs/demo.py model=GBDT
"$PYTHON" main_func.py config=configs/demo.py "$@"
"$PYTHON" -m training.studies.comparison config=configs/demo.py "$@"
cat <<'NEXT'

Outputs: ddata/raw/ (the demo log), ddata/processed/ (its arrays), ddata/results/runs.csv (a row per
run) and ddata/results/<run id>/ (weights, dev curve, predictions, TensorBoard log).
Next:
  sh scr/predict.sh top_k=100                  who buys what in the days after the log, with reasons
  sh scr/train.sh config=configs/demo.py model=DIN      another model on the same data
  sh scr/compare.sh config=configs/demo.py     every model's latest runs side by side
  sh scr/sweep.sh config=configs/demo.py model=DIN,DNN seeds=[16,17,18] study=mine && sh scr/report.sh study=mine
NEXT
