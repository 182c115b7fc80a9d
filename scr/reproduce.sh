#!/bin/sh
# The original's claim on the demo log: the seven single models, the baselines RULE and GBDT and
# ESSM(DIEN, GRU_DNN), three seeds each, plus ESSM without item2vec, then the study's report in
# ddata/results/studies/reproduce/ (each model against ESSM with item2vec, paired intervals).
# Training settings: configs/demo.py, then configs/reproduce.py, then key=value arguments, e.g. a
# quick check of the machinery:
#   sh scr/reproduce.sh demo_users=1500 demo_items=800 seeds=[16,17] study=reproduce-tiny
# About an hour on a quiet 2-core CPU; killed, it resumes with the runs not yet done.
set -e
cd "$(dirname "$0")/.."
. scr/python_env.sh
sh scr/make_demo_data.sh config=configs/demo.py config=configs/reproduce.py "$@"
"$PYTHON" -m training.studies.sweep config=configs/demo.py config=configs/reproduce.py \
    model=DIEN,DIN,DNN,DeepFM,GRU_DNN,GRU_FM,RULE,GBDT,ESSM "$@"
"$PYTHON" -m training.studies.sweep config=configs/demo.py config=configs/reproduce.py model=ESSM use_item2vec=False "$@"
"$PYTHON" -m training.studies.report config=configs/demo.py config=configs/reproduce.py \
    "baseline=ESSM(DIEN, GRU_DNN)" "$@"
