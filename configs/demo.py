"""The demo job's training settings (sh scr/run_all.sh): about 15 minutes on a 2-core CPU.

    python main_func.py config=configs/demo.py [key=value ...]    (key=value arguments win)
"""
max_epochs = 3  # a few passes over the demo log's training split
eval_every = 25  # steps between dev evaluations: several per pass on the demo data
patience = 4  # evaluations without a better dev Main AUC before stopping
