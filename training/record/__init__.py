"""The record of runs: runs.csv, the metrics it holds, per-sample predictions, dev curves, and the
folders run outputs are written into."""
