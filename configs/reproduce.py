"""The reproduction of the original's comparison (sh scr/reproduce.sh): applied after configs/demo.py,
whose training settings it keeps, adding the study's name and its three seeds.

    sh scr/reproduce.sh [key=value ...]    (key=value arguments win, e.g. seeds=[16,17])
"""
study = "reproduce"  # runs.csv tag and report folder: ddata/results/studies/reproduce/
seeds = [16, 17, 18]  # the original's seed 16 and two more, for a spread and paired intervals
