#!/bin/sh
# The main job on the demo data: set-up, demo log, preprocessing, training and evaluation of the
# default model (ESSM with DIEN as CTR tower and GRU_DNN as CVR tower), ending with the AUC table.
# Demo-sized training settings keep it within 15 minutes on a 2-core CPU; extra key=value
# arguments go to training, e.g.: sh scr/run_all.sh model=DIN
set -e
cd "$(dirname "$0")/.."
sh scr/install_requirements.sh
sh scr/prepare_dir.sh
sh scr/make_demo_data.sh
sh scr/pre_processing.sh
${PYTHON:-python3} main_func.py max_epochs=3 eval_every=25 patience=4 "$@"
